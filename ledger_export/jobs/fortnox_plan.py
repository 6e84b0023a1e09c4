"""Which customer invoices a payout settles in Fortnox, and the voucher that agrees with it.

Decided before any voucher is posted, because the two must agree: a line
settled against its invoice is credited to the mode of payment's clearing
account (the invoice payment debits it again, and credits the receivable
in Fortnox's customer ledger), a line not settled stays on the receivable
account as in the ``.si``, with a warning that says why. Never guessed: the
match is exact, and an invoice found twice, missing, cancelled, unbooked,
already paid or too small for the amount is left alone.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date
from decimal import Decimal

from ledger_export.amili.models import Payout, PeriodData, Specification
from ledger_export.core.money import ZERO, format_amount
from ledger_export.jobs.fortnox_books import FortnoxBooks, Invoice
from ledger_export.fortnox.settings import FortnoxSettings
from ledger_export.ledger.mapping import AccountMap
from ledger_export.ledger.model import WARNING, Finding, Line, Voucher
from ledger_export.ledger.settings import LedgerSettings

SETTLE = "settle"  # the findings' check name


SpecLine = tuple[str, Decimal]  # a specification line's id and amount


@dataclass(frozen=True)
class Settlement:
    """One invoice payment a payout makes: ``amount`` of Fortnox invoice ``invoice`` on ``day``.

    ``key`` is the Amili value it was matched by ([fortnox] invoice_match:
    the line's invoice_number or reference_number), and ``lines`` the
    specification lines it settles (id, amount): exactly these move from the
    receivable account to the clearing account in the voucher, so every
    line there stays the sum of its specification lines.
    """

    invoice: str
    amount: Decimal
    day: date
    key: str = ""
    lines: tuple[SpecLine, ...] = ()

    def __post_init__(self) -> None:
        if self.lines and sum((amount for _, amount in self.lines), ZERO) != self.amount:
            raise ValueError(f"settlement of invoice {self.invoice}: lines do not add up to {self.amount}")


class PlanMismatch(ArithmeticError):
    """A settlement whose specification lines are not on the voucher's receivable lines as recorded."""


def _key(line: Specification, field: str) -> str | None:
    value = line.invoice_number if field == "invoice_number" else line.reference_number
    return value.strip() if value and value.strip() else None


def _refusal(found: Sequence[Invoice], amount: Decimal, planned: Decimal) -> str | None:
    if not found:
        return "not found in Fortnox"
    if len(found) > 1:
        return f"matches {len(found)} invoices in Fortnox ({', '.join(i.number for i in found)}), never guessed"
    invoice = found[0]
    if invoice.cancelled:
        return f"invoice {invoice.number} is cancelled in Fortnox"
    if not invoice.booked:
        return f"invoice {invoice.number} is not booked in Fortnox"
    left = invoice.balance - planned
    if left <= ZERO:
        return f"invoice {invoice.number} is already paid in Fortnox"
    if left < amount:
        return (f"invoice {invoice.number} has {format_amount(left)} left to pay in Fortnox, "
                f"{format_amount(amount)} would overpay it")
    return None


def plan_settlements(books: FortnoxBooks, posting: FortnoxSettings, settings: LedgerSettings, data: PeriodData,
                     payouts: Sequence[Payout], unpaid: Mapping[str, Decimal] | None = None,
                     ) -> tuple[dict[str, tuple[Settlement, ...]], tuple[Finding, ...]]:
    """Payout id -> the invoice payments it makes; and a warning for every line left on the receivable.

    ``unpaid``: invoice -> what vouchers already in Fortnox have planned to pay
    on it and is not paid yet (Fortnox's balance does not show it).
    """
    # Lines booked on [ledger] receivable_account may settle invoices (a capital line mapped to an
    # income account of its own settles nothing).
    receivable = settings.receivable_account
    if not posting.settle_invoices:
        return {}, ()
    amap = AccountMap(settings)
    plans: dict[str, tuple[Settlement, ...]] = {}
    findings: list[Finding] = []
    planned = dict(unpaid or {})  # invoice -> planned and not yet paid (one invoice, two payouts)
    for payout in payouts:
        assert payout.payout_date is not None, "build_ledger refuses a payout without payout_date"
        by_key: dict[str, Decimal] = {}
        lines_of: dict[str, list[SpecLine]] = {}
        for line in data.lines_of(payout):
            rule = amap.rule(line.finance_category, line.article)
            if not rule.mapped or rule.account != receivable or line.vat_amount != ZERO:
                continue
            key = _key(line, posting.invoice_match.amili)
            if key is None:
                findings.append(Finding(SETTLE, WARNING, f"payout {payout.id}: line {line.id} has no "
                                        f"{posting.invoice_match.amili}: left on account {receivable}", payout.id))
                continue
            by_key[key] = by_key.get(key, ZERO) + line.amount
            lines_of.setdefault(key, []).append((line.id, line.amount))
        settled = []
        for key, amount in sorted(by_key.items()):
            if amount <= ZERO:
                why: str | None = "the lines net to a refund, which is not an invoice payment"
            else:
                found = books.find_invoices(posting.invoice_match.fortnox, key)
                why = _refusal(found, amount, planned.get(found[0].number, ZERO) if len(found) == 1 else ZERO)
            if why is not None:
                findings.append(Finding(SETTLE, WARNING, f"payout {payout.id}: {posting.invoice_match.amili} {key} "
                                        f"({format_amount(amount)}) not settled: {why}; left on account "
                                        f"{receivable}", payout.id))
                continue
            number = found[0].number
            planned[number] = planned.get(number, ZERO) + amount
            settled.append(Settlement(number, amount, payout.payout_date, key, tuple(lines_of[key])))
        if settled:
            plans[payout.id] = tuple(settled)
    return plans, tuple(findings)


def settled_voucher(voucher: Voucher, settlements: Sequence[Settlement], receivable: int, clearing: int,
                    objects: tuple[tuple[str, str], ...] = ()) -> Voucher:
    """``voucher`` with each settlement's specification lines credited to ``clearing`` instead of ``receivable``.

    A receivable line all of whose specification lines are settled moves
    whole (its text kept); one only partly settled keeps the rest, and the
    settled part follows it as a clearing line carrying those lines' ids.
    Raises PlanMismatch when a settled line is not on a receivable line.
    """
    moving: dict[str, tuple[Decimal, Settlement]] = {}
    for s in settlements:
        for spec_id, amount in s.lines:
            moving[spec_id] = (amount, s)
    if not moving:
        return voucher
    found: set[str] = set()
    lines: list[Line] = []
    for line in voucher.lines:
        ids = [i for i in line.specification_ids if i in moving] if line.account == receivable else []
        if not ids:
            lines.append(line)
            continue
        found.update(ids)
        if len(ids) == len(line.specification_ids):
            lines.append(replace(line, account=clearing, objects=objects))
            continue
        moved = sum((moving[i][0] for i in ids), ZERO)
        kept = tuple(i for i in line.specification_ids if i not in moving)
        invoices = sorted({moving[i][1].invoice for i in ids})
        lines.append(replace(line, amount=line.amount + moved, specification_ids=kept))
        lines.append(Line(clearing, -moved, f"Faktura {', '.join(invoices)}", objects, category=line.category,
                          article=line.article, specification_ids=tuple(ids), invoice_number=line.invoice_number))
    missing = sorted(set(moving) - found)
    if missing:
        raise PlanMismatch(f"voucher for payout {voucher.payout_id}: specification line(s) {', '.join(missing)} "
                           f"settled in Fortnox are not on account {receivable}")
    return replace(voucher, lines=tuple(line for line in lines if line.amount != ZERO or not line.specification_ids
                                        or line.account != receivable))


def recorded_plan(payments: Sequence[Settlement]) -> tuple[Settlement, ...]:
    return tuple(payments)
