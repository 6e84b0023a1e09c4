"""ledger-export: Amili payouts to SIE 4, an audit workbook and self-invoice PDFs.

The names a program using ledger-export as a library needs, from their layers::

    import ledger_export as le

    config = le.load_config("ledger-export.toml")
    result = le.export(config, le.month("2025-06"), le.ExportOptions(strict=True))
    findings = le.validate_sie_file(result.folder / "ledger-2025-06.si")

Everything else is internal and may move between versions. tests/test_public_api.py
pins this list.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

from ledger_export.core.version import __version__

if TYPE_CHECKING:
    from ledger_export.core.errors import (AmiliError, ConfigError, LedgerExportError, OutputError, PeriodError,
                                           RecordError, SnapshotError)
    from ledger_export.core.lock import LockedError
    from ledger_export.core.period import Period, date_range, month, quarter
    from ledger_export.jobs.config import Config
    from ledger_export.jobs.config import load as load_config
    from ledger_export.jobs.export import ExportOptions, ExportResult, ReconciliationFailed, export
    from ledger_export.jobs.register import Register
    from ledger_export.jobs.register_check import AlreadyExportedError, RegisterError
    from ledger_export.ledger.chart import ChartError
    from ledger_export.sie.model import SieError, SieFinding
    from ledger_export.sie.validate import validate_file as validate_sie_file

# Public name -> (module, name there). Loaded on first use: `import ledger_export.core.errors`
# (and so the CLI's start, `ledger-export --version`, every sandbox process) must not pay for
# the export job's imports (xlsxwriter, jinja2, requests: about 0.4 s).
_WHERE = {
    "export": ("ledger_export.jobs.export", "export"),
    "ExportOptions": ("ledger_export.jobs.export", "ExportOptions"),
    "ExportResult": ("ledger_export.jobs.export", "ExportResult"),
    "Config": ("ledger_export.jobs.config", "Config"),
    "load_config": ("ledger_export.jobs.config", "load"),
    "Period": ("ledger_export.core.period", "Period"),
    "month": ("ledger_export.core.period", "month"),
    "quarter": ("ledger_export.core.period", "quarter"),
    "date_range": ("ledger_export.core.period", "date_range"),
    "Register": ("ledger_export.jobs.register", "Register"),
    "validate_sie_file": ("ledger_export.sie.validate", "validate_file"),
    "SieFinding": ("ledger_export.sie.model", "SieFinding"),
    "LedgerExportError": ("ledger_export.core.errors", "LedgerExportError"),
    "ConfigError": ("ledger_export.core.errors", "ConfigError"),
    "PeriodError": ("ledger_export.core.errors", "PeriodError"),
    "RecordError": ("ledger_export.core.errors", "RecordError"),
    "SnapshotError": ("ledger_export.core.errors", "SnapshotError"),
    "OutputError": ("ledger_export.core.errors", "OutputError"),
    "AmiliError": ("ledger_export.core.errors", "AmiliError"),
    "ChartError": ("ledger_export.ledger.chart", "ChartError"),
    "SieError": ("ledger_export.sie.model", "SieError"),
    "ReconciliationFailed": ("ledger_export.jobs.export", "ReconciliationFailed"),
    "AlreadyExportedError": ("ledger_export.jobs.register_check", "AlreadyExportedError"),
    "RegisterError": ("ledger_export.jobs.register_check", "RegisterError"),
    "LockedError": ("ledger_export.core.lock", "LockedError"),
}

__all__ = [
    "__version__",
    # the export job
    "export", "ExportOptions", "ExportResult",
    # the configuration and the period to book
    "Config", "load_config", "Period", "month", "quarter", "date_range",
    # the export register (what was booked, run by run)
    "Register",
    # checking a SIE file, ours or another program's
    "validate_sie_file", "SieFinding",
    # the expected failures (core/errors.py has the tree)
    "LedgerExportError", "ConfigError", "PeriodError", "RecordError", "SnapshotError", "OutputError",
    "AmiliError", "ChartError", "SieError", "ReconciliationFailed", "AlreadyExportedError", "RegisterError",
    "LockedError",
]


def __getattr__(name: str) -> Any:
    try:
        module, attribute = _WHERE[name]
    except KeyError:
        raise AttributeError(f"module 'ledger_export' has no attribute {name!r}") from None
    value = getattr(import_module(module), attribute)
    globals()[name] = value  # asked once
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
