"""Builders of Amili records for the ledger tests (no tests here).

Records go through ``from_api`` like real ones, so the ledger tests see
exactly what the fetch stage would hand over.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from ledger_export.amili import timestamps
from ledger_export.amili.models import Payout, PeriodData, Specification
from ledger_export.core.period import month

CREDITOR = "686e6ed854377058c2dd10bd"
_ids = iter(range(1, 10**9))


def new_id() -> str:
    return f"{next(_ids):024x}"


def D(value) -> Decimal:
    return Decimal(str(value)).quantize(Decimal("0.01"))


def spec(payout_id: str, category: str, article: str, amount, vat=0, invoice: str | None = None, *, total=None,
         currency: str = "SEK", id: str | None = None) -> Specification:
    amount, vat = D(amount), D(vat)
    return Specification.from_api({
        "_id": id or new_id(), "_etag": "e", "_created": "Wed, 11 Jun 2025 14:00:18 GMT",
        "creditor": CREDITOR, "currency": currency, "payout": payout_id, "payout_reference": "65432",
        "booking_date": "Wed, 11 Jun 2025 00:00:00 GMT", "invoice_number": invoice,
        "reference_number": "25020", "references": {"case": "67f52a832d147771dc5aa1f6"},
        "article": article, "finance_category": category,
        "amount": amount, "vat_amount": vat, "total_amount": D(total) if total is not None else amount + vat,
    })


def summary_of(lines) -> dict:
    out: dict = {}
    for s in lines:
        entry = out.setdefault(s.article, {"count": 0, "amount": D(0), "vat_amount": D(0), "total_amount": D(0)})
        entry["count"] += 1
        entry["amount"] += s.amount
        entry["vat_amount"] += s.vat_amount
        entry["total_amount"] += s.total_amount
    return out


def payout(category: str, lines=(), *, id: str | None = None, amount=None, vat=None, total=None,
           summary: dict | None = None, day: date | None = date(2025, 6, 13), ledger_account: int | None = 1930,
           currency: str = "SEK", reference: str = "65432", document: str | None = None,
           created: str = "Fri, 13 Jun 2025 08:00:00 GMT") -> Payout:
    """A payout whose totals and summary agree with ``lines`` unless given."""
    amount = D(amount) if amount is not None else sum((s.amount for s in lines), D(0))
    vat = D(vat) if vat is not None else sum((s.vat_amount for s in lines), D(0))
    item = {
        "_id": id or (lines[0].payout if lines else new_id()), "_etag": "etag-" + category,
        "_created": created, "creditor": CREDITOR, "currency": currency, "payout_reference": reference,
        "payout_date": timestamps.format(day) if day else None, "ledger_account": ledger_account,
        "amount": amount, "vat_amount": vat, "total_amount": D(total) if total is not None else amount + vat,
        "summary": summary if summary is not None else summary_of(lines), "finance_category": category,
        "finance_interval": "daily",
    }
    if document:
        item["document"] = {"file": "507f1f77bcf86cd799439103", "name": document, "length": 45678,
                            "content_type": "application/pdf"}
    return Payout.from_api(item)


def period_data(payouts, lines, period: str = "2025-06") -> PeriodData:
    return PeriodData(CREDITOR, month(period), tuple(payouts), tuple(lines), ())


def one_payout(category: str, rows, **kwargs) -> PeriodData:
    """A period with one payout of ``category`` made of ``rows`` (article, amount, vat[, invoice])."""
    pid = kwargs.pop("id", None) or new_id()
    lines = [spec(pid, category, *row) for row in rows]
    return period_data([payout(category, lines, id=pid, **kwargs)], lines)
