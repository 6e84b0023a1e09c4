from datetime import date

from ledger_export.ledger.model import ERROR, OK, WARNING
from ledger_export.ledger.reconcile import failures, strict_failures
from ledger_export.ledger.settings import LedgerSettings
from ledger_export.ledger.vouchers import build_ledger
from support.records import D, new_id, one_payout, payout, period_data, spec, summary_of


def check(ledger, name):
    found = [f for f in ledger.findings if f.check == name]
    assert len(found) == 1, found
    return found[0]


def ledger_of(payouts, lines, **kwargs):
    return build_ledger(period_data(payouts, lines, **kwargs), LedgerSettings())


def test_payout_whose_amount_and_vat_do_not_make_its_total():
    pid = new_id()
    lines = [spec(pid, "capital", "capital", 100)]
    ledger = ledger_of([payout("capital", lines, id=pid, total="100.01")], lines)
    f = check(ledger, "payout_totals")
    assert f.severity == ERROR and f.payout_id == pid
    assert "amount 100.00 + vat_amount 0.00 = 100.00, but total_amount is 100.01" in f.message


def test_line_whose_amount_and_vat_do_not_make_its_total_is_named():
    pid = new_id()
    lines = [spec(pid, "creditor_commission", "reminder", 60, 15, "INV-7", total="75.01")]
    ledger = ledger_of([payout("creditor_commission", lines, id=pid)], lines)
    f = check(ledger, "line_totals")
    assert f.severity == ERROR
    assert f"line {lines[0].id} (invoice INV-7) 60.00 + 15.00 != 75.01" in f.message


def test_lines_that_disagree_with_the_payout_show_both_figures():
    pid = new_id()
    lines = [spec(pid, "creditor_commission", "reminder", 100, 25)]
    # Same total, VAT split differently: the voucher balances, the difference is still an error.
    p = payout("creditor_commission", lines, id=pid, amount=101, vat=24)
    ledger = ledger_of([p], lines)
    f = check(ledger, "lines_vs_payout")
    assert f.severity == ERROR
    assert "amount lines 100.00 vs payout 101.00 (difference -1.00)" in f.message
    assert "vat_amount lines 25.00 vs payout 24.00 (difference 1.00)" in f.message
    assert "total_amount" not in f.message
    assert check(ledger, "voucher").severity == OK
    assert check(ledger, "summary_vs_payout").severity == ERROR


def test_summary_amount_mismatch_is_an_error_and_count_mismatch_a_warning():
    pid = new_id()
    lines = [spec(pid, "capital", "capital", 100), spec(pid, "capital", "capital", 50)]
    summary = summary_of(lines)
    summary["capital"]["amount"] = D("150.10")
    ledger = ledger_of([payout("capital", lines, id=pid, summary=summary)], lines)
    f = check(ledger, "summary_vs_lines")
    assert f.severity == ERROR and "capital: amount lines 150.00 vs summary 150.10" in f.message

    summary = summary_of(lines)
    summary["capital"]["count"] = 3
    ledger = ledger_of([payout("capital", lines, id=pid, summary=summary)], lines)
    f = check(ledger, "summary_vs_lines")
    assert f.severity == WARNING and "capital: 2 lines vs summary count 3" in f.message


def test_summary_missing_an_article_the_lines_have():
    pid = new_id()
    lines = [spec(pid, "creditor_outlay", "invoice_fee", 60), spec(pid, "creditor_outlay", "reminder", 60)]
    summary = summary_of(lines[:1])
    ledger = ledger_of([payout("creditor_outlay", lines, id=pid, summary=summary)], lines)
    f = check(ledger, "summary_vs_lines")
    assert f.severity == ERROR and "reminder: amount lines 60.00 vs summary 0.00" in f.message
    assert check(ledger, "summary_vs_payout").severity == ERROR


def test_payout_without_summary_is_a_warning():
    pid = new_id()
    lines = [spec(pid, "capital", "capital", 10)]
    ledger = ledger_of([payout("capital", lines, id=pid, summary={})], lines)
    assert check(ledger, "summary_vs_lines").severity == WARNING
    assert [f for f in ledger.findings if f.check == "summary_vs_payout"] == []


def test_vat_is_checked_against_the_mapped_rate_within_one_ore_per_line():
    ok = one_payout("creditor_commission", [("reminder", 60, "15.01"), ("reminder", "60.02", "15.00"),
                                            ("reminder", "-60.00", "-14.99")])
    assert check(build_ledger(ok, LedgerSettings()), "vat_rate").severity == OK
    off = one_payout("creditor_commission", [("reminder", 60, "15.02", "INV-9"), ("reminder", 60, 15)])
    ledger = build_ledger(off, LedgerSettings())
    f = check(ledger, "vat_rate")
    assert f.severity == WARNING and "1 VAT amount(s)" in f.message
    assert "(invoice INV-9) reminder amount 60.00 vat 15.02, 25 % is 15.00" in f.message
    # Booked as given, never recomputed.
    assert ledger.vouchers[0].lines[-1].amount == D("-30.02")


def test_no_vat_check_where_the_mapping_has_no_vat():
    ledger = build_ledger(one_payout("capital", [("capital", 100, 0)]), LedgerSettings())
    assert [f for f in ledger.findings if f.check == "vat_rate"] == []


def test_summary_vat_allows_one_ore_per_counted_line():
    summary = {"reminder": {"count": 3, "amount": D("100.00"), "vat_amount": D("25.03"), "total_amount": D("125.03")}}
    p = payout("creditor_commission", [], amount="100.00", vat="25.03", summary=summary)
    assert check(ledger_of([p], []), "vat_rate").severity == OK
    summary["reminder"].update(vat_amount=D("25.04"), total_amount=D("125.04"))
    p = payout("creditor_commission", [], amount="100.00", vat="25.04", summary=summary)
    assert check(ledger_of([p], []), "vat_rate").severity == WARNING


def test_line_of_another_category_is_a_warning_and_booked_by_its_own_category():
    pid = new_id()
    lines = [spec(pid, "capital", "capital", 100), spec(pid, "interest", "interest", 5)]
    ledger = ledger_of([payout("capital", lines, id=pid)], lines)
    f = check(ledger, "line_category")
    assert f.severity == WARNING and f"line {lines[1].id} is interest" in f.message
    assert [(x.account, x.amount) for x in ledger.vouchers[0].lines] == [(1930, D(105)), (1510, D(-100)),
                                                                         (8313, D(-5))]


def test_payout_dated_outside_the_period_is_a_warning():
    data = one_payout("capital", [("capital", 1, 0)], day=date(2025, 7, 1))
    f = check(build_ledger(data, LedgerSettings()), "period")
    assert f.severity == WARNING and "2025-07-01" in f.message and "2025-06" in f.message


def test_lines_of_no_payout_in_the_period_are_reported_not_dropped():
    data = one_payout("capital", [("capital", 1, 0)])
    stray = spec("f" * 24, "capital", "capital", "12.50", invoice="INV-77")
    ledger = build_ledger(period_data(data.payouts, [*data.specifications, stray]), LedgerSettings())
    f = check(ledger, "orphan_lines")
    assert f.severity == WARNING and f.payout_id is None
    assert "1 specification line(s)" in f.message and "INV-77" in f.message and "12.50" in f.message


def test_strict_turns_warnings_into_failures():
    clean = build_ledger(one_payout("capital", [("capital", 1, 0)]), LedgerSettings())
    assert failures(clean) == () and strict_failures(clean) == ()
    warned = build_ledger(one_payout("creditor_outlay", [("cost", 1, 0)]), LedgerSettings())
    assert failures(warned) == ()
    assert [f.check for f in strict_failures(warned)] == ["mapping"]
    assert failures(warned, strict=True) == strict_failures(warned)
    pid = new_id()
    lines = [spec(pid, "capital", "capital", 100)]
    broken = ledger_of([payout("capital", lines, id=pid, total="100.01")], lines)
    assert {f.check for f in failures(broken)} == {"payout_totals", "lines_vs_payout", "summary_vs_payout",
                                                   "voucher"}
