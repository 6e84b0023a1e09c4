"""The workbook's cells at the xlsx level: every text a text, every type its cell, identical bytes.

The writer hands XlsxWriter a plain text straight (``write_string``) and
sends anything else through one careful path: formula leads get a quote
prefix, characters XML cannot hold become U+FFFD, a text XlsxWriter would
take for rich-text XML goes in as plain runs. These tests read the cells
back with openpyxl (styles, types) and python-calamine (values as stored)
and require the text that went in.
"""

from __future__ import annotations

import io
import re
import zipfile
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from openpyxl import load_workbook
from python_calamine import CalamineWorkbook

from ledger_export.outputs import xlsx

GENERATED = datetime(2025, 7, 1, 6, 30)
COLUMNS = [xlsx.Column(f"c{n}") for n in range(8)]


def render(rows: list[list[Any]]) -> bytes:
    """One table sheet holding ``rows`` under a header row."""
    wb = xlsx.new_workbook(GENERATED, "Exempelbolaget AB")
    sheet = xlsx.Sheet(wb, "T", COLUMNS)
    for row in rows:
        sheet.append(row)
    sheet.finish(len(rows) + 1)
    return xlsx.save(wb, GENERATED)


def read(data: bytes):
    return load_workbook(io.BytesIO(data))["T"]


def calamine_rows(data: bytes) -> list[list[Any]]:
    return CalamineWorkbook.from_filelike(io.BytesIO(data)).get_sheet_by_name("T").to_python(skip_empty_area=False)


def shown(text: str) -> str:
    """What a reader must show for ``text``: the writer's safe_text of it."""
    return xlsx.safe_text(text)


# Texts near every edge: formula leads, error codes, characters XML cannot hold, Excel's own
# escapes (_xHHHH_), what XlsxWriter reads as rich-text XML, the length limit.
EDGE_TEXTS = ["=1+1", "+46701234567", "-5", "@SUM(A1)", "\t=cmd", "\rx", "=", "#N/A", "#DIV/0!", "#REF!",
              "#n/a", "a\x00b", "\x07", "x\ud800y", "\ufffe", "plain", " =1", "1e5", "0012", "TRUE",
              "_x0041_", "a_x000D_b", "<r><t>x</t></r>", "<r>&</r>", "<r></r>", "<b>", "a & b < c",
              " lead", "trail ", "x" * 40000]
texts = st.one_of(st.sampled_from(EDGE_TEXTS), st.text(max_size=12),
                  st.text(alphabet="=+-@#\t\r\x01A1/!?_x0<>&r", max_size=8))


# A text holding Excel's own escape syntax (_x0041_ is "A" to Excel) is stored escaped
# (_x005F_x0041_), as the format requires: Excel, LibreOffice and python-calamine show
# it as written, openpyxl and Gnumeric do not decode inline strings and show the escape.
EXCEL_ESCAPE = re.compile("_x[0-9A-Fa-f]{4}_")


@settings(max_examples=80, deadline=None)
@given(st.lists(texts, min_size=1, max_size=len(COLUMNS)))
@example(EDGE_TEXTS[:8])
@example(EDGE_TEXTS[8:16])
@example(EDGE_TEXTS[16:24])
@example(EDGE_TEXTS[24:])
def test_every_text_reads_back_as_written_and_never_as_a_formula(row):
    data = render([row])
    cells = read(data)[2]
    stored = (calamine_rows(data) + [[]])[1] + [""] * len(row)  # an all-empty row is no row to calamine
    for value, c, plain in zip(row, cells, stored):
        if value == "":
            assert c.value is None and plain == ""
            continue
        assert plain == shown(value), repr(value)
        assert c.data_type == "s" and (c.value == shown(value) or EXCEL_ESCAPE.search(value)), repr(value)
        assert bool(c.quotePrefix) == value.startswith(xlsx.FORMULA_LEADS)
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        assert "<f>" not in z.read("xl/worksheets/sheet1.xml").decode()


def test_texts_dates_and_numbers_read_back_with_their_types():
    day = date(2025, 6, 11)
    moment = datetime(2025, 6, 11, 9, 30, 15)
    ws = read(render([["=1+1", "#N/A", "plain", day, 1930, True, Decimal("-1234.56"), moment]]))
    formula, error, plain, when, number, flag, amount, at = ws[2]
    assert formula.value == "=1+1" and formula.data_type == "s" and formula.quotePrefix
    assert error.value == "#N/A" and error.data_type == "s"
    assert plain.value == "plain" and plain.data_type == "s" and not plain.quotePrefix
    assert when.value == datetime(2025, 6, 11) and when.is_date and when.number_format == xlsx.DATE
    assert number.value == 1930 and number.data_type == "n" and number.number_format == "General"
    assert flag.value == "yes"
    assert amount.value == -1234.56 and amount.number_format == xlsx.AMOUNT
    assert at.value == moment and at.number_format == xlsx.MOMENT


def test_a_zoned_moment_is_written_in_utc():
    from datetime import timedelta, timezone
    stockholm = timezone(timedelta(hours=2))
    ws = read(render([[datetime(2025, 6, 11, 11, 30, tzinfo=stockholm)]]))
    assert ws["A2"].value == datetime(2025, 6, 11, 9, 30)


def test_styles_stay_on_their_own_cells():
    ws = read(render([[xlsx.Link("a b.pdf", "a%20b.pdf"), "after link", xlsx.Bold("bold"), 7,
                       "#N/A", date(2025, 6, 1), "=x", "after quote"]]))
    row = ws[2]
    assert row[0].hyperlink.target == "a%20b.pdf" and row[2].font.bold
    for c in (row[1], row[3], row[7]):
        assert c.hyperlink is None and not c.font.bold and not c.quotePrefix and c.number_format == "General"
    assert row[5].number_format == xlsx.DATE and row[6].quotePrefix and not row[6].font.bold


def test_a_link_to_a_file_beside_the_workbook_is_relative_with_slashes():
    data = render([[xlsx.Link("faktura.pdf", "self-invoices/faktura%20%233.pdf"), xlsx.Link("=x", "b/c.pdf")]])
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        rels = z.read("xl/worksheets/_rels/sheet1.xml.rels").decode()
    targets = re.findall(r'Target="([^"]*)" TargetMode="External"', rels)
    # Not XlsxWriter's Windows spelling (self-invoices\faktura.pdf), which no reader on Linux opens.
    assert targets == ["self-invoices/faktura%20%233.pdf", "b/c.pdf"]
    ws = read(data)
    assert ws["A2"].value == "faktura.pdf" and ws["B2"].value == "=x" and ws["B2"].quotePrefix


def test_formula_carries_its_result():
    wb = xlsx.new_workbook(GENERATED)
    sheet = xlsx.Sheet(wb, "T", COLUMNS)
    sheet.append([Decimal("1.10"), Decimal("2.20"),
                  xlsx.Formula("=ROUND(SUM(A2:B2),2)", xlsx.AMOUNT, Decimal("3.30")),
                  xlsx.Formula('=IF(C2=3.3,"yes","NO")', value="yes"), xlsx.Formula("=A2")])
    data = xlsx.save(wb)
    stored = calamine_rows(data)[1]
    assert stored[2:5] == [3.3, "yes", ""]  # no value given: an empty result, never a made-up 0
    assert read(data)["C2"].value == "=ROUND(SUM(A2:B2),2)"
    with pytest.raises(ValueError, match="not a formula"):
        sheet.append([xlsx.Formula("SUM(A2)")])


def test_a_sheet_of_many_rows_is_written_whole():
    rows = [[f"specification {n}", n, date(2025, 6, 1 + n % 30), Decimal(n) / 100, "=not a formula"]
            for n in range(3000)]
    data = render(rows)
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        assert z.testzip() is None
    back = [tuple(c.value for c in r) for r in read(data).iter_rows(min_row=2)]
    assert back[0][:5] == ("specification 0", 0, datetime(2025, 6, 1), 0, "=not a formula")
    assert len(back) == 3000 and back[-1][:2] == ("specification 2999", 2999)


@pytest.mark.parametrize("generated", [GENERATED, datetime(2025, 7, 2)])
def test_two_renders_give_identical_bytes(generated):
    rows = [["plain", 1, date(2025, 6, 1), Decimal("2.50"), "=x", xlsx.Bold("b"), None, True]]
    wb1, wb2 = (xlsx.new_workbook(generated, "A & B AB") for _ in range(2))
    for wb in (wb1, wb2):
        sheet = xlsx.Sheet(wb, "T", COLUMNS)
        for row in rows * 50:
            sheet.append(row)
        sheet.finish()
    assert xlsx.save(wb1, generated) == xlsx.save(wb2, generated)


@pytest.mark.parametrize("company, printed", [
    ("Exempelbolaget AB", "Exempelbolaget AB"), ("Berg & Son AB", "Berg && Son AB"),
    # XlsxWriter would take "&G" for a picture and drop the whole header.
    ("Berg &Gustafsson AB", "Berg \uff06Gustafsson AB"), ("x" * 300, "x" * 120), ("&" * 300, "&&" * 120),
])
def test_every_page_is_headed_by_the_company_and_numbered(company, printed):
    data = render([["a"]])
    wb = xlsx.new_workbook(GENERATED, company)
    xlsx.Sheet(wb, "T", COLUMNS).finish()
    with zipfile.ZipFile(io.BytesIO(xlsx.save(wb))) as z:
        sheet = z.read("xl/worksheets/sheet1.xml").decode()
    header = re.search(r"<oddHeader>(.*?)</oddHeader>", sheet).group(1)
    assert header == f"&amp;L{printed.replace('&', '&amp;')}&amp;R&amp;A"
    assert "<oddFooter>&amp;RPage &amp;P of &amp;N</oddFooter>" in sheet
    assert data  # the plain case renders too


values = st.one_of(texts, st.integers(-10**15, 10**15), st.dates(), st.booleans(), st.none(),
                   st.decimals(places=2, min_value=-10**9, max_value=10**9),
                   st.datetimes(min_value=datetime(1990, 1, 1)))


@settings(max_examples=60, deadline=None)
@given(st.lists(st.lists(values, min_size=1, max_size=len(COLUMNS)), min_size=1, max_size=4))
@example([[date(2000, 1, 1), datetime(2000, 1, 1, 12), Decimal("1.00"), "=1+1", "#N/A", 5, True, " x "],
          ["a & <b>", "_x0041_", "\tlead", "trail\n", Decimal("-0.10"), 0, None, "plain"]])
def test_plain_rows_give_the_bytes_xlsxwriter_gives(rows):
    # The fast path spells a plain row as XlsxWriter would: forcing every row through
    # XlsxWriter's own cell methods must give the very same file.
    fast = render(rows)
    original = xlsx.Sheet._plain_row
    xlsx.Sheet._plain_row = lambda self, values, number: None
    try:
        slow = render(rows)
    finally:
        xlsx.Sheet._plain_row = original
    assert fast == slow
