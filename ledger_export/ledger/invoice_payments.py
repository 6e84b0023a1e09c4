"""The invoice payments to register in the customer ledger: one per invoice and voucher.

A company that invoices in Fortnox or Visma keeps its customer invoices open
in their customer ledger (kundreskontra) until a payment is registered on
each. The vouchers credit what Amili collected to the receivable account
([ledger] receivable_account: 1510, or a clearing account); this lists, per
voucher, every invoice whose receivable that credit settles, with the amount
to register on it. An invoice paid in two payouts of the period has two
rows, each dated by its own voucher, as the two payments are registered.

Built from the ledger's lines on the receivable account, not by mapping the
specification lines again: the list covers exactly what the vouchers book,
and the record of the whole (InvoicePayments) cannot be made unless its rows
add up to the öre to the period's net credit on that account.

After ``export --to fortnox`` with ``[fortnox] settle_invoices``, the lines
settled in Fortnox (registered there as invoice payments) are credited to
the mode of payment's clearing account instead, so they are not listed:
the list is what remains on the receivable account, to register by hand
(invoices missing in Fortnox, cancelled, already paid, or that would be
overpaid, each also a warning of the run). The manifest's ``fortnox``
section records the payments that were made.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from ledger_export.amili.models import PeriodData, Specification
from ledger_export.core.money import ZERO
from ledger_export.ledger.model import Ledger, Line, Voucher


class InvoicePaymentsMismatch(ArithmeticError):
    """Rows that do not add up to the ledger's credit: a bug in ledger-export, never written."""


@dataclass(frozen=True)
class InvoicePayment:
    """What one voucher credits to the receivable account for one invoice."""

    invoice_number: str | None
    reference_number: str | None
    case: str | None
    booking_dates: tuple[date, ...]  # of its specification lines, distinct, in order
    # Positive: the invoice is paid by this much; a reversal line nets in (a
    # refund alone makes it negative: the payment to take back).
    amount: Decimal
    account: int
    articles: tuple[str, ...]
    voucher_number: int  # the voucher's position in the ledger, 1..N, as the workbook's Vouchers sheet
    voucher_series: str
    voucher_date: date
    payout_id: str | None
    payout_reference: str | None
    specification_ids: tuple[str, ...]

    @property
    def from_summary(self) -> bool:
        """Booked from the payout's summary: Amili sent no lines, so no invoice is known."""
        return not self.specification_ids


@dataclass(frozen=True)
class InvoicePayments:
    account: int
    payments: tuple[InvoicePayment, ...]
    # The period's net credit to ``account`` in the ledger (credit positive).
    credited: Decimal

    def __post_init__(self) -> None:
        total = self.total
        if total != self.credited:
            raise InvoicePaymentsMismatch(f"invoice payments total {total}, but the ledger credits "
                                          f"{self.credited} to account {self.account}")

    @property
    def total(self) -> Decimal:
        return sum((p.amount for p in self.payments), ZERO)


def _distinct(values: Iterable[str | None]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(v for v in values if v))


def _lines_of(line: Line, specs: Mapping[str, Specification], voucher: Voucher) -> list[Specification]:
    found = [specs[i] for i in line.specification_ids if i in specs]
    # A receivable line is a net line (settings refuse the suspense or a VAT account as
    # receivable_account): its lines' amounts, credited. Anything else is a bug.
    if len(found) != len(line.specification_ids) or sum((s.amount for s in found), ZERO) != -line.amount:
        raise InvoicePaymentsMismatch(f"voucher for payout {voucher.payout_id}: the line on {line.account} "
                                      f"({line.amount}) is not its specification lines' amounts")
    return found


def _voucher_payments(number: int, voucher: Voucher, account: int,
                      specs: Mapping[str, Specification]) -> list[InvoicePayment]:
    groups: dict[tuple[str | None, str | None, str | None], list[Specification]] = {}
    summary: list[Line] = []
    for line in voucher.lines:
        if line.account != account:
            continue
        if not line.specification_ids:
            summary.append(line)
            continue
        for s in _lines_of(line, specs, voucher):
            groups.setdefault((s.invoice_number, s.reference_number, s.case), []).append(s)

    def payment(key: tuple[str | None, str | None, str | None], amount: Decimal, dates: tuple[date, ...],
                articles: tuple[str, ...], ids: tuple[str, ...]) -> InvoicePayment:
        return InvoicePayment(*key, booking_dates=dates, amount=amount, account=account, articles=articles,
                              voucher_number=number, voucher_series=voucher.series, voucher_date=voucher.date,
                              payout_id=voucher.payout_id, payout_reference=voucher.payout_reference,
                              specification_ids=ids)

    rows = [payment(key, sum((s.amount for s in lines), ZERO),
                    tuple(sorted({s.booking_date for s in lines if s.booking_date is not None})),
                    _distinct(s.article for s in lines), tuple(s.id for s in lines))
            for key, lines in groups.items()]
    rows += [payment((None, None, None), -line.amount, (), _distinct([line.article]), ()) for line in summary]
    return rows


def invoice_payments(ledger: Ledger, data: PeriodData) -> InvoicePayments:
    """Every invoice payment the ledger books on its receivable account, in voucher order."""
    account = ledger.receivable_account
    specs = {s.id: s for s in data.specifications}
    payments = [p for number, voucher in enumerate(ledger.vouchers, start=1)
                for p in _voucher_payments(number, voucher, account, specs)]
    credited = -ledger.account_totals().get(account, ZERO)
    return InvoicePayments(account, tuple(payments), credited)
