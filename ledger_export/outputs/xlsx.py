"""Cells and sheets for the audit workbook, and saving it to identical bytes.

Written with XlsxWriter in constant-memory mode: each row goes to a
temporary file as it is appended, and a formula is stored with its result,
so a reader that never recalculates (a file previewer, pandas,
python-calamine) shows the same figures as Excel.

Every value is typed by its Python type: Decimal is an amount (two decimals,
thousands separator), date and datetime are real dates, int is a number,
``Formula`` is the only way to write a formula, and every str is a text cell
— so a text from Amili that starts with ``=``, ``+``, ``-`` or ``@`` can
never become a formula, in Excel or in LibreOffice.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timezone
from decimal import Decimal
from typing import Any

import xlsxwriter
from xlsxwriter.format import Format
from xlsxwriter.url import Url
from xlsxwriter.utility import xl_col_to_name
from xlsxwriter.worksheet import Worksheet

AMOUNT = "#,##0.00"
COUNT = "#,##0"
DATE = "yyyy-mm-dd"
MOMENT = "yyyy-mm-dd hh:mm:ss"
# Spreadsheets (and CSV exports of them) read these leading characters as a formula.
FORMULA_LEADS = ("=", "+", "-", "@", "\t", "\r")
# The most characters a cell holds (Excel's limit; longer texts are cut, visibly).
CELL_TEXT_LIMIT = 32767
# A column-width unit is about one digit; an A4 page in portrait holds about 90 at 100 %:
# a sheet up to 100 wide prints portrait at 90 % or more, a wider one landscape.
PORTRAIT_WIDTH = 100

_EPOCH = date(1899, 12, 30)  # day 0 of Excel's 1900 date system, leap-year bug included
_EPOCH_ORDINAL = _EPOCH.toordinal()


@dataclass(frozen=True)
class Formula:
    """A formula written on purpose, e.g. ``=SUM(C2:C9)``, with its result ``value``.

    ``value`` is stored as the formula's cached result, which is what every
    reader that does not recalculate shows: pass the figure the formula
    must come to (computed from the same data in Python). ``number_format``
    formats the result.
    """

    text: str
    number_format: str = "General"
    value: Decimal | int | str | None = None


@dataclass(frozen=True)
class Link:
    """A text that opens ``target`` (a path relative to the workbook, already URL-quoted)."""

    text: str
    target: str


@dataclass(frozen=True)
class Bold:
    text: str


# Characters XML 1.0 cannot hold: C0 controls but tab, newline and return; surrogates; U+FFFE/U+FFFF.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


# Anything safe_text changes, in one search.
_UNSAFE = re.compile(f"{_NOT_XML.pattern}|\r")


def safe_text(value: str) -> str:
    # Show that something unwritable was there rather than drop it or corrupt the file.
    value = _NOT_XML.sub("\ufffd", value)
    if "\r" in value:
        # A line break in a cell is LF; a CR would be stored as Excel's escape _x000D_,
        # which Gnumeric and openpyxl show as those seven characters.
        value = value.replace("\r\n", "\n").replace("\r", "\n")
    if len(value) > CELL_TEXT_LIMIT:
        value = value[:CELL_TEXT_LIMIT - 3] + "..."
    return value


def _plain(value: str) -> bool:
    """Whether ``value`` can be written as it is: no formula lead, nothing XML cannot hold, not too long."""
    return not (value.startswith(FORMULA_LEADS) or _UNSAFE.search(value) or len(value) > CELL_TEXT_LIMIT
                or _rich_looking(value))


def _rich_looking(value: str) -> bool:
    # XlsxWriter writes an inline string that starts with "<r>" and ends with "</r>" as raw
    # rich-text XML (its own write_rich_string makes those): such a text goes in as a rich
    # string of plain runs instead, escaped like any other.
    return value.startswith("<r>") and value.endswith("</r>")


# XlsxWriter is untyped (Any to mypy), so subclassing it is subclassing Any.
class _RelativeLink(Url):  # type: ignore[misc]
    """A link to a file beside the workbook, its target written with forward slashes.

    XlsxWriter spells a relative file link Windows-style (``self-invoices\\x.pdf``);
    LibreOffice and Gnumeric on Linux and macOS then look for a file with a
    backslash in its name. A relative URI reference with slashes is what
    every reader resolves against the workbook's own folder.
    """

    def _target(self) -> str:
        return str(super()._target()).replace("\\", "/")


class _Worksheet(Worksheet):  # type: ignore[misc]  # XlsxWriter is Any to mypy
    """XlsxWriter's worksheet, taking a whole row as ready XML.

    XlsxWriter spends about 6 µs a cell (a named tuple, a dict, attribute
    lists, escaping), which at 100,000 lines is most of the workbook's time.
    A row of plain values (texts that need no care, ints, amounts, days and
    moments) is spelled here exactly as XlsxWriter spells it in
    constant-memory mode (tests compare the bytes of both paths) and goes
    straight into the row file; any other row takes XlsxWriter's own path.
    """

    def write_row_xml(self, row: int, last_col: int, cells: str) -> None:
        if row > self.previous_row:
            self._write_single_row(row)  # the row XlsxWriter still holds goes out first
        self._check_dimensions(row, 0)
        self._check_dimensions(row, last_col)
        self.fh.write(f'<row r="{row + 1}">{cells}</row>')


# The fast row path leans on two of XlsxWriter's own worksheet methods; a release without
# them still writes every row, through its public API (slower, same cells).
_FAST_ROWS = all(callable(getattr(Worksheet, name, None)) for name in ("_write_single_row", "_check_dimensions"))

# What XlsxWriter's inline strings escape: &, <, > and Excel's own _xHHHH_ escape.
_XML_SPECIAL = re.compile("[&<>]|_x[0-9a-fA-F]{4}_")
_EXCEL_ESCAPE = re.compile("(_x[0-9a-fA-F]{4}_)")
# Characters that make a text more than a bare <t>text</t>: what safe_text changes, what
# XlsxWriter escapes ("<" also starts the rich-text look). A character class: one fast scan.
_CAREFUL = re.compile("[&<>\r\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def _inline(value: str) -> str | None:
    """The rest of an inline-string cell after its reference, or None for a text that needs XlsxWriter's path."""
    if not _plain(value):
        return None
    if _XML_SPECIAL.search(value):
        value = _EXCEL_ESCAPE.sub(r"_x005F\1", value).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    # XlsxWriter keeps a leading or trailing blank (a regex \s, which is what str.isspace() tells).
    if value[:1].isspace() or value[-1:].isspace():
        return f'" t="inlineStr"><is><t xml:space="preserve">{value}</t></is></c>'
    return f'" t="inlineStr"><is><t>{value}</t></is></c>'


class Workbook:
    """An .xlsx being written into memory, with the formats its cells share."""

    def __init__(self, generated: datetime | date, page_header: str = ""):
        self.buffer = io.BytesIO()
        # constant_memory: a row is written out when the next one starts, so a 100,000-line
        # period never holds its cells; strings are then inline, which every reader takes.
        self.book = xlsxwriter.Workbook(self.buffer, {"constant_memory": True})
        moment = _utc_naive(generated)
        # XlsxWriter stamps "now"; the run's own time keeps the bytes reproducible.
        self.book.set_properties({"created": moment, "author": "ledger-export"})
        self.page_header = page_header
        self._formats: dict[tuple[tuple[str, Any], ...], Format] = {}
        self.sheets: list[Sheet] = []
        self.amount, self.date, self.moment = (self.format(num_format=f) for f in (AMOUNT, DATE, MOMENT))
        # Numbered now, so the fast row path and XlsxWriter's own give a cell the same style number.
        self.styles = tuple(f._get_xf_index() for f in (self.amount, self.date, self.moment))

    def format(self, **properties: Any) -> Format:
        """One shared format per set of properties (XlsxWriter numbers them in creation order)."""
        key = tuple(sorted(properties.items()))
        found = self._formats.get(key)
        if found is None:
            found = self._formats[key] = self.book.add_format(properties)
        return found


@dataclass(frozen=True)
class Column:
    header: str
    width: float = 14


def _serial(value: date) -> float | int:
    """The day number Excel stores for a date, with the time of day as its fraction."""
    days = value.toordinal() - _EPOCH_ORDINAL
    if isinstance(value, datetime):
        return days + (value.hour * 3600 + value.minute * 60 + value.second) / 86400
    return days


def _header_text(text: str) -> str:
    # "&" starts a header code; "&&" prints one. XlsxWriter counts "&G" as a picture
    # placeholder even after "&&", so such a text gets a full-width ampersand instead.
    doubled = text.replace("&", "&&")
    return text.replace("&", "\uff06") if "&G" in doubled else doubled


class Sheet:
    """A sheet written row by row, optionally a table: bold frozen header row, autofilter, column widths.

    Every sheet prints as part of an audit document: fitted to the page
    width (landscape when wide), its header row repeated on every page, and
    the page header naming the company, organisation number and period, the
    footer the page number.
    """

    def __init__(self, wb: Workbook, title: str, columns: Sequence[Column], *, table: bool = True,
                 one_page: bool = False):
        self.wb = wb
        self.ws: _Worksheet = wb.book.add_worksheet(title, worksheet_class=_Worksheet)
        self.title = title
        self.columns = tuple(columns)
        self.table = table
        self.rows = 0
        wb.sheets.append(self)
        self.letters = [str(xl_col_to_name(n)) for n in range(max(len(self.columns), 26))]
        for index, column in enumerate(self.columns):
            # Never narrower than its bold header: a clipped header prints clipped.
            self.ws.set_column(index, index, max(column.width, len(column.header) + 2 if table else 0))
        self._page_setup(one_page)
        if table:
            self.ws.freeze_panes(1, 0)
            self.append([Bold(c.header) for c in self.columns])

    def _page_setup(self, one_page: bool) -> None:
        ws = self.ws
        ws.set_paper(9)  # A4
        if sum(max(c.width, len(c.header) + 2) for c in self.columns) > PORTRAIT_WIDTH:
            ws.set_landscape()
        ws.fit_to_pages(1, 1 if one_page else 0)
        if self.table:
            ws.repeat_rows(0)
        # Excel allows 255 characters per header: a long heading is cut (before "&" is doubled,
        # so a cut never leaves half a "&&"), the codes stay.
        header = f"&L{_header_text(self.wb.page_header[:120])}&R&A"
        ws.set_header(header)
        ws.set_footer("&RPage &P of &N")

    def append(self, values: Iterable[Any]) -> int:
        """Write one row; returns its row number (1 for the first)."""
        row = self.rows
        values = values if isinstance(values, (list, tuple)) else list(values)
        cells = self._plain_row(values, row + 1) if _FAST_ROWS else None
        if cells is not None:
            if cells:
                self.ws.write_row_xml(row, len(values) - 1, "".join(cells))
            self.rows += 1
            return self.rows
        ws = self.ws
        wb = self.wb
        for col, value in enumerate(values):
            kind = type(value)
            # Exact types first: the cells of a big period are plain texts, amounts, ids and days.
            if kind is str:
                if not value:
                    continue
                if _plain(value):
                    ws.write_string(row, col, value)
                else:
                    _write_text(ws, row, col, value, wb)
            elif kind is Decimal:
                ws.write_number(row, col, float(value), wb.amount)
            elif kind is int:
                ws.write_number(row, col, value)
            elif kind is date:
                ws.write_number(row, col, _serial(value), wb.date)
            elif value is None:
                continue
            else:
                _write_other(ws, row, col, value, wb)
        self.rows += 1
        return self.rows

    def _plain_row(self, values: Sequence[Any], number: int) -> list[str] | None:
        """The row's cells as XML when every value is plain; None when one needs XlsxWriter's path.

        The inner loop of a 100,000-line workbook: one regex search per text, days counted inline.
        """
        letters = self.letters
        if len(values) > len(letters):
            return None
        cells: list[str] = []
        add = cells.append
        amount, day, moment = self.wb.styles
        careful = _CAREFUL.search
        limit = CELL_TEXT_LIMIT
        epoch = _EPOCH_ORDINAL
        col = -1
        for value in values:
            col += 1
            kind = type(value)
            if kind is str:
                if not value:
                    continue
                # A bare <t>text</t>: no formula lead, no blank at either end, no Excel escape,
                # not too long, none of _CAREFUL (checked inline: a call per text is a tenth of the loop).
                first = value[0]
                if not (first in "=+-@\t\r" or first.isspace() or value[-1].isspace() or "_x" in value
                        or len(value) > limit or careful(value)):
                    add(f'<c r="{letters[col]}{number}" t="inlineStr"><is><t>{value}</t></is></c>')
                    continue
                rest = _inline(value)
                if rest is None:
                    return None
                add(f'<c r="{letters[col]}{number}{rest}')
            elif kind is Decimal:
                add(f'<c r="{letters[col]}{number}" s="{amount}"><v>{float(value):.16G}</v></c>')
            elif kind is int:
                add(f'<c r="{letters[col]}{number}"><v>{value:.16G}</v></c>')
            elif kind is date:
                add(f'<c r="{letters[col]}{number}" s="{day}"><v>{value.toordinal() - epoch}</v></c>')
            elif kind is datetime:
                add(f'<c r="{letters[col]}{number}" s="{moment}"><v>{_serial(_utc_naive(value)):.16G}</v></c>')
            elif value is not None:
                return None
        return cells

    def finish(self, last_row: int | None = None) -> None:
        """Filter the table from the header to ``last_row`` (default: the last row written)."""
        if self.table:
            last = max(last_row or self.rows, 2)
            self.ws.autofilter(0, 0, last - 1, len(self.columns) - 1)

    def letter(self, header: str) -> str:
        return str(xl_col_to_name([c.header for c in self.columns].index(header)))

    def range(self, header: str, first: int, last: int) -> str:
        """Absolute reference to one column's rows ``first..last`` (at least one row)."""
        col = self.letter(header)
        # Always quoted: the formulas read the same whatever the sheet is called.
        quoted = "'" + self.title.replace("'", "''") + "'"
        return f"{quoted}!${col}${first}:${col}${max(last, first)}"


def _write_text(ws: Worksheet, row: int, col: int, value: str, wb: Workbook, **style: Any) -> None:
    text = safe_text(value)
    if value.startswith(FORMULA_LEADS):
        # Excel keeps the cell a text even when a user edits it.
        style["quote_prefix"] = True
    fmt = wb.format(**style) if style else None
    if _rich_looking(text):
        # Three plain runs (XlsxWriter's minimum) that read back as the one text.
        ws.write_rich_string(row, col, text[:1], text[1:2], text[2:], *([fmt] if fmt else []))
    else:
        ws.write_string(row, col, text, fmt)


_BOLD = {"bold": True}
_LINK = {"font_color": "#0563C1", "underline": 1}


def _write_other(ws: Worksheet, row: int, col: int, value: Any, wb: Workbook) -> None:
    if isinstance(value, str):
        if value:
            _write_text(ws, row, col, value, wb)
    elif isinstance(value, Bold):
        _write_text(ws, row, col, value.text, wb, **_BOLD)
    elif isinstance(value, Link):
        fmt = wb.format(**_LINK)
        link = _RelativeLink(f"external:{value.target}")
        link.text = safe_text(value.text)  # a Url object's text: write_url's own argument is for plain URLs
        ws.write_url(row, col, link, fmt)
        if not _plain(value.text):  # the link stays; the shown text is written as any text is
            _write_text(ws, row, col, value.text, wb, **_LINK)
    elif isinstance(value, Formula):
        if not value.text.startswith("="):
            raise ValueError(f"not a formula: {value.text!r}")
        fmt = wb.format(num_format=value.number_format) if value.number_format != "General" else None
        # An empty cached result tells a reader there is none, rather than a wrong 0.
        ws.write_formula(row, col, value.text, fmt, "" if value.value is None else value.value)
    elif isinstance(value, bool):
        ws.write_string(row, col, "yes" if value else "no")
    elif isinstance(value, Decimal):
        ws.write_number(row, col, float(value), wb.amount)
    elif isinstance(value, datetime):
        ws.write_number(row, col, _serial(_utc_naive(value)), wb.moment)
    elif isinstance(value, date):
        ws.write_number(row, col, _serial(value), wb.date)
    elif isinstance(value, int):
        ws.write_number(row, col, value)
    else:
        raise TypeError(f"no cell type for {type(value).__name__}")


def new_workbook(generated: datetime | date, page_header: str = "") -> Workbook:
    """An empty workbook; ``page_header`` heads every printed page (company, org. no., period)."""
    return Workbook(generated, page_header)


def _utc_naive(moment: datetime | date) -> datetime:
    if not isinstance(moment, datetime):  # a generation date without a time: midnight
        moment = datetime.combine(moment, time())
    if moment.tzinfo is not None:
        moment = moment.astimezone(timezone.utc)
    return moment.replace(tzinfo=None, microsecond=0)


def save(wb: Workbook, generated: datetime | date | None = None) -> bytes:
    """The workbook as .xlsx bytes; the same workbook gives the same bytes.

    XlsxWriter dates every zip entry 1980-01-31 (never the clock), numbers
    styles in the order they were made, and takes the created time from
    the properties set in new_workbook; ``generated`` is accepted for the
    callers that pass it.
    """
    wb.book.close()
    return wb.buffer.getvalue()
