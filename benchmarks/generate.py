"""A seeded, realistic period of Amili payouts with any number of specification lines.

The shape follows samples/generate.py: debtor payments settle invoices,
each payment's lines (capital, often interest, commission fees with 25 %
VAT, sometimes outlays) share one banking transaction, and the lines are
grouped into one payout per (category, period): daily payouts on each
banking day for capital, interest and commission, and a monthly payout of
the previous month's outlays. Busy days (Mondays collect the weekend) make
payouts of very different sizes. Every commission payout carries a small
self-invoice PDF.

Every payout's lines sum exactly to its amount, VAT, total and summary
(``check`` asserts it), so the whole export runs without a finding that
fails it. Same lines and seed, same items, byte for byte.
"""

from __future__ import annotations

import hashlib
import importlib.util
import itertools
import random
import sys
from bisect import bisect_left
from collections import Counter
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from decimal import Decimal

from dateutil.relativedelta import relativedelta

from ledger_export.amili import timestamps
from ledger_export.core.money import ZERO, round_ore
from ledger_export.core.resources import SAMPLES
from ledger_export.core.period import Period, month, quarter

CREDITOR = "686e6ed854377058c2dd10bd"
BANK_ACCOUNT = 1930
COMPANY = "Exempelbolaget AB"
VAT_RATE = Decimal("0.25")
INTEREST_RATE = Decimal("0.1025")
# article: (amount excl. VAT, chance per payment); None: 8 % of the capital.
COMMISSION_FEES = {"reminder": (Decimal("60.00"), 0.30), "debt_collection": (Decimal("180.00"), 0.35),
                   "amortization_reminder": (Decimal("60.00"), 0.05), "commission": (None, 0.10),
                   "finance_refund": (Decimal("-180.00"), 0.005)}
OUTLAY_FEES = {"invoice_fee": (Decimal("45.00"), 0.05), "reminder": (Decimal("60.00"), 0.04),
               "late_payment_fee": (Decimal("450.00"), 0.03), "verdict_fee": (Decimal("300.00"), 0.01),
               "enforcement": (Decimal("600.00"), 0.01)}
STATES = ("reminder", "debt_collection", "amortization", "enforcement")
REFERENCE_GROUP = {"capital": 0, "interest": 0, "creditor_commission": 1, "creditor_outlay": 2}
DAILY = ("capital", "interest", "creditor_commission")


def _load_sample_module(name: str):
    # The sample generator is a folder of scripts, not a package: load the one file we reuse.
    spec = importlib.util.spec_from_file_location(f"samples_{name}", SAMPLES / "generator" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while it loads
    spec.loader.exec_module(module)
    return module


_selfinvoice = _load_sample_module("selfinvoice")


@dataclass
class Dataset:
    """One period as Amili's API holds it: JSON items (amounts Decimal) and the media files."""

    creditor: str
    period: Period
    payouts: list[dict]
    specifications: list[dict]
    payments: list[dict]
    media: dict[str, bytes] = field(default_factory=dict)

    @property
    def counts(self) -> dict[str, int]:
        return {"payouts": len(self.payouts), "specifications": len(self.specifications),
                "payments": len(self.payments), "documents": len(self.media)}


@dataclass(frozen=True)
class _Line:
    category: str
    article: str
    amount: Decimal
    vat_amount: Decimal
    booking_date: date
    created: datetime
    invoice: int
    banking_transaction: str


def rfc1123(moment: datetime | date) -> str:
    return timestamps.format(moment)


def json_amount(value: Decimal) -> Decimal:
    """Amili's JSON form of an amount: 60.0, 12.5, 1234.57."""
    value = value.normalize()
    return value.quantize(Decimal("0.0")) if value.as_tuple().exponent >= -1 else value


# The sample period's own amount and time helpers, so both generators price alike.
_debtor_payments = _load_sample_module("debtor_payments")
at = _debtor_payments.at
kronor = _debtor_payments.kronor
vat_exact = _debtor_payments.vat_exact


def banking_days(start: date, end: date) -> list[date]:
    return [d for d in (start + timedelta(n) for n in range((end - start).days + 1)) if d.weekday() < 5]


def previous_banking_day(day: date) -> date:
    day -= timedelta(days=1)
    while day.weekday() >= 5:
        day -= timedelta(days=1)
    return day


class _Ids:
    """ObjectIds whose first four bytes are the creation time, as MongoDB makes them."""

    def __init__(self, rng: random.Random):
        self.rng = rng
        self.seen: set[str] = set()

    def new(self, moment: datetime) -> str:
        while True:
            value = f"{int(moment.timestamp()):08x}{self.rng.getrandbits(64):016x}"
            if value not in self.seen:
                self.seen.add(value)
                return value


class _Generator:
    def __init__(self, lines: int, seed: int, period: Period):
        self.rng = random.Random(seed)
        self.ids = _Ids(self.rng)
        self.period = period
        self.target = lines
        self.invoices = max(50, lines // 3)
        self.payout_days = banking_days(period.start, period.end)
        # Monday's payout carries Friday to Sunday; other days vary around one.
        weights = [self.rng.lognormvariate(0, 0.45) * (2.2 if d.weekday() == 0 else 1.0)
                   for d in self.payout_days]
        self.cumulative = list(itertools.accumulate(weights))
        self.daily: dict[tuple[date, str], list[_Line]] = {}
        # Outlays are paid monthly: on the first banking day of the month after they were booked.
        self.monthly: dict[date, list[_Line]] = {}

    def invoice_number(self, n: int) -> str:
        return f"INV-{self.period.start.year}-{n:06d}"

    def payment(self, payout_day: date) -> list[_Line]:
        rng = self.rng
        booked = previous_banking_day(payout_day)
        created = at(booked, 7 * 3600 + rng.randrange(11 * 3600))
        bt = self.ids.new(created)
        invoice = rng.randrange(1, self.invoices + 1)
        size = rng.random()
        capital = kronor(rng, 300, 5000) if size < 0.7 else (
            kronor(rng, 5000, 25000) if size < 0.95 else kronor(rng, 25000, 60000))
        if rng.random() < 0.003:  # a payment the bank returned: a correction line
            capital = -capital
        fees = [("capital", "capital", capital)]
        if rng.random() < 0.6:
            fees.append(("interest", "interest", round_ore(capital * INTEREST_RATE * rng.randrange(14, 240) / 365)))
        for article, (amount, chance) in COMMISSION_FEES.items():
            if rng.random() < chance:
                fees.append(("creditor_commission", article,
                             amount if amount is not None else vat_exact(abs(capital) * Decimal("0.08"))))
        for article, (amount, chance) in OUTLAY_FEES.items():
            if rng.random() < chance:
                fees.append(("creditor_outlay", article, amount))
        lines = []
        for i, (category, article, amount) in enumerate(fees):
            vat = round_ore(amount * VAT_RATE) if category == "creditor_commission" else ZERO
            lines.append(_Line(category, article, amount, vat, booked, created + timedelta(seconds=i),
                               invoice, bt))
        return lines

    def lines(self) -> None:
        made = 0
        total = self.cumulative[-1]
        while made < self.target:
            day = self.payout_days[bisect_left(self.cumulative, self.rng.random() * total)]
            lines = self.payment(day)[: self.target - made]
            made += len(lines)
            for line in lines:
                if line.category == "creditor_outlay":
                    # Outlays are paid monthly, on the first banking day, for the month before.
                    pay_day = banking_days(day.replace(day=1), day.replace(day=1) + relativedelta(months=1))[0]
                    before = pay_day.replace(day=1) - relativedelta(months=1)
                    booked = self.rng.choice(banking_days(before, pay_day.replace(day=1) - timedelta(days=1)))
                    moment = at(booked, line.created.hour * 3600 + line.created.minute * 60 + line.created.second)
                    self.monthly.setdefault(pay_day, []).append(replace(line, booking_date=booked, created=moment))
                else:
                    self.daily.setdefault((day, line.category), []).append(line)


class _Writer:
    """Turns groups of lines into Amili's payout, specification and media items."""

    def __init__(self, ids: _Ids):
        self.ids = ids
        self.payouts: list[dict] = []
        self.specifications: list[dict] = []
        self.media: dict[str, bytes] = {}
        self.references: dict[tuple[date, int], str] = {}

    def payout(self, category: str, interval: str, period_start: date, period_end: date, payout_day: date,
               lines: list[_Line]) -> None:
        lines = sorted(lines, key=lambda line: (line.created, line.banking_transaction))
        created = at(period_end + timedelta(days=1), 4 * 3600 + len(self.payouts))
        updated = at(payout_day, 8 * 3600)
        key = (payout_day, REFERENCE_GROUP[category])
        reference = self.references.setdefault(key, str(65400 + len(self.references) + 1))
        amount = sum((line.amount for line in lines), ZERO)
        vat = sum((line.vat_amount for line in lines), ZERO)
        summary = {}
        for article in sorted({line.article for line in lines}):
            picked = [line for line in lines if line.article == article]
            a = sum((line.amount for line in picked), ZERO)
            v = sum((line.vat_amount for line in picked), ZERO)
            summary[article] = {"count": len(picked), "amount": json_amount(a), "vat_amount": json_amount(v),
                                "total_amount": json_amount(a + v)}
        item = {
            "_id": self.ids.new(created), "_created": rfc1123(created), "_updated": rfc1123(updated), "_etag": "",
            "creditor": CREDITOR, "currency": "SEK", "payout_reference": reference, "ready_for_payout": True,
            "bank_payout_request": self.ids.new(updated), "payout_date": rfc1123(payout_day),
            "ledger_account": BANK_ACCOUNT, "amount": json_amount(amount), "vat_amount": json_amount(vat),
            "total_amount": json_amount(amount + vat), "summary": summary, "finance_category": category,
            "finance_interval": interval, "finance_period_start_date": rfc1123(period_start),
            "finance_period_end_date": rfc1123(period_end + timedelta(days=1)),
            "finance_period_year": period_start.year,
        }
        if category == "creditor_commission":
            item["document"] = self.self_invoice(created, item, payout_day)
        item["_etag"] = _etag(item["_id"])
        self.payouts.append(item)
        for line in lines:
            self.specifications.append(self.specification(line, item))

    def specification(self, line: _Line, payout: dict) -> dict:
        item = {
            "_id": self.ids.new(line.created), "_created": rfc1123(line.created), "_updated": payout["_updated"],
            "_etag": "", "creditor": CREDITOR, "currency": "SEK", "payout": payout["_id"],
            "payout_reference": payout["payout_reference"], "payout_interval": payout["finance_interval"],
            "payout_date": payout["payout_date"], "booking_date": rfc1123(line.booking_date),
            "invoice_number": f"INV-{line.booking_date.year}-{line.invoice:06d}",
            "reference_number": f"{line.booking_date.year % 100}{line.invoice:06d}",
            "references": {"case": f"67f52a83{line.invoice:016x}"},
            "article": line.article, "finance_category": line.category, "state": STATES[line.invoice % 4],
            "amount": json_amount(line.amount), "vat_amount": json_amount(line.vat_amount),
            "total_amount": json_amount(line.amount + line.vat_amount),
            "banking_transaction": {"_id": line.banking_transaction},
        }
        item["_etag"] = _etag(item["_id"])
        return item

    def self_invoice(self, created: datetime, payout: dict, payout_day: date) -> dict:
        file_id = self.ids.new(created)
        number = f"SF-{payout_day:%Y-%m%d}"
        text = [f"Självfaktura {number}", f"Säljare: {COMPANY}",
                "Utfärdad av köparen Amili AB på säljarens vägnar (självfakturering).",
                f"Utbetalningsreferens {payout['payout_reference']}", ""]
        text += [f"{article}: {row['count']} st, {row['amount']} kr exkl. moms, moms {row['vat_amount']} kr"
                 for article, row in payout["summary"].items()]
        text += ["", f"Att betala: {payout['total_amount']} kr"]
        pdf = _selfinvoice.render(text)
        self.media[file_id] = pdf
        return {"file": file_id, "content_type": "application/pdf", "name": f"self_invoice_{number}.pdf",
                "length": len(pdf)}


def _etag(item_id: str) -> str:
    return hashlib.sha1(item_id.encode()).hexdigest()


def _payments(rng: random.Random, ids: _Ids, period: Period, count: int, invoices: int) -> list[dict]:
    """Payments debtors made straight to the creditor, booked in the period."""
    days = banking_days(period.start, period.end)
    items = []
    for n in range(1, count + 1):
        day = rng.choice(days)
        created = at(day, 9 * 3600 + rng.randrange(3600))
        invoice = rng.randrange(1, invoices + 1)
        amount = kronor(rng, 200, 15000)
        item = {"_id": ids.new(created), "_created": rfc1123(created), "_updated": rfc1123(created), "_etag": "",
                "account": "674dbeaf08847b9501cc9132", "creditor": CREDITOR,
                "invoice_number": f"INV-{day.year}-{invoice:06d}", "currency": "SEK",
                "amount": json_amount(amount), "bank_transaction_date": rfc1123(previous_banking_day(day)),
                "client_registration_date": rfc1123(created), "creditor_payment_reference": f"DIR-{n:05d}",
                "origin": "creditor_system", "settled_amount": json_amount(amount), "status": "completed",
                "case_invoice_number": f"INV-{day.year}-{invoice:06d}",
                "case_reference_number": f"{day.year % 100}{invoice:06d}", "booking_date": rfc1123(day)}
        item["_etag"] = _etag(item["_id"])
        items.append(item)
    return items


def parse_period(text: str) -> Period:
    return quarter(text) if "q" in text.lower() else month(text)


def generate(lines: int, *, seed: int = 2025, period: str = "2025-06") -> Dataset:
    """A period with exactly ``lines`` specification lines, all in payouts of the period."""
    if lines < 1:
        raise ValueError("lines must be at least 1")
    p = parse_period(period)
    gen = _Generator(lines, seed, p)
    gen.lines()
    writer = _Writer(gen.ids)
    for (day, category), group in sorted(gen.daily.items(), key=lambda kv: (kv[0][0], DAILY.index(kv[0][1]))):
        booked = previous_banking_day(day)
        writer.payout(category, "daily", booked, booked, day, group)
    for day, group in sorted(gen.monthly.items()):
        first = (day.replace(day=1) - relativedelta(months=1))
        writer.payout("creditor_outlay", "monthly", first, day.replace(day=1) - timedelta(days=1), day, group)
    payments = _payments(gen.rng, gen.ids, p, max(3, lines // 2000), gen.invoices)
    order = lambda item: (timestamps.parse(item["_created"]), item["_id"])  # noqa: E731
    return Dataset(CREDITOR, p, sorted(writer.payouts, key=order), sorted(writer.specifications, key=order),
                   sorted(payments, key=order), dict(sorted(writer.media.items())))


def check(data: Dataset) -> None:
    """Every payout's lines sum to its totals and its summary, per article, to the öre."""
    by_payout: dict[str, list[dict]] = {}
    for line in data.specifications:
        by_payout.setdefault(line["payout"], []).append(line)
    assert sum(map(len, by_payout.values())) == len(data.specifications)
    for payout in data.payouts:
        lines = by_payout.pop(payout["_id"])
        for name in ("amount", "vat_amount", "total_amount"):
            assert sum(line[name] for line in lines) == payout[name], (payout["_id"], name)
        assert payout["amount"] + payout["vat_amount"] == payout["total_amount"]
        counts = Counter(line["article"] for line in lines)
        assert {a: s["count"] for a, s in payout["summary"].items()} == dict(counts), payout["_id"]
        for article, row in payout["summary"].items():
            for name in ("amount", "vat_amount", "total_amount"):
                assert row[name] == sum(line[name] for line in lines if line["article"] == article)
        assert timestamps.parse_day(payout["payout_date"]) in data.period
    assert not by_payout, "lines outside every payout"
    assert len(data.media) == sum(1 for p in data.payouts if p["finance_category"] == "creditor_commission")
