"""The bundled June 2025 sample period, booked with the default configuration.

The expected figures were summed by hand from samples/amili/*.json per
category and article (a one-off script that uses none of ledger-export's
code), then mapped with the BRIEF's table:

    capital/capital              187 lines  1 149 707.65         -> 1510
    creditor_outlay/invoice_fee    3 lines        135.00         -> 1510
    interest/interest            123 lines     24 750.58         -> 8313
    creditor_commission/*        158 lines     28 317.32 + VAT 7 079.33 -> 3921 + 2611
        (incl. one finance_refund of -180.00 / -45.00)
    creditor_outlay/reminder       3 lines        180.00  \\
    creditor_outlay/late_payment_fee 4 lines    1 800.00  /  -> 3990
    creditor_outlay/enforcement    5 lines      3 000.00  \\
    creditor_outlay/verdict_fee    4 lines      1 200.00  /  -> 6062
    13 payouts, total_amount     1 216 169.88            -> 1930 (one payout has no
                                                            ledger_account: 4 737.34)
"""

from decimal import Decimal
from pathlib import Path

import pytest
import simplejson

from ledger_export.amili.models import Payout, PeriodData, Specification
from ledger_export.ledger.settings import LedgerSettings
from ledger_export.ledger.vouchers import build_ledger
from ledger_export.core.period import month

SAMPLES = Path(__file__).resolve().parents[1] / "samples" / "amili"
CREDITOR = "686e6ed854377058c2dd10bd"

pytestmark = pytest.mark.skipif(not (SAMPLES / "finance--payouts.json").exists(),
                                reason="sample period samples/amili not generated")


def D(text: str) -> Decimal:
    return Decimal(text)


@pytest.fixture(scope="module")
def june() -> PeriodData:
    period = month("2025-06")
    raw_payouts = simplejson.loads((SAMPLES / "finance--payouts.json").read_text(encoding="utf-8"), use_decimal=True)
    raw_lines = simplejson.loads((SAMPLES / "finance--payout-specifications.json").read_text(encoding="utf-8"),
                                 use_decimal=True)
    payouts = [p for p in map(Payout.from_api, raw_payouts) if p.payout_date and p.payout_date in period]
    ids = {p.id for p in payouts}
    lines = [s for s in map(Specification.from_api, raw_lines) if s.payout in ids]
    return PeriodData(CREDITOR, period, tuple(payouts), tuple(lines), ())


EXPECTED = {
    1510: D("-1149842.65"),
    1930: D("1216169.88"),
    2611: D("-7079.33"),
    3921: D("-28317.32"),
    3990: D("-1980.00"),
    6062: D("-4200.00"),
    8313: D("-24750.58"),
}


def test_sample_input_is_what_the_hand_sums_were_made_from(june):
    assert (len(june.payouts), len(june.specifications)) == (13, 487)


def test_june_maps_to_the_hand_computed_account_totals(june):
    ledger = build_ledger(june, LedgerSettings())
    assert ledger.account_totals() == EXPECTED
    assert len(ledger.vouchers) == 13
    # bank + account per article group, VAT on the four commission payouts:
    # outlay 4, capital 4x2, interest 4x2, commission 4x3.
    assert sum(len(v.lines) for v in ledger.vouchers) == 32
    assert ledger.warnings == () and ledger.errors == ()


def test_june_in_invoice_detail_books_every_line_once_with_the_same_totals(june):
    ledger = build_ledger(june, LedgerSettings(), detail="invoice")
    assert ledger.account_totals() == EXPECTED
    assert sum(len(v.lines) for v in ledger.vouchers) == 13 + 487 + 4
    booked = sorted(i for v in ledger.vouchers for line in v.lines if line.account != 2611
                    for i in line.specification_ids)
    assert booked == sorted(s.id for s in june.specifications)


def test_june_with_the_receivable_switch_and_another_default_bank_account(june):
    settings = LedgerSettings(outlay_fees="receivable", bank_account=1940)
    totals = build_ledger(june, settings).account_totals()
    assert totals == {**{k: v for k, v in EXPECTED.items() if k not in (3990, 1930)},
                      1510: D("-1151822.65"), 1930: D("1211432.54"), 1940: D("4737.34")}


def test_june_commission_voucher_and_texts(june):
    ledger = build_ledger(june, LedgerSettings())
    commission = [v for v in ledger.vouchers if v.category == "creditor_commission"]
    assert [v.text for v in commission] == [
        "Amili self_invoice_SF-2025-154.pdf ref 65405", "Amili self_invoice_SF-2025-162.pdf ref 65407",
        "Amili self_invoice_SF-2025-169.pdf ref 65409", "Amili self_invoice_SF-2025-176.pdf ref 65411"]
    first = commission[0]
    assert [(line.account, line.amount) for line in first.lines] == [
        (1930, D("1804.35")), (3921, D("-1443.48")), (2611, D("-360.87"))]
    # Fortnox shows 50 characters of a text: the defaults stay within that on the sample.
    assert max(len(t) for v in ledger.vouchers for t in (v.text, *(line.text for line in v.lines))) <= 50
