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


def test_a_payout_booked_from_its_summary_is_checked_against_its_summary_alone_and_has_no_error():
    # No specification lines: the line checks have nothing to compare and must not run (an empty
    # set of lines would "disagree" with every total); the summary stands in for them.
    summary = {"reminder": {"count": 2, "amount": D(120), "vat_amount": D(30), "total_amount": D(150)},
               "debt_collection": {"count": 1, "amount": D(180), "vat_amount": D(45), "total_amount": D(225)}}
    p = payout("creditor_commission", [], amount=300, vat=75, summary=summary)
    ledger = ledger_of([p], [])
    assert failures(ledger) == ()
    assert [(f.check, f.severity) for f in ledger.findings if f.payout_id == p.id] == [
        ("payout_totals", OK), ("period", OK), ("summary_vs_payout", OK), ("vat_rate", OK),
        ("mapping", OK), ("source", WARNING), ("voucher", OK)]


def test_a_long_listing_names_five_and_counts_the_rest():
    def line_totals(bad: int) -> str:
        pid = new_id()
        lines = [spec(pid, "capital", "capital", 10, total=11, invoice=f"INV-{i}") for i in range(bad)]
        return check(ledger_of([payout("capital", lines, id=pid)], lines), "line_totals").message

    five, seven = line_totals(5), line_totals(7)
    assert five.count("INV-") == 5 and "more" not in five
    assert seven.count("INV-") == 5 and "INV-4" in seven and "INV-5" not in seven
    assert seven.startswith("payout ") and " 7 line(s) where amount + vat_amount != total_amount: " in seven
    assert seven.endswith("(invoice INV-4) 10.00 + 0.00 != 11.00; and 2 more")


def test_vat_below_the_mapped_rate_is_a_warning_too():
    ledger = build_ledger(one_payout("creditor_commission", [("reminder", 60, "14.98", "INV-9")]), LedgerSettings())
    f = check(ledger, "vat_rate")
    assert f.severity == WARNING and "(invoice INV-9) reminder amount 60.00 vat 14.98, 25 % is 15.00" in f.message
    one_ore = build_ledger(one_payout("creditor_commission", [("reminder", 60, "14.99")]), LedgerSettings())
    assert check(one_ore, "vat_rate").severity == OK


def test_a_summary_booked_payout_without_vat_articles_has_no_vat_check():
    summary = {"capital": {"count": 2, "amount": D(150), "vat_amount": D(0), "total_amount": D(150)}}
    ledger = ledger_of([payout("capital", [], amount=150, summary=summary)], [])
    assert [f for f in ledger.findings if f.check == "vat_rate"] == [] and failures(ledger) == ()


def test_an_article_the_summary_lacks_is_counted_as_zero_there():
    pid = new_id()
    lines = [spec(pid, "creditor_outlay", "invoice_fee", 100), spec(pid, "creditor_outlay", "reminder", 60)]
    ledger = ledger_of([payout("creditor_outlay", lines, id=pid, summary=summary_of(lines[:1]))], lines)
    message = check(ledger, "summary_vs_lines").message
    assert message.endswith("reminder: amount lines 60.00 vs summary 0.00 (difference 60.00), total_amount lines "
                            "60.00 vs summary 0.00 (difference 60.00); reminder: 1 lines vs summary count 0")


def test_lines_of_no_payout_name_the_payout_they_point_at_or_none():
    data = one_payout("capital", [("capital", 1, 0)])
    strays = [spec("f" * 24, "capital", "capital", "12.50", invoice="INV-77"),
              spec("", "capital", "capital", "2.50", invoice="INV-78")]
    ledger = build_ledger(period_data(data.payouts, [*data.specifications, *strays]), LedgerSettings())
    message = check(ledger, "orphan_lines").message
    assert message == (f"2 specification line(s) belong to no payout of the period and are not booked, total 15.00: "
                       f"line {strays[0].id} (invoice INV-77) payout {'f' * 24} 12.50; "
                       f"line {strays[1].id} (invoice INV-78) payout (none) 2.50")
