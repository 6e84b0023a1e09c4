"""What the ledger produces and every writer consumes: vouchers and findings.

A Voucher can only be constructed balanced: the check lives in the record
itself, so no code path can emit one that does not sum to zero.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from types import MappingProxyType
from typing import Final, Literal, get_args

from ledger_export.core.money import ZERO
from ledger_export.ledger.settings import RECEIVABLES


class UnbalancedVoucherError(ArithmeticError):
    """A voucher whose lines do not sum to 0.00. Never written.

    Not a LedgerExportError: the ledger reports input that does not add up as
    a reconciliation finding before it builds vouchers, so reaching this is a
    bug in ledger-export and must keep its traceback.
    """


@dataclass(frozen=True)
class Line:
    """One #TRANS: an amount on an account; positive is debit, negative is credit."""

    account: int
    amount: Decimal
    text: str = ""
    # Object list for ledgers that require a cost centre or project:
    # (dimension number, object id), e.g. (("1", "100"),).
    objects: tuple[tuple[str, str], ...] = ()
    # Where the line came from, for the workbook and traceability.
    category: str | None = None
    article: str | None = None
    specification_ids: tuple[str, ...] = ()
    invoice_number: str | None = None

    @property
    def debit(self) -> Decimal:
        return self.amount if self.amount > 0 else ZERO

    @property
    def credit(self) -> Decimal:
        return -self.amount if self.amount < 0 else ZERO


@dataclass(frozen=True)
class Voucher:
    """One voucher (verifikation): a payout booked on its payout date."""

    date: date
    text: str
    lines: tuple[Line, ...]
    series: str = ""
    payout_id: str | None = None
    payout_reference: str | None = None
    payout_etag: str | None = None
    category: str | None = None
    # File name of the self-invoice PDF this voucher's attachment is.
    document_name: str | None = None

    def __post_init__(self) -> None:
        if not self.lines:
            raise UnbalancedVoucherError(f"voucher for payout {self.payout_id}: has no lines")
        total = sum((line.amount for line in self.lines), ZERO)
        if total != ZERO:
            raise UnbalancedVoucherError(
                f"voucher for payout {self.payout_id} ({self.text}): does not balance, off by {total}"
            )


# Written as they are into the workbook, the manifest and the terminal.
Severity = Literal["ok", "warning", "error"]
OK: Final = "ok"
WARNING: Final = "warning"
ERROR: Final = "error"
SEVERITIES: tuple[Severity, ...] = get_args(Severity)


@dataclass(frozen=True)
class Finding:
    """The outcome of one reconciliation check, for one payout or the whole run."""

    check: str
    severity: Severity
    message: str
    payout_id: str | None = None


@dataclass(frozen=True)
class Ledger:
    vouchers: tuple[Voucher, ...]
    # Name of every account any voucher uses (from the target chart when given).
    account_names: Mapping[int, str] = field(default_factory=lambda: MappingProxyType({}))
    findings: tuple[Finding, ...] = ()
    # Where receivables were credited ([ledger] receivable_account): what the
    # invoice payments (invoice_payments.py) add up to.
    receivable_account: int = RECEIVABLES

    @property
    def warnings(self) -> tuple[Finding, ...]:
        return tuple(f for f in self.findings if f.severity == WARNING)

    @property
    def errors(self) -> tuple[Finding, ...]:
        return tuple(f for f in self.findings if f.severity == ERROR)

    def debit_credit(self) -> dict[int, tuple[Decimal, Decimal]]:
        """Debit and credit per account, in account order: the trial balance."""
        sides: dict[int, tuple[Decimal, Decimal]] = {}
        for voucher in self.vouchers:
            for line in voucher.lines:
                debit, credit = sides.get(line.account, (ZERO, ZERO))
                sides[line.account] = (debit + line.debit, credit + line.credit)
        return dict(sorted(sides.items()))

    def account_totals(self) -> dict[int, Decimal]:
        totals: dict[int, Decimal] = {}
        for voucher in self.vouchers:
            for line in voucher.lines:
                totals[line.account] = totals.get(line.account, ZERO) + line.amount
        return dict(sorted(totals.items()))
