"""Before the first write to Fortnox, everything the run needs there is checked (``fortnox check``).

The company (organisation number), a financial year for every voucher date,
every account present and active in that year, the series and whether it
takes manual vouchers, the mode of payment (when invoices are settled), and
the scopes granted. Every failure is collected, so one run names all that
has to be fixed in Fortnox; any failure stops the run with nothing posted.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date

from ledger_export.core.errors import LedgerExportError
from ledger_export.jobs.fortnox_books import FinancialYear, FortnoxBooks
from ledger_export.fortnox.settings import FortnoxSettings
from ledger_export.ledger.model import Voucher

# Fortnox's scopes for what a run does (developer portal, "Scopes").
SCOPE_COMPANY = "companyinformation"
SCOPE_BOOKKEEPING = "bookkeeping"  # accounts, financial years, voucher series, vouchers
SCOPE_INBOX = "inbox"
SCOPE_CONNECT = "connectfile"  # voucherfileconnections
SCOPE_INVOICE = "invoice"
SCOPE_PAYMENT = "payment"  # invoicepayments
SCOPE_SETTINGS = "settings"  # modes of payments


class FortnoxNotReadyError(LedgerExportError):
    """Fortnox lacks what the run needs: one line per thing to fix there; nothing was posted."""

    def __init__(self, problems: Sequence[str]):
        self.problems = tuple(problems)
        super().__init__("\n".join([f"Fortnox is not ready for this run ({len(problems)} problem(s)); fix them "
                                    f"in Fortnox and run again. Nothing was posted.",
                                    *(f"  - {p}" for p in problems)]))


@dataclass(frozen=True)
class Readiness:
    """What the check found out, for the posting that follows it."""

    years: tuple[FinancialYear, ...]
    clearing_account: int | None  # the mode of payment's account, when invoices are settled


def digits(orgnr: str) -> str:
    """An organisation number as digits only: Fortnox writes 556677-8899 or 5566778899."""
    return re.sub(r"[^0-9]", "", orgnr)


def needed_scopes(*, documents: bool, settle: bool) -> frozenset[str]:
    scopes = {SCOPE_COMPANY, SCOPE_BOOKKEEPING}
    if documents:
        scopes |= {SCOPE_INBOX, SCOPE_CONNECT}
    if settle:
        scopes |= {SCOPE_INVOICE, SCOPE_PAYMENT, SCOPE_SETTINGS}
    return frozenset(scopes)


def year_of(years: Iterable[FinancialYear], day: date) -> FinancialYear | None:
    return next((y for y in years if y.covers(day)), None)


def check_books(books: FortnoxBooks, posting: FortnoxSettings, *, orgnr: str, series: str,
                vouchers: Sequence[Voucher], documents: bool, extra_accounts: Iterable[int] = (),
                days: Iterable[date] = ()) -> Readiness:
    """Raise FortnoxNotReadyError naming every problem; else what the posting needs to know."""
    problems: list[str] = []
    granted = books.granted_scopes()
    missing = sorted(needed_scopes(documents=documents, settle=posting.settle_invoices) - granted)
    if missing:
        problems.append(f"the integration lacks the scope(s) {', '.join(missing)}: add them to the app in "
                        f"Fortnox's developer portal and run `ledger-export fortnox login` again")
    have = books.company_orgnr()
    if not orgnr:
        problems.append("[company] orgnr is not set in the configuration, so the Fortnox company "
                        f"({have or 'no organisation number'}) cannot be checked to be the right one")
    elif digits(have) != digits(orgnr):
        problems.append(f"this Fortnox company has organisation number {have or '(none)'}, not {orgnr} "
                        f"([company] orgnr): log in to the right company")
    found = books.voucher_series()
    if series not in found:
        problems.append(f"voucher series {series} does not exist: create it in Fortnox "
                        f"(Inställningar > Bokföring > Verifikationsserier) or set [fortnox] series")
    elif not found[series]:
        problems.append(f"voucher series {series} does not take manual vouchers: allow it in Fortnox "
                        f"(Verifikationsserier, 'Manuell')")
    clearing: int | None = None
    if posting.settle_invoices:
        modes = books.modes_of_payment()
        if posting.mode_of_payment not in modes:
            problems.append(f"mode of payment {posting.mode_of_payment} ([fortnox] mode_of_payment) does not "
                            f"exist: create it in Fortnox (Inställningar > Betalningssätt)")
        else:
            clearing = modes[posting.mode_of_payment]
            if posting.clearing_account is not None and clearing != posting.clearing_account:
                problems.append(f"mode of payment {posting.mode_of_payment} books on account {clearing}, not "
                                f"{posting.clearing_account} ([fortnox] clearing_account): change one of them")
    years = books.financial_years()
    extra = set(extra_accounts) | ({clearing} if clearing is not None else set())
    uses = [(v.date, {line.account for line in v.lines} | extra) for v in vouchers]
    uses += [(day, extra) for day in days]
    wanted: dict[int, set[int]] = {}
    for day in sorted({day for day, _ in uses if year_of(years, day) is None}):
        problems.append(f"no financial year covers {day}: create the financial year in Fortnox")
    for day, accounts in uses:
        year = year_of(years, day)
        if year is not None:
            wanted.setdefault(year.id, set()).update(accounts)
    for year_id, accounts in sorted(wanted.items()):
        known = books.accounts(year_id)
        span = next(y for y in years if y.id == year_id)
        for account in sorted(accounts):
            if account not in known:
                problems.append(f"account {account} is missing from the chart of accounts of financial year "
                                f"{span.start}..{span.end}: add it in Fortnox")
            elif not known[account]:
                problems.append(f"account {account} is inactive in financial year {span.start}..{span.end}: "
                                f"activate it in Fortnox")
    if problems:
        raise FortnoxNotReadyError(problems)
    return Readiness(years, clearing)
