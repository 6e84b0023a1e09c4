from datetime import date
from decimal import Decimal

import pytest

from ledger_export.core.errors import ConfigError, RecordError
from ledger_export.ledger.model import ERROR, OK, WARNING
from ledger_export.ledger.settings import LedgerSettings
from ledger_export.ledger.vouchers import BookingError, build_ledger
from support.records import D, new_id, one_payout, payout, period_data, spec

COMMISSION = [("reminder", 60, 15, "INV-1"), ("debt_collection", 180, 45, "INV-2"), ("reminder", -60, -15, "INV-3")]


def booked(voucher):
    return [(line.account, line.amount) for line in voucher.lines]


def finding(ledger, check):
    [f] = [f for f in ledger.findings if f.check == check]
    return f


def test_commission_payout_books_bank_gross_commission_net_and_vat():
    data = one_payout("creditor_commission", COMMISSION, document="self_invoice_2025_164.pdf", reference="123456")
    ledger = build_ledger(data, LedgerSettings())
    [v] = ledger.vouchers
    assert booked(v) == [(1930, D("225.00")), (3921, D("-180.00")), (2611, D("-45.00"))]
    assert v.date == date(2025, 6, 13)
    assert v.text == "Amili self_invoice_2025_164.pdf ref 123456"
    assert v.document_name == "self_invoice_2025_164.pdf"
    assert (v.payout_id, v.payout_reference, v.category) == (data.payouts[0].id, "123456", "creditor_commission")
    assert v.payout_etag == "etag-creditor_commission"
    assert [line.text for line in v.lines] == ["Amili utbetalning ref 123456", "påminnelseavgift, inkassoavgift",
                                               "Utgående moms 25 % provision"]
    assert sorted(v.lines[1].specification_ids) == sorted(s.id for s in data.specifications)
    assert dict(ledger.account_names) == {1930: "Företagskonto/checkkonto/affärskonto", 2611:
                                          "Utgående moms på försäljning inom Sverige, 25 %", 3921: "Provisionsintäkter"}
    assert not ledger.warnings and not ledger.errors


def test_invoice_detail_books_one_line_per_specification_line_with_its_invoice_number():
    data = one_payout("creditor_commission", COMMISSION)
    [v] = build_ledger(data, LedgerSettings(), detail="invoice").vouchers
    assert booked(v) == [(1930, D("225.00")), (3921, D("-60.00")), (3921, D("-180.00")), (3921, D("60.00")),
                         (2611, D("-45.00"))]
    assert [line.text for line in v.lines[1:4]] == ["påminnelseavgift fakt INV-1", "inkassoavgift fakt INV-2",
                                                    "påminnelseavgift fakt INV-3"]
    assert [line.invoice_number for line in v.lines[1:4]] == ["INV-1", "INV-2", "INV-3"]
    assert [line.specification_ids for line in v.lines[1:4]] == [(s.id,) for s in data.specifications]
    assert v.lines[4].specification_ids == tuple(s.id for s in data.specifications)


def test_detail_can_come_from_the_settings_and_a_bad_detail_is_refused():
    data = one_payout("creditor_commission", COMMISSION)
    assert len(build_ledger(data, LedgerSettings(detail="invoice")).vouchers[0].lines) == 5
    with pytest.raises(ConfigError, match="detail"):
        build_ledger(data, LedgerSettings(), detail="article")


def test_capital_interest_and_the_outlay_fee_switch():
    capital = one_payout("capital", [("capital", "1000.50", 0), ("capital", "0.01", 0)])
    [v] = build_ledger(capital, LedgerSettings()).vouchers
    assert booked(v) == [(1930, D("1000.51")), (1510, D("-1000.51"))]
    assert v.text == "Amili kapital 2025-06-13 ref 65432"

    interest = one_payout("interest", [("interest", "12.34", 0)])
    [v] = build_ledger(interest, LedgerSettings()).vouchers
    assert booked(v) == [(1930, D("12.34")), (8313, D("-12.34"))]
    assert v.text == "Amili ränta 2025-06-13 ref 65432"

    rows = [("invoice_fee", 60, 0), ("reminder", 60, 0), ("late_payment_fee", 450, 0), ("verdict_fee", 300, 0),
            ("enforcement", 600, 0)]
    outlay = one_payout("creditor_outlay", rows)
    [v] = build_ledger(outlay, LedgerSettings()).vouchers
    assert booked(v) == [(1930, D("1470.00")), (1510, D("-60.00")), (3990, D("-510.00")), (6062, D("-900.00"))]
    [v] = build_ledger(outlay, LedgerSettings(outlay_fees="receivable")).vouchers
    assert booked(v) == [(1930, D("1470.00")), (1510, D("-570.00")), (6062, D("-900.00"))]


def test_refund_only_payout_credits_the_bank_and_debits_the_receivable():
    data = one_payout("capital", [("capital", "-500.00", 0), ("capital", "-0.37", 0)])
    [v] = build_ledger(data, LedgerSettings()).vouchers
    assert booked(v) == [(1930, D("-500.37")), (1510, D("500.37"))]
    assert (v.lines[0].debit, v.lines[0].credit) == (Decimal("0.00"), D("500.37"))
    assert (v.lines[1].debit, v.lines[1].credit) == (D("500.37"), Decimal("0.00"))


def test_payouts_own_ledger_account_is_the_bank_line():
    data = one_payout("capital", [("capital", 100, 0)], ledger_account=1940)
    ledger = build_ledger(data, LedgerSettings())
    assert booked(ledger.vouchers[0])[0] == (1940, D("100.00"))
    assert ledger.account_names[1940] == "Övriga bankkonton"


def test_unknown_article_goes_to_suspense_with_a_warning_naming_it():
    data = one_payout("creditor_outlay", [("invoice_fee", 60, 0), ("cost", "99.99", 0), ("cost", 1, 0)])
    ledger = build_ledger(data, LedgerSettings())
    [v] = ledger.vouchers
    assert booked(v) == [(1930, D("160.99")), (1510, D("-60.00")), (2999, D("-100.99"))]
    assert v.lines[2].text == "OBS creditor_outlay/cost"
    f = finding(ledger, "mapping")
    assert f.severity == WARNING and f.payout_id == data.payouts[0].id
    assert "'cost'" in f.message and "'creditor_outlay'" in f.message and "2 line(s)" in f.message
    assert "100.99" in f.message and "2999" in f.message
    assert ledger.account_names[2999] == "OBS-konto"


def test_vat_where_the_mapping_says_none_books_the_whole_line_on_suspense():
    data = one_payout("capital", [("capital", 100, 25), ("capital", 50, 0)])
    ledger = build_ledger(data, LedgerSettings())
    assert booked(ledger.vouchers[0]) == [(1930, D("175.00")), (1510, D("-50.00")), (2999, D("-125.00"))]
    f = finding(ledger, "mapping")
    assert f.severity == WARNING and "carries VAT 25.00" in f.message


def test_a_payout_not_in_sek_is_an_error_naming_it():
    data = one_payout("capital", [("capital", 100, 0)], currency="EUR")
    with pytest.raises(BookingError) as err:
        build_ledger(data, LedgerSettings())
    assert isinstance(err.value, RecordError)
    assert str(err.value) == f"payout {data.payouts[0].id}: field 'currency' is 'EUR'; only SEK can be booked"


def test_a_specification_line_not_in_sek_is_an_error_naming_it():
    pid = new_id()
    line = spec(pid, "capital", "capital", 100, currency="NOK")
    with pytest.raises(BookingError, match=f"specification {line.id}: field 'currency' is 'NOK'"):
        build_ledger(period_data([payout("capital", [line], id=pid)], [line]), LedgerSettings())


def test_a_payout_without_payout_date_cannot_be_booked():
    data = one_payout("capital", [("capital", 100, 0)], day=None)
    with pytest.raises(BookingError, match=f"payout {data.payouts[0].id}: field 'payout_date' is missing"):
        build_ledger(data, LedgerSettings())


def test_a_payout_whose_lines_do_not_sum_to_its_total_is_not_booked_and_says_why():
    good = one_payout("interest", [("interest", 10, 0)])
    pid = new_id()
    lines = [spec(pid, "capital", "capital", "100.00")]
    bad = payout("capital", lines, id=pid, amount="100.01", total="100.01")
    ledger = build_ledger(period_data([bad, *good.payouts], [*lines, *good.specifications]), LedgerSettings())
    assert [v.payout_id for v in ledger.vouchers] == [good.payouts[0].id]
    [f] = [f for f in ledger.findings if f.check == "voucher" and f.payout_id == pid]
    assert f.severity == ERROR
    assert "not booked" in f.message and "100.00" in f.message and "100.01" in f.message
    assert "difference 0.01" in f.message


def test_payout_without_lines_is_booked_from_its_summary_and_says_so():
    summary = {"reminder": {"count": 2, "amount": D(120), "vat_amount": D(30), "total_amount": D(150)},
               "debt_collection": {"count": 1, "amount": D(180), "vat_amount": D(45), "total_amount": D(225)}}
    p = payout("creditor_commission", [], amount=300, vat=75, summary=summary)
    ledger = build_ledger(period_data([p], []), LedgerSettings())
    [v] = ledger.vouchers
    assert booked(v) == [(1930, D("375.00")), (3921, D("-180.00")), (3921, D("-120.00")), (2611, D("-75.00"))]
    assert [line.article for line in v.lines[1:3]] == ["debt_collection", "reminder"]
    f = finding(ledger, "source")
    assert f.severity == WARNING and "booked from its summary" in f.message


def test_payout_with_nothing_to_book_from_is_an_error():
    p = payout("capital", [], amount=100, summary={})
    ledger = build_ledger(period_data([p], []), LedgerSettings())
    assert ledger.vouchers == ()
    assert finding(ledger, "source").severity == ERROR


def test_series_objects_and_configured_names_reach_the_lines():
    settings = LedgerSettings(series="B", objects={3921: (("1", "100"),)}, account_names={3921: "Provision Amili"})
    ledger = build_ledger(one_payout("creditor_commission", COMMISSION), settings)
    [v] = ledger.vouchers
    assert v.series == "B"
    assert [line.objects for line in v.lines] == [(), (("1", "100"),), ()]
    assert ledger.account_names[3921] == "Provision Amili"


def test_vouchers_come_in_date_order_and_the_same_input_gives_the_same_ledger():
    late = one_payout("capital", [("capital", 1, 0)], day=date(2025, 6, 20))
    early = one_payout("interest", [("interest", 2, 0)], day=date(2025, 6, 2))
    data = period_data([*late.payouts, *early.payouts], [*late.specifications, *early.specifications])
    first = build_ledger(data, LedgerSettings())
    assert [v.date for v in first.vouchers] == [date(2025, 6, 2), date(2025, 6, 20)]
    assert build_ledger(data, LedgerSettings()) == first


def test_custom_templates_render_the_texts():
    settings = LedgerSettings(voucher_text="{{ category_code }} {{ total_amount }}",
                              line_text="{{ kind }}:{{ account }}")
    [v] = build_ledger(one_payout("capital", [("capital", 5, 0)]), settings).vouchers
    assert v.text == "capital 5.00"
    assert [line.text for line in v.lines] == ["bank:1930", "net:1510"]


def test_every_check_reports_ok_on_a_clean_payout():
    ledger = build_ledger(one_payout("creditor_commission", COMMISSION), LedgerSettings())
    checks = {f.check: f.severity for f in ledger.findings}
    assert checks == {c: OK for c in ("payout_totals", "period", "line_totals", "lines_vs_payout",
                                      "summary_vs_lines", "line_category", "summary_vs_payout", "vat_rate",
                                      "mapping", "source", "voucher", "orphan_lines")}


def test_a_template_failing_on_one_payouts_values_names_the_key_and_the_payout():
    settings = LedgerSettings(voucher_text="{{ reference | int(default=none) + 1 }}")
    data = one_payout("capital", [("capital", 5, 0)], reference="A-1")
    with pytest.raises(ConfigError, match=rf"\[ledger.texts.voucher\] template fails for payout {data.payouts[0].id}"):
        build_ledger(data, settings)


def test_voucher_names_the_self_invoice_as_saved_on_disk_not_amilis_raw_name():
    from ledger_export.amili.document_names import document_file_names

    data = one_payout("creditor_commission", [("reminder", "60.00", "15.00")], document="../../etc/passwd")
    ledger = build_ledger(data, LedgerSettings())
    voucher = ledger.vouchers[0]
    on_disk = document_file_names(data.payouts)[data.payouts[0].id]
    assert voucher.document_name == on_disk
    assert "/" not in voucher.document_name and ".." not in voucher.text
    assert on_disk in voucher.text


def test_the_vat_line_belongs_to_no_invoice_even_when_the_payout_has_only_one():
    # VAT is one line per VAT account for the whole payout: naming an invoice on it would tell the
    # bookkeeper that the VAT of every line belongs to that one invoice.
    data = one_payout("creditor_commission", [("reminder", 60, 15, "INV-1"), ("debt_collection", 180, 45, "INV-1")])
    for detail in ("account", "invoice"):
        [v] = build_ledger(data, LedgerSettings(), detail=detail).vouchers
        vat = v.lines[-1]
        assert (vat.account, vat.amount, vat.invoice_number) == (2611, D("-60.00"), None), detail
        assert vat.text == "Utgående moms 25 % provision" and "INV-1" not in vat.text, detail
        assert [line.invoice_number for line in v.lines[1:-1]] == ["INV-1"] * (len(v.lines) - 2), detail


def test_the_suspense_warning_names_the_amount_booked_there_vat_included():
    data = one_payout("creditor_outlay", [("cost", "80.00", "20.00"), ("cost", "10.00", "2.50")])
    ledger = build_ledger(data, LedgerSettings())
    assert booked(ledger.vouchers[0]) == [(1930, D("112.50")), (2999, D("-112.50"))]
    assert finding(ledger, "mapping").message.endswith(
        "article 'cost' of category 'creditor_outlay' is not in the mapping: 2 line(s), 112.50 booked on "
        "suspense account 2999")


@pytest.mark.parametrize("total, severity", [("100.00", ERROR), ("0.00", WARNING)])
def test_a_payout_with_nothing_to_book_from_gets_no_voucher_and_no_mapping_finding(total, severity):
    # A payout of 0.00 with nothing to book loses no money: a warning. Any other amount is an error.
    p = payout("capital", [], amount=total, summary={})
    ledger = build_ledger(period_data([p], []), LedgerSettings())
    assert ledger.vouchers == ()
    assert [(f.check, f.severity) for f in ledger.findings if f.payout_id == p.id and f.check in (
        "mapping", "source", "voucher")] == [("source", severity)]
    assert finding(ledger, "source").message == (f"payout {p.id}: has neither specification lines nor a summary; "
                                                 f"total {total} not booked")


def test_the_document_name_given_by_the_run_is_the_one_the_voucher_names():
    # A second run publishes its self-invoice under a name of its own (-run2): the voucher must name
    # that file, the one the bookkeeper attaches, not the name the payout alone would give.
    data = one_payout("creditor_commission", [("reminder", "60.00", "15.00")], document="self_invoice_164.pdf")
    pid = data.payouts[0].id
    ledger = build_ledger(data, LedgerSettings(), document_names={pid: "self_invoice_164-run2.pdf"})
    assert ledger.vouchers[0].document_name == "self_invoice_164-run2.pdf"
    assert "self_invoice_164-run2.pdf" in ledger.vouchers[0].text
