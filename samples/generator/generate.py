"""Generate the sample period (June 2025) exactly as Amili's API would return it.

Run: .venv/bin/python samples/generator/generate.py [--out DIR]

Seeded and free of wall-clock input, so every run rewrites the committed
files byte for byte. The data is built from debtor payments: each payment
settles one invoice's capital, interest and fees, and its lines are grouped
into one payout per (finance category, period) the way Amili schedules them.
What the sample must show (and ``check`` asserts) is described in
samples/README.md.
"""

from __future__ import annotations

import argparse
import hashlib
import random
import sys
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import simplejson

import selfinvoice
from debtor_payments import Batch, Ids, Invoice, Line, at, build_lines
from ledger_export.amili import timestamps
from ledger_export.core.money import ZERO

SEED = 20250601
CREDITOR = "686e6ed854377058c2dd10bd"
COMPANY = "Exempelbolaget AB"
ORGNR = "556677-8899"
BANK_ACCOUNT = 1930
# The creditor's account at Amili (the id in Amili's creditor-payment example).
ACCOUNT = "674dbeaf08847b9501cc9132"
# One payout without ledger_account, so the configured default bank account applies.
WITHOUT_LEDGER_ACCOUNT = (date(2025, 6, 19), "interest")
CATEGORIES = ("capital", "interest", "creditor_commission", "creditor_outlay")
# Capital and interest paid on the same day travel in one bank transfer, so
# Amili gives them one payout reference; commission gets its own.
REFERENCE_GROUP = {"capital": 0, "interest": 0, "creditor_commission": 1, "creditor_outlay": 2}


def rfc1123(moment: datetime | date) -> str:
    return timestamps.format(moment)


def json_amount(value: Decimal) -> Decimal:
    """Amili's JSON form of an amount: 60.0, 12.5, 1234.57 (never more than two decimals)."""
    value = value.normalize()
    return value.quantize(Decimal("0.0")) if value.as_tuple().exponent >= -1 else value


def kr(value: Decimal) -> str:
    """Swedish form for the PDF: 20 538,00 kr."""
    return f"{value:,.2f}".replace(",", " ").replace(".", ",") + " kr"


def etag(item: dict) -> str:
    body = simplejson.dumps({k: v for k, v in item.items() if k != "_etag"}, use_decimal=True, sort_keys=True)
    return hashlib.sha1(body.encode()).hexdigest()


def finance_period(interval: str, start: date) -> dict:
    if interval == "daily":
        end = start + timedelta(days=1)
        fields = {"finance_period_day": start.timetuple().tm_yday}
    else:
        end = (start.replace(day=28) + timedelta(days=4)).replace(day=1)
        fields = {"finance_period_month": start.month}
    return {
        "finance_interval": interval,
        "finance_period_start_date": rfc1123(start),
        "finance_period_end_date": rfc1123(end),
        **fields,
        "finance_period_quarter": (start.month - 1) // 3 + 1,
        "finance_period_half_year": 1 if start.month <= 6 else 2,
        "finance_period_year": start.year,
    }


def payout_summary(lines: list[Line]) -> dict:
    summary: dict[str, dict] = {}
    for article in sorted({line.article for line in lines}):
        picked = [line for line in lines if line.article == article]
        amount = sum((line.amount for line in picked), ZERO)
        vat = sum((line.vat_amount for line in picked), ZERO)
        summary[article] = {"count": len(picked), "amount": json_amount(amount),
                            "vat_amount": json_amount(vat), "total_amount": json_amount(amount + vat)}
    return summary


class Writer:
    """Turns batches of lines into Amili's payout, specification and media records."""

    def __init__(self, ids: Ids):
        self.ids = ids
        self.payouts: list[dict] = []
        self.specifications: list[dict] = []
        self.media: dict[str, bytes] = {}
        self.references = 0

    def specification(self, line: Line, created: datetime, payout: dict | None) -> dict:
        item = {"_id": self.ids.new(created), "_created": rfc1123(created),
                "_updated": payout["_updated"] if payout else rfc1123(created), "_etag": "",
                "creditor": CREDITOR, "currency": "SEK"}
        if payout:
            item |= {"payout": payout["_id"], "payout_reference": payout["payout_reference"],
                     "payout_interval": payout["finance_interval"]}
        item |= {
            "payout_date": payout["payout_date"] if payout else None,
            "booking_date": rfc1123(line.booking_date),
            "invoice_number": line.invoice.number,
            "reference_number": line.invoice.reference_number,
            "references": {"case": line.invoice.case},
            "article": line.article,
            "finance_category": line.category,
            "state": line.invoice.state,
            "amount": json_amount(line.amount),
            "vat_amount": json_amount(line.vat_amount),
            "total_amount": json_amount(line.amount + line.vat_amount),
            "banking_transaction": {"_id": line.banking_transaction},
        }
        item["_etag"] = etag(item)
        return item

    def payout(self, batch: Batch, category: str, lines: list[Line], references: dict) -> None:
        # Amili schedules a payout early the day after its period closes.
        created = at(batch.period_end + timedelta(days=1), 3600 * 4 + len(self.payouts))
        updated = at(batch.payout_date, 3600 * 8)
        key = (batch.payout_date, REFERENCE_GROUP[category])
        if key not in references:
            self.references += 1
            references[key] = str(65400 + self.references)
        amount = sum((line.amount for line in lines), ZERO)
        vat = sum((line.vat_amount for line in lines), ZERO)
        item = {
            "_id": self.ids.new(created), "_created": rfc1123(created), "_updated": rfc1123(updated),
            "_etag": "", "creditor": CREDITOR, "currency": "SEK",
            "payout_reference": references[key], "ready_for_payout": True,
            "bank_payout_request": self.ids.new(updated), "payout_date": rfc1123(batch.payout_date),
        }
        if (batch.payout_date, category) != WITHOUT_LEDGER_ACCOUNT:
            item["ledger_account"] = BANK_ACCOUNT
        item |= {
            "amount": json_amount(amount), "vat_amount": json_amount(vat),
            "total_amount": json_amount(amount + vat), "summary": payout_summary(lines),
            "finance_category": category, **finance_period(batch.interval, batch.period_start),
        }
        if category == "creditor_commission":
            item["document"] = self.self_invoice(created, item, lines)
        item["_etag"] = etag(item)
        self.payouts.append(item)
        for line in lines:
            self.specifications.append(self.specification(line, line.created, item))

    def self_invoice(self, created: datetime, payout: dict, lines: list[Line]) -> dict:
        file_id = self.ids.new(created)
        day = payout.get("finance_period_day") or payout.get("finance_period_month")
        number = f"SF-{payout['finance_period_year']}-{day:03d}"
        paid = timestamps.parse_day(payout["payout_date"])
        text = [f"Självfaktura {number}",
                f"Säljare: {COMPANY}, org.nr {ORGNR}",
                "Utfärdad av köparen Amili AB på säljarens vägnar (självfakturering).",
                f"Fakturadatum {paid.isoformat()}, utbetalningsreferens {payout['payout_reference']}",
                ""]
        for article, row in payout["summary"].items():
            text.append(f"{article}: {row['count']} st, {kr(row['amount'])} exkl. moms, "
                        f"moms {kr(row['vat_amount'])}")
        text += ["", f"Summa exkl. moms: {kr(payout['amount'])}",
                 f"Utgående moms 25 %: {kr(payout['vat_amount'])}",
                 f"Att betala: {kr(payout['total_amount'])}"]
        pdf = selfinvoice.render(text)
        self.media[file_id] = pdf
        return {"file": file_id, "content_type": "application/pdf",
                "name": f"self_invoice_{number}.pdf", "length": len(pdf)}


def creditor_payments(rng: random.Random, ids: Ids, invoices: list[Invoice]) -> list[dict]:
    """Payments debtors made straight to the creditor, reported to Amili (some outside June)."""
    plans = [  # (booking day, amount, by case?, status)
        (date(2025, 5, 20), Decimal("2500.00"), False, "completed"),
        (date(2025, 6, 5), Decimal("1840.50"), False, "completed"),
        (date(2025, 6, 9), Decimal("760.00"), True, "completed"),
        (date(2025, 6, 16), Decimal("12000.00"), False, "completed"),
        (date(2025, 6, 23), Decimal("5000.00"), False, "warning"),
        (date(2025, 6, 27), Decimal("315.25"), True, "completed"),
        (date(2025, 7, 3), Decimal("980.00"), False, "completed"),
    ]
    items = []
    known = [invoice for invoice in invoices if invoice.paid > 0]
    for n, (day, amount, by_case, status) in enumerate(plans, start=1):
        invoice = known[rng.randrange(len(known))]
        paid = at(day - timedelta(days=1), 3600 * 15 + rng.randrange(3600))
        created = at(day, 3600 * 9 + rng.randrange(3600))
        item = {"_id": ids.new(created), "_created": rfc1123(created), "_updated": rfc1123(created),
                "_etag": "", "account": ACCOUNT, "creditor": CREDITOR}
        item |= {"case": invoice.case} if by_case else {"invoice_number": invoice.number}
        # A payment larger than what is left on the case is settled only in part.
        settled = amount - Decimal("150.00") if status == "warning" else amount
        item |= {
            "currency": "SEK", "amount": json_amount(amount),
            "bank_transaction_date": rfc1123(paid), "client_registration_date": rfc1123(created),
            "creditor_payment_reference": f"DIR-2025-{n:03d}", "origin": "creditor_system",
            "settled_amount": json_amount(settled), "status": status,
        }
        if status == "warning":
            item["status_reason_locale"] = "creditor_payment.status_reason.overpayment"
        item |= {"case_invoice_number": invoice.number, "case_reference_number": invoice.reference_number,
                 "booking_date": rfc1123(day)}
        item["_etag"] = etag(item)
        items.append(item)
    return items


def build() -> dict:
    rng = random.Random(SEED)
    ids = Ids(rng)
    invoices, batches, unlinked = build_lines(rng, ids)
    writer = Writer(ids)
    references: dict = {}
    for batch in batches:
        for category in CATEGORIES:
            lines = [line for line in batch.lines if line.category == category]
            if lines:
                writer.payout(batch, category, lines, references)
    writer.specifications.append(writer.specification(unlinked, unlinked.created, None))
    payments = creditor_payments(rng, writer.ids, invoices)
    order = lambda item: (timestamps.parse(item["_created"]), item["_id"])  # noqa: E731
    return {
        "finance--payouts": sorted(writer.payouts, key=order),
        "finance--payout-specifications": sorted(writer.specifications, key=order),
        "creditor--payments": sorted(payments, key=order),
        "media": dict(sorted(writer.media.items())),
    }


def write(out: Path, data: dict) -> None:
    folder = out / "amili"
    (folder / "media").mkdir(parents=True, exist_ok=True)
    for name in ("finance--payouts", "finance--payout-specifications", "creditor--payments"):
        text = simplejson.dumps(data[name], use_decimal=True, indent=2, ensure_ascii=False) + "\n"
        (folder / f"{name}.json").write_bytes(text.encode("utf-8"))
    for old in (folder / "media").glob("*.pdf"):
        if old.stem not in data["media"]:
            old.unlink()
    for file_id, pdf in data["media"].items():
        (folder / "media" / f"{file_id}.pdf").write_bytes(pdf)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parents[1],
                        help="folder to write amili/ into (default: the samples folder)")
    args = parser.parse_args(argv)
    from checks import check

    data = build()
    check(data)
    write(args.out, data)
    return 0


if __name__ == "__main__":
    sys.exit(main())
