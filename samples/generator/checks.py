"""What the sample period must show; the generator refuses to write data that breaks it."""

from __future__ import annotations

import re
from collections import Counter
from decimal import Decimal

from ledger_export.amili import timestamps

CREDITOR = "686e6ed854377058c2dd10bd"
SENSIBLE = {  # article: categories it may appear in
    "capital": {"capital"}, "interest": {"interest"},
    "reminder": {"creditor_outlay", "creditor_commission"},
    "invoice_fee": {"creditor_outlay"}, "late_payment_fee": {"creditor_outlay"},
    "verdict_fee": {"creditor_outlay"}, "enforcement": {"creditor_outlay"},
    **{a: {"creditor_commission"} for a in (
        "debt_collection", "cost", "amortization_setup", "amortization_advice", "amortization_reminder",
        "commission", "commission_intercompany", "finance_refund")},
}
AMOUNTS = ("amount", "vat_amount", "total_amount")


def month(item: dict, field: str) -> tuple[int, int] | None:
    value = item.get(field)
    if value is None:
        return None
    day = timestamps.parse_day(value)
    return day.year, day.month


def check_amounts(item: dict) -> None:
    for name in AMOUNTS:
        value = item[name]
        assert isinstance(value, Decimal) and value == value.quantize(Decimal("0.01")), (item["_id"], name)


def check_payout(payout: dict, lines: list[dict]) -> None:
    assert lines, payout["_id"]
    for name in AMOUNTS:
        assert sum(line[name] for line in lines) == payout[name], (payout["_id"], name)
    assert payout["amount"] + payout["vat_amount"] == payout["total_amount"]
    articles = Counter(line["article"] for line in lines)
    assert set(payout["summary"]) == set(articles), payout["_id"]
    for article, row in payout["summary"].items():
        picked = [line for line in lines if line["article"] == article]
        assert row["count"] == articles[article]
        for name in AMOUNTS:
            assert row[name] == sum(line[name] for line in picked), (payout["_id"], article, name)
    for line in lines:
        check_amounts(line)
        assert line["amount"] + line["vat_amount"] == line["total_amount"], line["_id"]
        assert line["finance_category"] == payout["finance_category"], line["_id"]
        assert line["payout_date"] == payout["payout_date"], line["_id"]
        assert line["payout_reference"] == payout["payout_reference"], line["_id"]
        vat = line["amount"] * Decimal("0.25") if line["finance_category"] == "creditor_commission" else 0
        assert line["vat_amount"] == vat, line["_id"]
        assert line["finance_category"] in SENSIBLE[line["article"]], line["_id"]
    if payout["finance_category"] == "creditor_commission":
        assert payout["document"]["content_type"] == "application/pdf"


def check(data: dict) -> None:
    payouts, lines, payments = (data[k] for k in (
        "finance--payouts", "finance--payout-specifications", "creditor--payments"))
    everything = payouts + lines + payments
    assert all(re.fullmatch(r"[0-9a-f]{24}", item["_id"]) for item in everything)
    assert len({item["_id"] for item in everything}) == len(everything)
    assert all(item["creditor"] == CREDITOR and item["currency"] == "SEK" for item in everything)

    by_payout: dict[str, list[dict]] = {}
    for line in lines:
        by_payout.setdefault(line.get("payout"), []).append(line)
    for payout in payouts:
        check_payout(payout, by_payout.get(payout["_id"], []))
        if payout.get("document"):
            pdf = data["media"][payout["document"]["file"]]
            assert payout["document"]["length"] == len(pdf) and pdf.startswith(b"%PDF-")
    assert set(by_payout) - {None} <= {p["_id"] for p in payouts}

    june = [p for p in payouts if month(p, "payout_date") == (2025, 6)]
    june_lines = [line for p in june for line in by_payout[p["_id"]]]
    assert len(june) >= 12
    assert {p["finance_category"] for p in june} == set(Counter(v for s in SENSIBLE.values() for v in s))
    intervals = Counter(p["finance_interval"] for p in june)
    assert intervals["monthly"] >= 1 and intervals["daily"] > len(june) / 2
    assert len(june_lines) >= 300 and len({line["invoice_number"] for line in june_lines}) >= 40
    assert {line["article"] for line in june_lines} == set(SENSIBLE)
    assert any(line["article"] == "finance_refund" and line["amount"] < 0 for line in june_lines)
    assert any(line["article"] == "capital" and line["amount"] < 0 for line in june_lines)
    assert any(line["amount"] * 100 % 100 not in (0, 50) for line in june_lines)  # odd öre
    assert max(len(by_payout[p["_id"]]) for p in june) > 100
    assert sum(1 for p in june if p.get("document")) >= 2
    assert any("ledger_account" not in p for p in june)
    assert {month(p, "payout_date") for p in payouts} >= {(2025, 5), (2025, 7)}

    unlinked = by_payout.get(None, [])
    assert len(unlinked) == 1 and unlinked[0]["payout_date"] is None
    assert month(unlinked[0], "booking_date") == (2025, 6)

    booked = Counter(month(p, "booking_date") for p in payments)
    assert booked[(2025, 6)] >= 4 and booked[(2025, 5)] and booked[(2025, 7)]
    for payment in payments:
        assert ("case" in payment) != ("invoice_number" in payment), payment["_id"]
        assert payment["origin"] == "creditor_system" and payment["amount"] > 0
