"""The invoice payments: one row per invoice and voucher, adding up exactly to the receivable account's credit."""

from __future__ import annotations

import importlib.util
import sys
from dataclasses import replace
from decimal import Decimal
from pathlib import Path

import pytest
import simplejson

from ledger_export.amili.models import CreditorPayment, Payout, PeriodData, Specification
from ledger_export.core.money import ZERO
from ledger_export.core.period import month
from ledger_export.ledger.invoice_payments import InvoicePayments, InvoicePaymentsMismatch, invoice_payments
from ledger_export.ledger.settings import LedgerSettings
from ledger_export.ledger.vouchers import build_ledger
from support.records import D, new_id, payout, period_data, spec

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "samples" / "amili"
DETAILS = ("account", "invoice")
SETTINGS = {
    "default": LedgerSettings(),
    "clearing 1689": LedgerSettings(receivable_account=1689),
    "receivable outlay fees": LedgerSettings(receivable_account=1689, outlay_fees="receivable"),
}


def credited(ledger, account: int) -> Decimal:
    """Credit minus debit on ``account`` over every voucher line: what the rows must add up to."""
    return sum((-line.amount for v in ledger.vouchers for line in v.lines if line.account == account), ZERO)


def check(data: PeriodData, settings: LedgerSettings, detail: str) -> InvoicePayments:
    ledger = build_ledger(data, settings, detail=detail)
    result = invoice_payments(ledger, data)
    assert result.account == settings.receivable_account
    assert sum((p.amount for p in result.payments), ZERO) == credited(ledger, result.account) == result.credited
    for p in result.payments:
        # The voucher named is the one at that position, as the Vouchers sheet numbers them.
        voucher = ledger.vouchers[p.voucher_number - 1]
        assert (voucher.payout_id, voucher.payout_reference, voucher.date, voucher.series) == (
            p.payout_id, p.payout_reference, p.voucher_date, p.voucher_series)
    return result


@pytest.fixture(scope="module")
def capital_and_outlay() -> PeriodData:
    capital_id, outlay_id = new_id(), new_id()
    capital = [spec(capital_id, "capital", "capital", 1000, invoice="INV-1"),
               spec(capital_id, "capital", "capital", 500, invoice="INV-2"),
               spec(capital_id, "capital", "capital", -200, invoice="INV-1")]  # a reversal nets in
    outlay = [spec(outlay_id, "creditor_outlay", "invoice_fee", 45, invoice="INV-1"),
              spec(outlay_id, "creditor_outlay", "reminder", 60, invoice="INV-3"),
              spec(outlay_id, "creditor_outlay", "enforcement", 600, invoice="INV-3")]
    return period_data([payout("capital", capital, id=capital_id),
                        payout("creditor_outlay", outlay, id=outlay_id, reference="65433",
                               created="Fri, 13 Jun 2025 09:00:00 GMT")], capital + outlay)


@pytest.mark.parametrize("detail", DETAILS)
def test_one_row_per_invoice_and_voucher_with_the_amount_that_settles_it(capital_and_outlay, detail):
    result = check(capital_and_outlay, LedgerSettings(), detail)
    assert [(p.voucher_number, p.invoice_number, p.amount, p.articles) for p in result.payments] == [
        (1, "INV-1", D(800), ("capital",)), (1, "INV-2", D(500), ("capital",)),
        (2, "INV-1", D(45), ("invoice_fee",))]
    first = result.payments[0]
    assert (first.reference_number, first.case, first.account, first.payout_reference) == (
        "25020", "67f52a832d147771dc5aa1f6", 1510, "65432")
    assert [str(d) for d in first.booking_dates] == ["2025-06-11"] and len(first.specification_ids) == 2
    assert result.total == D(1345)


def test_receivable_outlay_fees_join_and_the_clearing_account_is_named(capital_and_outlay):
    result = check(capital_and_outlay, SETTINGS["receivable outlay fees"], "account")
    assert {(p.invoice_number, p.amount) for p in result.payments if p.voucher_number == 2} == {
        ("INV-1", D(45)), ("INV-3", D(60))}
    assert {p.account for p in result.payments} == {1689}


def test_an_invoice_paid_by_two_payouts_has_a_row_for_each_voucher():
    first, second = new_id(), new_id()
    a = spec(first, "capital", "capital", 300, invoice="INV-9")
    b = spec(second, "capital", "capital", 700, invoice="INV-9")
    data = period_data([payout("capital", [a], id=first),
                        payout("capital", [b], id=second, reference="65499", created="Sat, 14 Jun 2025 08:00:00 GMT",
                               day=month("2025-06").end)], [a, b])
    result = check(data, LedgerSettings(), "account")
    assert [(p.invoice_number, p.amount, p.voucher_number, str(p.voucher_date)) for p in result.payments] == [
        ("INV-9", D(300), 1, "2025-06-13"), ("INV-9", D(700), 2, "2025-06-30")]


def test_a_refund_alone_is_a_negative_payment():
    pid = new_id()
    line = spec(pid, "capital", "capital", -500, invoice="INV-4")
    result = check(period_data([payout("capital", [line], id=pid)], [line]), LedgerSettings(), "account")
    assert [(p.invoice_number, p.amount) for p in result.payments] == [("INV-4", D(-500))]
    assert result.credited == D(-500)


def test_a_payout_booked_from_its_summary_is_a_row_without_an_invoice():
    summary = {"capital": {"count": 2, "amount": D(900), "vat_amount": D(0), "total_amount": D(900)}}
    data = period_data([payout("capital", [], amount=900, vat=0, summary=summary)], [])
    result = check(data, LedgerSettings(), "account")
    (row,) = result.payments
    assert (row.invoice_number, row.amount, row.articles, row.from_summary) == (None, D(900), ("capital",), True)


def test_no_receivable_in_the_period_is_no_rows_and_nothing_credited():
    pid = new_id()
    line = spec(pid, "interest", "interest", 80, invoice="INV-5")
    result = check(period_data([payout("interest", [line], id=pid)], [line]), LedgerSettings(), "account")
    assert result.payments == () and result.credited == ZERO


def test_rows_that_do_not_add_up_cannot_be_made(capital_and_outlay):
    result = invoice_payments(build_ledger(capital_and_outlay, LedgerSettings()), capital_and_outlay)
    with pytest.raises(InvoicePaymentsMismatch, match="total 1345.00, but the ledger credits 1345.01 to account 1510"):
        replace(result, credited=result.credited + D("0.01"))
    with pytest.raises(InvoicePaymentsMismatch):
        replace(result, payments=result.payments[1:])


def test_a_receivable_line_whose_specification_lines_are_missing_is_a_bug_not_a_row(capital_and_outlay):
    ledger = build_ledger(capital_and_outlay, LedgerSettings())
    without_lines = replace(capital_and_outlay, specifications=capital_and_outlay.specifications[1:])
    with pytest.raises(InvoicePaymentsMismatch, match="is not its specification lines' amounts"):
        invoice_payments(ledger, without_lines)


def _june() -> PeriodData:
    period = month("2025-06")
    raw_payouts = simplejson.loads((SAMPLES / "finance--payouts.json").read_text(encoding="utf-8"), use_decimal=True)
    raw_lines = simplejson.loads((SAMPLES / "finance--payout-specifications.json").read_text(encoding="utf-8"),
                                 use_decimal=True)
    payouts = [p for p in map(Payout.from_api, raw_payouts) if p.payout_date and p.payout_date in period]
    ids = {p.id for p in payouts}
    lines = [s for s in map(Specification.from_api, raw_lines) if s.payout in ids]
    return PeriodData("686e6ed854377058c2dd10bd", period, tuple(payouts), tuple(lines), ())


@pytest.mark.skipif(not (SAMPLES / "finance--payouts.json").exists(), reason="sample period not generated")
@pytest.mark.parametrize("detail", DETAILS)
@pytest.mark.parametrize("name", SETTINGS)
def test_the_sample_period_adds_up_to_the_credit_on_the_account(name, detail):
    result = check(_june(), SETTINGS[name], detail)
    # Summed by hand (test_ledger_sample.py's docstring): capital 1 149 707.65 + invoice fees 135.00,
    # and with receivable outlay fees reminders 180.00 and late-payment fees 1 800.00 too.
    expected = D("1149842.65") + (D("1980.00") if SETTINGS[name].outlay_fees == "receivable" else ZERO)
    assert result.total == expected
    assert len({p.invoice_number for p in result.payments}) > 100 and all(p.invoice_number for p in result.payments)


def _benchmark_period(lines: int) -> PeriodData:
    spec_ = importlib.util.spec_from_file_location("benchmarks_generate", ROOT / "benchmarks" / "generate.py")
    module = importlib.util.module_from_spec(spec_)
    sys.modules[spec_.name] = module
    spec_.loader.exec_module(module)
    data = module.generate(lines)
    return PeriodData(data.creditor, data.period, tuple(map(Payout.from_api, data.payouts)),
                      tuple(map(Specification.from_api, data.specifications)),
                      tuple(map(CreditorPayment.from_api, data.payments)))


@pytest.mark.parametrize("detail", DETAILS)
def test_the_benchmark_generators_period_adds_up_to_the_credit_on_the_account(detail):
    data = _benchmark_period(3000)
    result = check(data, SETTINGS["receivable outlay fees"], detail)
    capital = sum((s.amount for s in data.specifications if s.finance_category == "capital"), ZERO)
    assert result.total > capital > ZERO and len(result.payments) > 100
