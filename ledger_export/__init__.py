"""ledger-export: Amili payouts to SIE 4, an audit workbook and self-invoice PDFs."""

from ledger_export.core.version import __version__

__all__ = ["__version__"]
