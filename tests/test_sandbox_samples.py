"""The committed sample period shows what it promises, and the generator reproduces it exactly."""

from __future__ import annotations

import re
import subprocess
import sys
from collections import Counter, defaultdict
from decimal import Decimal

import pytest
import simplejson

from ledger_export.jobs import config
from ledger_export.amili import models
from ledger_export.amili import timestamps
from ledger_export.core.resources import SAMPLES

AMILI = SAMPLES / "amili"
CREDITOR = "686e6ed854377058c2dd10bd"
AMOUNTS = ("amount", "vat_amount", "total_amount")
CATEGORY_OF = {
    "capital": {"capital"}, "interest": {"interest"},
    "creditor_outlay": {"reminder", "invoice_fee", "late_payment_fee", "verdict_fee", "enforcement"},
    "creditor_commission": {"reminder", "debt_collection", "cost", "amortization_setup", "amortization_advice",
                            "amortization_reminder", "commission", "commission_intercompany", "finance_refund"},
}
ALL_ARTICLES = set().union(*CATEGORY_OF.values())


def load(resource: str) -> list[dict]:
    return simplejson.loads((AMILI / f"{resource}.json").read_text("utf-8"), use_decimal=True)


def month_of(item: dict, field: str) -> str | None:
    return timestamps.parse_day(item[field]).strftime("%Y-%m") if item.get(field) else None


@pytest.fixture(scope="module")
def sample():
    payouts, lines = load("finance--payouts"), load("finance--payout-specifications")
    by_payout = defaultdict(list)
    for line in lines:
        by_payout[line.get("payout")].append(line)
    june = [p for p in payouts if month_of(p, "payout_date") == "2025-06"]
    return {"payouts": payouts, "lines": lines, "payments": load("creditor--payments"),
            "by_payout": by_payout, "june": june,
            "june_lines": [line for p in june for line in by_payout[p["_id"]]]}


def test_generator_rewrites_the_committed_files_byte_for_byte(tmp_path):
    subprocess.run([sys.executable, str(SAMPLES / "generator" / "generate.py"), "--out", str(tmp_path)], check=True)
    committed = {p.relative_to(AMILI): p.read_bytes() for p in sorted(AMILI.rglob("*")) if p.is_file()}
    generated = {p.relative_to(tmp_path / "amili"): p.read_bytes()
                 for p in sorted((tmp_path / "amili").rglob("*")) if p.is_file()}
    assert generated.keys() == committed.keys()
    assert [name for name in committed if generated[name] != committed[name]] == []


def test_every_record_reads_as_the_ledger_models_expect(sample):
    assert all(models.Payout.from_api(p) for p in sample["payouts"])
    assert all(models.Specification.from_api(s) for s in sample["lines"])
    assert all(models.CreditorPayment.from_api(p) for p in sample["payments"])
    everything = sample["payouts"] + sample["lines"] + sample["payments"]
    assert all(re.fullmatch(r"[0-9a-f]{24}", item["_id"]) for item in everything)
    assert len({item["_id"] for item in everything}) == len(everything)
    assert {(item["creditor"], item["currency"]) for item in everything} == {(CREDITOR, "SEK")}


def test_june_payouts_cover_every_category_mostly_daily(sample):
    june = sample["june"]
    assert len(june) >= 12
    assert {p["finance_category"] for p in june} == set(CATEGORY_OF)
    intervals = Counter(p["finance_interval"] for p in june)
    assert intervals["monthly"] >= 1 and intervals["daily"] > len(june) / 2
    assert [p.get("ledger_account") for p in june].count(None) >= 1
    assert {p.get("ledger_account") for p in june} == {1930, None}


def test_june_lines_span_many_invoices_and_every_article_in_its_category(sample):
    lines = sample["june_lines"]
    assert len(lines) >= 300
    assert len({line["invoice_number"] for line in lines}) >= 40
    assert {line["article"] for line in lines} == ALL_ARTICLES
    assert all(line["article"] in CATEGORY_OF[line["finance_category"]] for line in sample["lines"])
    assert all(re.fullmatch(r"INV-2025-\d{4}", line["invoice_number"]) for line in sample["lines"])


def test_each_payout_equals_the_sum_of_its_lines_and_its_summary(sample):
    for payout in sample["payouts"]:
        lines = sample["by_payout"][payout["_id"]]
        assert lines, payout["_id"]
        for field in AMOUNTS:
            assert sum(line[field] for line in lines) == payout[field], (payout["_id"], field)
        summary = {}
        for article in {line["article"] for line in lines}:
            picked = [line for line in lines if line["article"] == article]
            summary[article] = {"count": len(picked), **{f: sum(line[f] for line in picked) for f in AMOUNTS}}
        assert payout["summary"] == summary, payout["_id"]
        assert all(line["payout_date"] == payout["payout_date"] for line in lines)


def test_vat_is_exactly_25_percent_on_commission_and_zero_elsewhere(sample):
    for line in sample["lines"]:
        rate = Decimal("0.25") if line["finance_category"] == "creditor_commission" else 0
        assert line["vat_amount"] == line["amount"] * rate, line["_id"]
        assert line["total_amount"] == line["amount"] + line["vat_amount"], line["_id"]
        assert all(line[f] == line[f].quantize(Decimal("0.01")) for f in AMOUNTS)


def test_refunds_odd_ore_and_a_payout_longer_than_a_page(sample):
    lines = sample["june_lines"]
    assert any(line["article"] == "finance_refund" and line["amount"] < 0 for line in lines)
    assert any(line["article"] == "capital" and line["amount"] < 0 for line in lines)
    assert any(line["amount"] % Decimal("0.5") != 0 for line in lines)
    assert max(len(sample["by_payout"][p["_id"]]) for p in sample["june"]) > 100


def test_self_invoice_pdfs_are_valid_and_match_their_length(sample):
    commission = [p for p in sample["payouts"] if p["finance_category"] == "creditor_commission"]
    assert all("document" in p for p in commission)
    assert sum(1 for p in sample["june"] if "document" in p) >= 2
    for payout in commission:
        document = payout["document"]
        pdf = (AMILI / "media" / f"{document['file']}.pdf").read_bytes()
        assert document["length"] == len(pdf) and document["content_type"] == "application/pdf"
        assert pdf.startswith(b"%PDF-1.4\n") and pdf.endswith(b"%%EOF\n")
        assert "Självfaktura".encode("cp1252") in pdf
        xref_at = int(re.search(rb"startxref\n(\d+)\n", pdf).group(1))
        assert pdf[xref_at:].startswith(b"xref\n")
        offsets = re.findall(rb"(\d{10}) 00000 n \n", pdf[xref_at:])
        for number, offset in enumerate(offsets, start=1):
            assert pdf[int(offset):].startswith(f"{number} 0 obj\n".encode())


def test_records_a_june_run_must_leave_alone_are_there(sample):
    months = Counter(month_of(p, "payout_date") for p in sample["payouts"])
    assert months["2025-05"] and months["2025-07"]
    outside = [p for p in sample["payouts"] if month_of(p, "payout_date") != "2025-06"]
    assert all(sample["by_payout"][p["_id"]] for p in outside)
    unlinked = sample["by_payout"][None]
    assert len(unlinked) == 1 and unlinked[0]["payout_date"] is None
    assert month_of(unlinked[0], "booking_date") == "2025-06"


def test_direct_creditor_payments(sample):
    payments = sample["payments"]
    booked = Counter(month_of(p, "booking_date") for p in payments)
    assert booked["2025-06"] >= 4 and booked["2025-05"] and booked["2025-07"]
    for payment in payments:
        assert ("case" in payment) != ("invoice_number" in payment)
        assert payment["origin"] == "creditor_system" and payment["amount"] > 0
        assert payment["status"] in ("completed", "warning", "error")


def test_sample_configuration_is_accepted():
    loaded = config.load(SAMPLES / "ledger-export.toml")
    assert loaded.company.name == "Exempelbolaget AB" and loaded.company.orgnr == "556677-8899"
    assert loaded.amili.base_url == "http://127.0.0.1:8765" and loaded.amili.creditor == CREDITOR


def test_sandbox_keys_are_a_matching_pair():
    import jwt

    private = (SAMPLES / "keys" / "sandbox-creditor-es512.pem").read_bytes()
    public = (SAMPLES / "keys" / "sandbox-creditor-es512.pub.pem").read_bytes()
    token = jwt.encode({"api_code": "x"}, private, algorithm="ES512")
    assert jwt.decode(token, public, algorithms=["ES512"]) == {"api_code": "x"}
