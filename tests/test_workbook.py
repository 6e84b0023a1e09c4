"""The audit workbook, read back with openpyxl: values, formulas, formats, determinism."""

from __future__ import annotations

import io
import re
import zipfile
from dataclasses import replace
from datetime import datetime
from decimal import Decimal

import pytest
from openpyxl import load_workbook

from ledger_export.amili.models import PeriodData
from ledger_export.ledger.model import Ledger
from ledger_export.amili.documents import IN_PLACE, DocumentRecord
from ledger_export.outputs.workbook import criterion
from support.audit_pack import DATA, GENERATED, LEDGER, PAYOUTS, render

SHEETS = ["Summary", "Vouchers", "Trial balance", "Invoice payments", "Payouts", "Specifications", "Self-invoices",
          "Creditor payments", "Mapping"]
FORMULA_LOOKING = ["=1+1", "+46701234567", "-5", "@SUM(A1)", "\t=cmd", '=HYPERLINK("x")',
                   "=run-level warning with a formula-looking text", "=formula-looking template"]


@pytest.fixture(scope="module")
def data() -> bytes:
    return render()


@pytest.fixture(scope="module")
def wb(data):
    return load_workbook(io.BytesIO(data))


def values(ws) -> list[tuple]:
    return [tuple(c.value for c in row) for row in ws.iter_rows()]


def test_sheets_come_in_the_audit_order(wb):
    assert wb.sheetnames == SHEETS


@pytest.mark.parametrize("sheet", SHEETS)
def test_sheet_values(wb, sheet, snapshot):
    assert values(wb[sheet]) == snapshot


def test_one_vouchers_row_per_ledger_line(wb):
    rows = values(wb["Vouchers"])[1:]
    lines = [(n, v, line) for n, v in enumerate(LEDGER.vouchers, 1) for line in v.lines]
    assert len(rows) == len(lines) == 15
    for row, (number, voucher, line) in zip(rows, lines):
        assert row[0] == number and row[2] == datetime.combine(voucher.date, datetime.min.time())
        assert row[3] == line.account
        assert (row[5] or 0) - (row[6] or 0) == pytest.approx(float(line.amount))


def test_trial_balance_formulas_cover_exactly_the_voucher_rows(wb):
    tb, vouchers = wb["Trial balance"], wb["Vouchers"]
    last = vouchers.max_row
    assert last == 16 and vouchers.cell(last, 4).value is not None
    accounts = list(LEDGER.account_totals())
    for row, account in enumerate(accounts, start=2):
        assert tb.cell(row, 1).value == account
        assert tb.cell(row, 3).value == (
            f"=ROUND(SUMIFS('Vouchers'!$F$2:$F${last},'Vouchers'!$D$2:$D${last},$A{row}),2)")
        assert tb.cell(row, 4).value == (
            f"=ROUND(SUMIFS('Vouchers'!$G$2:$G${last},'Vouchers'!$D$2:$D${last},$A{row}),2)")
        assert tb.cell(row, 5).value == f"=ROUND(C{row}-D{row},2)"
    total = len(accounts) + 2
    assert [tb.cell(total, c).value for c in range(1, 6)] == [
        "Total", None, f"=ROUND(SUM(C2:C{total - 1}),2)", f"=ROUND(SUM(D2:D{total - 1}),2)",
        f"=ROUND(SUM(E2:E{total - 1}),2)"]
    assert tb.cell(total + 1, 2).value == f'=IF(ROUND(C{total}-D{total},2)=0,"yes","NO")'
    # The filter covers the accounts, not the total rows, so sorting keeps totals at the bottom.
    assert tb.auto_filter.ref == f"A1:E{total - 1}"


def test_summary_category_totals_are_formulas_over_the_payouts_sheet(wb):
    summary = wb["Summary"]
    row = next(r for r in summary.iter_rows() if r[0].value == "capital")
    assert row[1].value == "=COUNTIFS('Payouts'!$D$2:$D$7,\"=capital\")"
    assert row[2].value == "=COUNTIFS('Specifications'!$J$2:$J$9,\"=capital\")"
    assert row[3].value == "=ROUND(SUMIFS('Payouts'!$K$2:$K$7,'Payouts'!$D$2:$D$7,\"=capital\"),2)"
    assert row[5].value == "=ROUND(SUMIFS('Payouts'!$M$2:$M$7,'Payouts'!$D$2:$D$7,\"=capital\"),2)"
    assert wb["Payouts"]["K1"].value == "Amount" and wb["Payouts"]["M1"].value == "Total"


@pytest.mark.parametrize("category, literal", [
    ("capital", '"=capital"'), ("creditor_commission", '"=creditor_commission"'), ("fee_2025", '"=fee_2025"'),
    # Patterns, comparisons, numbers, booleans, capitals: no criterion reads them alike everywhere.
    ("a*b", None), ("a?b", None), ("a~b", None), ("<5", None), ("=x", None), ("123", None), ("true", None),
    ("Capital", None), ('say "hi"', None), ("ränta", None), ("", None), ("_x", None),
])
def test_a_criterion_only_for_a_category_code(category, literal):
    assert criterion(category) == literal


def test_odd_categories_get_values_and_codes_formulas():
    payouts = (PAYOUTS[0], replace(PAYOUTS[4], finance_category="a*"))
    data = replace(DATA, payouts=payouts, specifications=(), payments=())
    summary = load_workbook(io.BytesIO(render(data=data, documents=())))["Summary"]
    rows = {r[0].value: [c.value for c in r[1:6]] for r in summary.iter_rows() if r[0].value in ("capital", "a*")}
    assert rows["a*"] == [1, 0, -500, 0, -500]
    assert rows["capital"][0] == "=COUNTIFS('Payouts'!$D$2:$D$3,\"=capital\")"


def test_categories_differing_only_in_case_get_values_not_formulas():
    payouts = (PAYOUTS[0], replace(PAYOUTS[4], finance_category="Capital"))
    data = replace(DATA, payouts=payouts, specifications=(), payments=())
    summary = load_workbook(io.BytesIO(render(data=data, documents=())))["Summary"]
    rows = {r[0].value: [c.value for c in r[1:6]] for r in summary.iter_rows() if r[0].value in ("capital", "Capital")}
    # COUNTIFS would count both rows in each: the figures stand as values.
    assert rows == {"capital": [1, 0, 12345.67, 0, 12345.67], "Capital": [1, 0, -500, 0, -500]}


def test_formula_looking_texts_are_stored_as_text(data, wb):
    found = {}
    for ws in wb:
        for row in ws.iter_rows():
            for c in row:
                if c.value in FORMULA_LOOKING:
                    found.setdefault(c.value, []).append(c)
    assert set(found) == set(FORMULA_LOOKING)
    for cells in found.values():
        for c in cells:
            assert c.data_type == "s" and c.quotePrefix, c.coordinate
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        xml = "".join(z.read(n).decode() for n in z.namelist() if n.startswith("xl/worksheets/sheet"))
    formulas = re.findall(r"<f>(.*?)</f>", xml)
    # Every formula in the file is one the writer made: sums and checks, nothing from the data.
    assert formulas and all(re.match(r"(ROUND\(|COUNTIFS\(|SUM\(|IF\()", f) for f in formulas)


def test_amounts_are_numbers_and_dates_are_dates(wb):
    payouts = wb["Payouts"]
    amount, day = payouts["K2"], payouts["C2"]
    assert amount.value == 12345.67 and amount.data_type == "n" and amount.number_format == "#,##0.00"
    assert day.value == datetime(2025, 6, 11) and day.number_format == "yyyy-mm-dd"
    assert wb["Summary"]["B7"].value == GENERATED and wb["Summary"]["B7"].number_format == "yyyy-mm-dd hh:mm:ss"
    assert wb["Trial balance"]["C2"].number_format == "#,##0.00"


def test_large_amounts_keep_every_ore():
    big = Decimal("9876543210.99")
    payout = replace(PAYOUTS[0], amount=big, total_amount=big)
    data = replace(DATA, payouts=(payout,), specifications=(), payments=())
    wb = load_workbook(io.BytesIO(render(data=data, ledger=Ledger(()), documents=())))
    assert Decimal(str(wb["Payouts"]["K2"].value)) == big


@pytest.mark.parametrize("sheet, filter_ref", [
    ("Vouchers", "A1:Q16"), ("Payouts", "A1:Q7"), ("Specifications", "A1:Q9"),
    ("Self-invoices", "A1:J3"), ("Creditor payments", "A1:N2"), ("Mapping", "A1:B4"),
])
def test_tables_have_frozen_header_filter_and_widths(wb, sheet, filter_ref):
    ws = wb[sheet]
    assert ws.freeze_panes == "A2"
    assert ws.auto_filter.ref == filter_ref
    assert ws["A1"].font.bold
    assert all(ws.column_dimensions[c].width >= 7 for c in "AB")


def test_self_invoice_links_to_the_local_pdf(wb):
    ws = wb["Self-invoices"]
    assert ws["A2"].value == "self_invoice_2025_164.pdf"
    assert ws["A2"].hyperlink.target == "self-invoices/self_invoice_2025_164.pdf"
    # The voucher text as the SIE file has it: 52 characters cut to 50, the reference kept.
    assert ws["F2"].value == "Amili provision self_invoice_2025_16... ref 123456"
    # No file, no link: the missing one names the problem instead.
    assert ws["A3"].hyperlink is None and ws["G3"].value == "missing"


def test_link_to_an_awkward_file_name_is_url_quoted():
    record = DocumentRecord(PAYOUTS[2].id, "faktura #3 ä.pdf", 10, "00" * 32, IN_PLACE)
    wb = load_workbook(io.BytesIO(render(documents=(record,))))
    assert wb["Self-invoices"]["A2"].hyperlink.target == "self-invoices/faktura%20%233%20%C3%A4.pdf"


def test_two_renders_give_identical_bytes(data):
    assert render() == data
    assert render(generated=datetime(2025, 7, 2)) != data


def test_zip_entries_carry_one_fixed_time_and_the_properties_the_run_time(data):
    later = render(generated=datetime(2026, 1, 2, 3, 4, 5))
    for workbook in (data, later):
        with zipfile.ZipFile(io.BytesIO(workbook)) as z:
            # Never the clock's: the same date in every entry, whenever and wherever the run was.
            assert {i.date_time for i in z.infolist()} == {(1980, 1, 31, 0, 0, 0)}
            assert {i.external_attr >> 16 for i in z.infolist()} == {0o100600}
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        core = z.read("docProps/core.xml").decode()
    assert core.count("2025-07-01T06:30:00Z") == 2
    props = load_workbook(io.BytesIO(data)).properties
    assert props.created == props.modified == GENERATED


def test_control_characters_in_texts_are_replaced_not_fatal():
    payout = replace(PAYOUTS[0], payout_reference="ref\x00\x07end")
    data = replace(DATA, payouts=(payout,))
    wb = load_workbook(io.BytesIO(render(data=data)))
    assert wb["Payouts"]["E2"].value == "ref\ufffd\ufffdend"


def test_an_empty_period_still_renders_a_balanced_workbook():
    empty = PeriodData(creditor=DATA.creditor, period=DATA.period, payouts=(), specifications=(), payments=())
    wb = load_workbook(io.BytesIO(render(data=empty, ledger=Ledger(()), documents=(), checksums={})))
    tb = values(wb["Trial balance"])
    assert tb[1][:5] == ("Total", None, 0, 0, 0)
    # No category rows: the total is 0, not a SUM over its own row (a circular reference).
    summary = values(wb["Summary"])
    header = summary.index(("Category", "Payouts", "Specification lines", "Amount", "VAT", "Total", None))
    assert summary[header + 1][:6] == ("Total", 0, 0, 0, 0, 0)
