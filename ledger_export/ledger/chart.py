"""The target ledger's own chart of accounts (read from its SIE export by sie/chart.py, ``--chart FILE``).

Fortnox and Visma refuse, or worse silently create, an account an import
file books on that the company's chart lacks. Checking against the chart the
bookkeeper exported from that very ledger stops such an export before any
file is written.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date

from ledger_export.core.errors import LedgerExportError

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


@dataclass(frozen=True)
class Chart:
    # Account number -> name as the target ledger has it.
    accounts: Mapping[int, str] = field(hash=False)
    source: str = "chart"
    # The fiscal years the ledger has (#RAR), first to last: a voucher dated in none of them is refused
    # (ledger/fiscal_years.py). Empty when the export declares none.
    fiscal_years: tuple[tuple[date, date], ...] = ()
    # The chart type (#KPTYP) as SIE names it (BAS95, BAS96, EUBAS97, NE2007); None when not declared.
    chart_type: str | None = None

    def __contains__(self, account: int) -> bool:
        return account in self.accounts

    def require(self, uses: Mapping[int, list[str]]) -> None:
        """Raise AccountNotInChartError naming every used account the chart lacks, and why it is used."""
        missing = {account: why for account, why in sorted(uses.items()) if account not in self.accounts}
        if missing:
            raise AccountNotInChartError(self.source, missing)
