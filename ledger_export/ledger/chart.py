"""The target ledger's own chart of accounts, from its SIE export (``--chart FILE``).

Fortnox and Visma refuse, or worse silently create, an account an import
file books on that the company's chart lacks. Checking against the chart the
bookkeeper exported from that very ledger stops such an export before any
file is written.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType

from ..errors import LedgerExportError
from .accounts import is_account

# Accounts named in one message; the rest are counted.
SHOWN = 6


class ChartError(LedgerExportError):
    """A chart file that cannot be used, or an export that books outside the chart."""


class AccountNotInChartError(ChartError):
    def __init__(self, source: str, missing: Mapping[int, list[str]]):
        parts = [f"{account} (used for {', '.join(uses)})" for account, uses in missing.items()]
        more = f", and {len(parts) - SHOWN} more" if len(parts) > SHOWN else ""
        super().__init__(f"the chart of accounts in {source} has no account "
                         f"{'; '.join(parts[:SHOWN])}{more}: add the account(s) to the ledger "
                         "or map them to existing ones in [ledger.categories]; nothing was written")
        self.missing = dict(missing)


def _account_number(text: str) -> int | None:
    """A #KONTO number as a number; None when it is none an account can have.

    ASCII digits only: int() reads other scripts' digits ("١٩٣٠") too and raises on "²",
    which isdigit() passes; and on more than 4300 digits, which no account has.
    """
    digits = text.lstrip("0")
    if not (text.isascii() and text.isdigit() and len(digits) <= 4):
        return None
    return int(digits or "0")


@dataclass(frozen=True)
class Chart:
    # Account number -> name as the target ledger has it.
    accounts: Mapping[int, str] = field(hash=False)
    source: str = "chart"

    @classmethod
    def from_sie_file(cls, path: str | Path) -> Chart:
        from ..sie.reader import read_sie_file  # the ledger needs the reader only for --chart

        sie = read_sie_file(path)
        # Names are often padded to a fixed width (SoftOne writes "Kassa     ").
        numbers = {number: _account_number(number) for number in sie.accounts}
        accounts = {numbers[number]: name.strip() for number, name in sie.accounts.items()
                    if is_account(numbers[number])}
        if not accounts:
            raise ChartError(f"{path}: has no #KONTO records with four-digit accounts; "
                             "export the chart of accounts (SIE 4 or SIE 1) from the ledger")
        return cls(MappingProxyType(dict(sorted(accounts.items()))), str(path))

    def __contains__(self, account: int) -> bool:
        return account in self.accounts

    def require(self, uses: Mapping[int, list[str]]) -> None:
        """Raise AccountNotInChartError naming every used account the chart lacks, and why it is used."""
        missing = {account: why for account, why in sorted(uses.items()) if account not in self.accounts}
        if missing:
            raise AccountNotInChartError(self.source, missing)
