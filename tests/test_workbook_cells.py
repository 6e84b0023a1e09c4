"""The workbook's cells at the xlsx level: bare values openpyxl types itself, and the chunked zip copy.

The writer hands openpyxl a bare value where openpyxl's own typing gives the
cell the writer would build (plain texts, ints, dates). These tests write the
same row both ways and require the same bytes, and read back the cases the
bare path must never take: formula-looking texts, error codes, unwritable
characters, styles next to bare values.
"""

from __future__ import annotations

import io
import zipfile
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from openpyxl import load_workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import Cell

from ledger_export.outputs import xlsx

GENERATED = datetime(2025, 7, 1, 6, 30)
COLUMNS = [xlsx.Column(f"c{n}") for n in range(8)]


def render(rows: list[list[Any]], *, build=None) -> bytes:
    """One table sheet; ``build(ws, value)`` makes each cell (default: the writer's own ``cell``)."""
    wb = xlsx.new_workbook(GENERATED)
    sheet = xlsx.Sheet(wb, "T", COLUMNS)
    for row in rows:
        if build is None:
            sheet.append(row)
        else:
            sheet.ws.append([build(sheet.ws, v) for v in row])
    sheet.finish(len(rows) + 1)
    return xlsx.save(wb, GENERATED)


def styled(ws: Any, value: Any) -> Any:
    """The cell the writer built for every value before bare values: the reference."""
    if type(value) is str and value:
        return xlsx._text(ws, value)
    if type(value) is date:
        c = WriteOnlyCell(ws, value=value)
        c.number_format = xlsx.DATE
        return c
    if type(value) is int:
        return WriteOnlyCell(ws, value=value)
    return xlsx.cell(ws, value)


def read(data: bytes):
    return load_workbook(io.BytesIO(data))["T"]


# Texts near every edge of the bare path: formula leads, error codes, characters XML cannot hold.
EDGE_TEXTS = ["=1+1", "+46701234567", "-5", "@SUM(A1)", "\t=cmd", "\rx", "=", "#N/A", "#DIV/0!", "#REF!",
              "#n/a", "a\x00b", "\x07", "x\ud800y", "\ufffe", "plain", " =1", "1e5", "0012", "TRUE",
              "x" * 40000]
texts = st.one_of(st.sampled_from(EDGE_TEXTS), st.text(max_size=12),
                  st.text(alphabet="=+-@#\t\r\x01A1/!?", max_size=6))
values = st.one_of(texts, st.integers(-10**12, 10**12), st.dates(), st.booleans(), st.none(),
                   st.decimals(places=2, min_value=-10**9, max_value=10**9),
                   st.datetimes(min_value=datetime(1990, 1, 1)))


@settings(max_examples=60, deadline=None)
@given(st.lists(st.lists(values, min_size=1, max_size=len(COLUMNS)), min_size=1, max_size=3))
# A bare day before a moment: openpyxl meets the moment's formats first (built before the row is written).
@example([[date(2000, 1, 1), datetime(2000, 1, 1), Decimal("1.00"), "=1+1", "#N/A", 5, True]])
def test_bare_values_give_the_bytes_of_the_styled_cells(rows):
    assert render(rows) == render(rows, build=styled)


def test_bare_path_takes_plain_texts_ints_and_days_only():
    ws = xlsx.new_workbook(GENERATED).create_sheet("T")
    for value in ("Amili provision", 1930, 0, date(2025, 6, 30)):
        assert xlsx.cell(ws, value) is value
    for value in ("=1+1", "#N/A", "a\x00b", True, datetime(2025, 6, 30, 12), Decimal("1.00"),
                  xlsx.Bold("x"), xlsx.Link("a.pdf", "a.pdf")):
        assert isinstance(xlsx.cell(ws, value), Cell), value


def test_texts_dates_and_numbers_read_back_with_their_types():
    day = date(2025, 6, 11)
    ws = read(render([["=1+1", "#N/A", "plain", day, 1930, True, "a\x00b", "-5"]]))
    formula, error, plain, when, number, flag, control, minus = ws[2]
    for c in (formula, minus):
        assert c.data_type == "s" and c.quotePrefix
    assert formula.value == "=1+1" and minus.value == "-5"
    assert error.value == "#N/A" and error.data_type == "s"
    assert plain.value == "plain" and plain.data_type == "s" and not plain.quotePrefix
    assert when.value == datetime(2025, 6, 11) and when.is_date and when.number_format == xlsx.DATE
    assert number.value == 1930 and number.data_type == "n" and number.number_format == "General"
    assert flag.value == "yes" and control.value == "a\ufffdb"


def test_bare_values_after_styled_cells_take_no_style_from_them():
    # openpyxl reuses its cell for the next bare value unless the last one had a style or a link.
    ws = read(render([[xlsx.Link("a b.pdf", "a%20b.pdf"), "after link", xlsx.Bold("bold"), 7,
                       "#N/A", date(2025, 6, 1), "=x", "after quote"]]))
    row = ws[2]
    assert row[0].hyperlink.target == "a%20b.pdf" and row[2].font.bold
    for c in (row[1], row[3], row[7]):
        assert c.hyperlink is None and not c.font.bold and not c.quotePrefix and c.number_format == "General"
    assert row[5].number_format == xlsx.DATE and row[6].quotePrefix and not row[6].font.bold


def test_a_sheet_longer_than_many_chunks_is_copied_whole(monkeypatch):
    rows = [[f"specification {n}", n, date(2025, 6, 1 + n % 30), Decimal(n) / 100, "=not a formula"]
            for n in range(3000)]
    monkeypatch.setattr(xlsx, "CHUNK", 1 << 30)
    one_piece = render(rows)  # each file read whole, as before the chunked copy
    monkeypatch.setattr(xlsx, "CHUNK", 4099)  # an odd size: chunks end mid-tag, mid-character
    chunked = render(rows)
    assert chunked == one_piece
    with zipfile.ZipFile(io.BytesIO(chunked)) as z:
        assert z.testzip() is None
        sheet = z.getinfo("xl/worksheets/sheet1.xml")
        assert sheet.file_size > 50 * 4099 and sheet.date_time == (2025, 7, 1, 6, 30, 0)
    back = [tuple(c.value for c in r) for r in read(chunked).iter_rows(min_row=2)]
    assert back[0][:5] == ("specification 0", 0, datetime(2025, 6, 1), 0, "=not a formula")
    assert len(back) == 3000 and back[-1][:2] == ("specification 2999", 2999)


@pytest.mark.parametrize("generated", [GENERATED, datetime(2025, 7, 2)])
def test_two_renders_give_identical_bytes(generated):
    rows = [["plain", 1, date(2025, 6, 1), Decimal("2.50"), "=x", xlsx.Bold("b"), None, True]]
    wb1, wb2 = (xlsx.new_workbook(generated) for _ in range(2))
    for wb in (wb1, wb2):
        sheet = xlsx.Sheet(wb, "T", COLUMNS)
        for row in rows * 50:
            sheet.append(row)
        sheet.finish()
    assert xlsx.save(wb1, generated) == xlsx.save(wb2, generated)
