"""The sample's economics: invoices, the debtor payments that settle them, and their lines.

Each payment settles part of one invoice (its capital, often interest and
fees) through one banking transaction. Its lines are grouped into batches,
one per payout period: daily for capital, interest and commission, monthly
for the creditor's own outlays (paid the month after).
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from decimal import ROUND_FLOOR, Decimal

from ledger_export.core.money import round_ore

VAT_RATE = Decimal("0.25")
INTEREST_RATE = Decimal("0.1025")  # dröjsmålsränta: reference rate + 8 percentage points
STATES = ("reminder",) * 3 + ("debt_collection",) * 4 + ("amortization",) * 2 + ("enforcement",)
COMMISSION_FEES = {  # article: (state it belongs to, amount excl. VAT, probability)
    "reminder": ("reminder", Decimal("60.00"), 0.7),
    "debt_collection": ("debt_collection", Decimal("180.00"), 0.8),
    "cost": ("debt_collection", Decimal("40.00"), 0.1),
    "amortization_reminder": ("amortization", Decimal("60.00"), 0.4),
    "amortization_advice": ("amortization", Decimal("30.00"), 0.3),
    "amortization_setup": ("amortization", Decimal("170.00"), 0.1),
}
OUTLAY_FEES = {"reminder": Decimal("60.00"), "invoice_fee": Decimal("45.00"),
               "late_payment_fee": Decimal("450.00"), "verdict_fee": Decimal("300.00"),
               "enforcement": Decimal("600.00")}
COMMISSION_ARTICLES = ("reminder", "debt_collection", "cost", "amortization_setup", "amortization_advice",
                       "amortization_reminder", "commission", "commission_intercompany", "finance_refund")


class Ids:
    """ObjectIds whose first four bytes are the record's creation time, as MongoDB makes them."""

    def __init__(self, rng: random.Random):
        self.rng = rng
        self.seen: set[str] = set()

    def new(self, moment: datetime) -> str:
        value = f"{int(moment.timestamp()):08x}{self.rng.getrandbits(64):016x}"
        assert value not in self.seen, value
        self.seen.add(value)
        return value


def at(day: date, seconds: int) -> datetime:
    return datetime.combine(day, time(), tzinfo=timezone.utc) + timedelta(seconds=seconds)


def kronor(rng: random.Random, low: int, high: int) -> Decimal:
    """A random amount with öre, e.g. 1234.57."""
    return Decimal(rng.randint(low * 100, high * 100)).scaleb(-2)


def vat_exact(amount: Decimal) -> Decimal:
    """Largest amount not above ``amount`` whose 25 % VAT is a whole öre (a multiple of 0.04)."""
    step = Decimal("0.04")
    return (amount / step).to_integral_value(ROUND_FLOOR) * step


@dataclass
class Invoice:
    number: str
    reference_number: str
    case: str
    capital: Decimal
    state: str
    b2b: bool
    paid: Decimal = Decimal("0.00")

    @property
    def remaining(self) -> Decimal:
        return self.capital - self.paid


@dataclass(frozen=True)
class Line:
    invoice: Invoice
    category: str
    article: str
    amount: Decimal
    vat_amount: Decimal
    booking_date: date
    created: datetime
    banking_transaction: str


@dataclass
class Batch:
    """The lines one payout period collects, and when Amili pays them out."""

    interval: str
    period_start: date
    period_end: date
    payout_date: date
    lines: list[Line] = field(default_factory=list)


def make_invoices(rng: random.Random, ids: Ids, count: int) -> list[Invoice]:
    invoices = []
    for n in range(1, count + 1):
        registered = at(date(2025, 3, 1) + timedelta(days=rng.randrange(85)), 3600 * 10 + rng.randrange(20000))
        size = rng.random()
        capital = kronor(rng, 300, 5000) if size < 0.7 else (
            kronor(rng, 5000, 25000) if size < 0.95 else kronor(rng, 25000, 60000))
        invoices.append(Invoice(f"INV-2025-{n:04d}", f"25{n:04d}", ids.new(registered), capital,
                                rng.choice(STATES), rng.random() < 0.25))
    return invoices


class Payments:
    """Makes debtor payments and the lines they settle."""

    def __init__(self, rng: random.Random, ids: Ids, invoices: list[Invoice]):
        self.rng, self.ids, self.invoices = rng, ids, invoices

    def line(self, invoice: Invoice, category: str, article: str, amount: Decimal, day: date,
             created: datetime, bt: str) -> Line:
        vat = amount * VAT_RATE if category == "creditor_commission" else Decimal("0.00")
        assert vat == round_ore(vat), (article, amount)
        return Line(invoice, category, article, amount, round_ore(vat), day, created, bt)

    def payment(self, invoice: Invoice, day: date, created: datetime, *, outlay: bool,
                capital: Decimal | None = None) -> list[Line]:
        rng, bt = self.rng, self.ids.new(created)
        if capital is None:
            capital = invoice.remaining
            if invoice.state == "amortization":
                capital = min(capital, Decimal(rng.randrange(500, 3000, 50)))
        invoice.paid += capital
        fees = [("capital", "capital", capital)]
        if rng.random() < (0.4 if invoice.state == "reminder" else 0.75):
            days = rng.randrange(14, 240)
            fees.append(("interest", "interest", round_ore(capital * INTEREST_RATE * days / 365)))
        for article, (state, amount, chance) in COMMISSION_FEES.items():
            if invoice.state == state and rng.random() < chance:
                fees.append(("creditor_commission", article, amount))
        if capital >= 1000 and rng.random() < 0.15:
            fees.append(("creditor_commission", "commission", vat_exact(capital * Decimal("0.08"))))
        if outlay:
            for article, amount in OUTLAY_FEES.items():
                if self.wants_outlay(invoice, article):
                    fees.append(("creditor_outlay", article, amount))
        return [self.line(invoice, category, article, amount, day, created + timedelta(seconds=i), bt)
                for i, (category, article, amount) in enumerate(fees)]

    def wants_outlay(self, invoice: Invoice, article: str) -> bool:
        chance = {"reminder": 0.15, "invoice_fee": 0.1, "late_payment_fee": 0.4 if invoice.b2b else 0,
                  "verdict_fee": 0.5 if invoice.state == "enforcement" else 0,
                  "enforcement": 0.4 if invoice.state == "enforcement" else 0}[article]
        return self.rng.random() < chance

    def day(self, day: date, count: int, *, outlay: bool) -> list[Line]:
        open_invoices = [inv for inv in self.invoices if inv.remaining > 0]
        chosen = self.rng.sample(open_invoices, count)
        moments = sorted(self.rng.sample(range(7 * 3600, 18 * 3600, 10), count))
        lines = []
        for invoice, second in zip(chosen, moments):
            lines += self.payment(invoice, day, at(day, second), outlay=outlay)
        return lines

    def extra(self, day: date, category: str, article: str, amount: Decimal,
              states: tuple[str, ...] = STATES) -> Line:
        """One line on its own banking transaction (a fee paid alone, a refund, a correction)."""
        invoice = self.rng.choice([inv for inv in self.invoices if inv.state in states])
        created = at(day, 3600 * 17 + self.rng.randrange(3000))
        return self.line(invoice, category, article, amount, day, created, self.ids.new(created))


# (booking day, payout day, payments): daily payouts are made the next working day.
DAILY = [
    (date(2025, 5, 27), date(2025, 5, 28), 6),
    (date(2025, 6, 3), date(2025, 6, 4), 18),
    (date(2025, 6, 11), date(2025, 6, 12), 112),  # more than 100 capital lines: spans pages
    (date(2025, 6, 18), date(2025, 6, 19), 25),
    (date(2025, 6, 25), date(2025, 6, 26), 30),
    (date(2025, 7, 1), date(2025, 7, 2), 5),
]
CORRECTED = Decimal("1234.57")
MAY_WORKING_DAYS = [d for d in (date(2025, 5, n) for n in range(2, 31)) if d.weekday() < 5]


def build_lines(rng: random.Random, ids: Ids) -> tuple[list[Invoice], list[Batch], Line]:
    """Every batch of the sample, in payout order, and one June line not yet in any payout."""
    invoices = make_invoices(rng, ids, 220)
    pay = Payments(rng, ids, invoices)
    monthly = {5: Batch("monthly", date(2025, 5, 1), date(2025, 5, 31), date(2025, 6, 2)),
               6: Batch("monthly", date(2025, 6, 1), date(2025, 6, 30), date(2025, 7, 1))}
    daily: dict[date, Batch] = {}
    for booked, paid, count in DAILY:
        batch = daily[booked] = Batch("daily", booked, booked, paid)
        lines = pay.day(booked, count, outlay=booked.month in monthly)
        if booked == date(2025, 6, 3):
            # A payment that the bank later returned: corrected by a negative capital line.
            returned = next(inv for inv in invoices if inv.state == "reminder" and inv.remaining > 3000)
            lines += pay.payment(returned, booked, at(booked, 18 * 3600), outlay=False, capital=CORRECTED)
        batch.lines += [line for line in lines if line.category != "creditor_outlay"]
        if booked.month in monthly:
            monthly[booked.month].lines += [line for line in lines if line.category == "creditor_outlay"]

    correction_day = date(2025, 6, 18)
    moment = at(correction_day, 17 * 3600 + 1234)
    returned.paid -= CORRECTED
    daily[correction_day].lines.append(
        pay.line(returned, "capital", "capital", -CORRECTED, correction_day, moment, ids.new(moment)))
    daily[date(2025, 6, 11)].lines.append(pay.extra(
        date(2025, 6, 11), "creditor_commission", "finance_refund", Decimal("-180.00"), ("debt_collection",)))
    daily[correction_day].lines.append(pay.extra(
        correction_day, "creditor_commission", "commission_intercompany", Decimal("240.00")))

    june = [b for day, b in daily.items() if day.month == 6]
    for n, article in enumerate(COMMISSION_ARTICLES):
        if not any(line.article == article for b in june for line in b.lines
                   if line.category == "creditor_commission"):
            state, amount, _ = COMMISSION_FEES.get(article, (None, Decimal("400.00"), 0))
            batch = june[n % len(june)]
            batch.lines.append(pay.extra(batch.period_start, "creditor_commission", article, amount,
                                         (state,) if state else STATES))

    # The May outlay payout holds every kind of outlay, booked over the month.
    for article, amount in OUTLAY_FEES.items():
        states = ("enforcement",) if article in ("verdict_fee", "enforcement") else STATES
        for _ in range(rng.randint(2, 4)):
            day = rng.choice(MAY_WORKING_DAYS)
            monthly[5].lines.append(pay.extra(day, "creditor_outlay", article, amount, states))

    unlinked = pay.extra(date(2025, 6, 30), "capital", "capital", kronor(rng, 800, 9000))
    batches = sorted([*daily.values(), *monthly.values()], key=lambda b: (b.payout_date, b.interval))
    for batch in batches:
        batch.lines.sort(key=lambda line: (line.created, line.banking_transaction))
    return invoices, batches, unlinked
