"""Cells and sheets for the audit workbook, and saving it to identical bytes.

Every value is typed by its Python type: Decimal is an amount (two decimals,
thousands separator), date and datetime are real dates, int is a number,
``Formula`` is the only way to write a formula, and every str is a text cell
— so a text from Amili that starts with ``=``, ``+``, ``-`` or ``@`` can
never become a formula, in Excel or in LibreOffice.
"""

from __future__ import annotations

import io
import os
import re
import shutil
import zipfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timezone
from decimal import Decimal
from typing import Any

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ERROR_CODES, ILLEGAL_CHARACTERS_RE, Cell
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter, quote_sheetname
from openpyxl.writer.excel import ExcelWriter

AMOUNT = "#,##0.00"
COUNT = "#,##0"
DATE = "yyyy-mm-dd"
MOMENT = "yyyy-mm-dd hh:mm:ss"
# Spreadsheets (and CSV exports of them) read these leading characters as a formula.
FORMULA_LEADS = ("=", "+", "-", "@", "\t", "\r")

_BOLD = Font(bold=True)
_LINK = Font(color="0563C1", underline="single")


@dataclass(frozen=True)
class Formula:
    """A formula written on purpose, e.g. ``=SUM(C2:C9)``; ``number_format`` for its result."""

    text: str
    number_format: str = "General"


@dataclass(frozen=True)
class Link:
    """A text that opens ``target`` (a relative path, already URL-quoted)."""

    text: str
    target: str


@dataclass(frozen=True)
class Bold:
    text: str


# Beyond openpyxl's control characters, XML 1.0 cannot hold surrogates or U+FFFE/U+FFFF.
_NOT_XML = re.compile("[\ud800-\udfff\ufffe\uffff]")


def safe_text(value: str) -> str:
    # Show that something unwritable was there rather than drop it or corrupt the file.
    return _NOT_XML.sub("\ufffd", ILLEGAL_CHARACTERS_RE.sub("\ufffd", value))


# Anything safe_text would replace, in one search.
_UNSAFE = re.compile(f"{ILLEGAL_CHARACTERS_RE.pattern}|{_NOT_XML.pattern}")


def _plain(value: str) -> bool:
    """Whether openpyxl, given the bare text, makes the very cell ``_text`` would: a text, unstyled."""
    # A formula lead needs the quote prefix; an error code ("#N/A") would become an error cell.
    return not (value.startswith(FORMULA_LEADS) or value in ERROR_CODES or _UNSAFE.search(value))


def _text(ws: Any, value: str, font: Font | None = None) -> Cell:
    cell = WriteOnlyCell(ws, value=safe_text(value))
    # Assigning "=..." makes openpyxl guess a formula; a text stays a text.
    cell.data_type = "s"
    if value.startswith(FORMULA_LEADS):
        # Excel keeps the cell text even when a user edits it.
        cell.quotePrefix = True
    if font is not None:
        cell.font = font
    return cell


def cell(ws: Any, value: Any) -> Any:
    """One write-only cell for ``value`` (None stays an empty cell)."""
    if value is None or value == "":
        return None
    # Most cells of a big period are plain texts, ids, counts and days. For those openpyxl's
    # own typing gives the same cell as ours (a text; a number; a date formatted "yyyy-mm-dd",
    # our DATE), so it gets the bare value: a ready cell costs it a second cell and a failed
    # assignment (a ValueError carrying the cell's repr) per value, about a fifth of the
    # workbook's time at 100k lines. Exact types: bool is an int, datetime a date.
    kind = type(value)
    if (kind is str and _plain(value)) or kind is int or kind is date:
        return value
    if isinstance(value, str):
        return _text(ws, value)
    if isinstance(value, Bold):
        return _text(ws, value.text, _BOLD)
    if isinstance(value, Link):
        c = _text(ws, value.text, _LINK)
        c.hyperlink = value.target
        return c
    if isinstance(value, Formula):
        c = WriteOnlyCell(ws, value=value.text)
        if c.data_type != "f":
            raise ValueError(f"not a formula: {value.text!r}")
        c.number_format = value.number_format
        return c
    if isinstance(value, bool):
        return WriteOnlyCell(ws, value="yes" if value else "no")
    # types-openpyxl gives WriteOnlyCell's value as str | float | datetime; openpyxl itself takes
    # a Decimal (a number) and a date, as Cell.value's own type in those stubs says.
    if isinstance(value, Decimal):
        c = WriteOnlyCell(ws, value=value)  # type: ignore[arg-type]
        c.number_format = AMOUNT
        return c
    if isinstance(value, datetime):
        c = WriteOnlyCell(ws, value=value.replace(tzinfo=None))
        c.number_format = MOMENT
        return c
    if isinstance(value, date):
        c = WriteOnlyCell(ws, value=value)  # type: ignore[arg-type]
        c.number_format = DATE
        return c
    if isinstance(value, int):
        return WriteOnlyCell(ws, value=value)
    raise TypeError(f"no cell type for {type(value).__name__}")


@dataclass(frozen=True)
class Column:
    header: str
    width: float = 14


class Sheet:
    """A write-only sheet, optionally a table: bold frozen header row, autofilter, column widths."""

    def __init__(self, wb: Workbook, title: str, columns: Sequence[Column], *, table: bool = True):
        self.ws = wb.create_sheet(title)
        self.title = title
        self.columns = tuple(columns)
        self.table = table
        self.rows = 0
        # A styled cell registers its number format when built, a bare date only when openpyxl
        # writes it: registering DATE up front keeps the format ids in styles.xml independent
        # of whether a date or a moment comes first (the first registered gets the first id).
        WriteOnlyCell(self.ws).number_format = DATE
        # Write-only sheets write panes and widths with the first row: set them first.
        for index, column in enumerate(self.columns, start=1):
            self.ws.column_dimensions[get_column_letter(index)].width = column.width
        if table:
            self.ws.freeze_panes = "A2"
            self.append([Bold(c.header) for c in self.columns])

    def append(self, values: Iterable[Any]) -> int:
        """Write one row; returns its row number."""
        self.ws.append([cell(self.ws, v) for v in values])
        self.rows += 1
        return self.rows

    def finish(self, last_row: int | None = None) -> None:
        """Filter the table from the header to ``last_row`` (default: the last row written)."""
        if self.table:
            last = max(last_row or self.rows, 2)
            self.ws.auto_filter.ref = f"A1:{get_column_letter(len(self.columns))}{last}"

    def letter(self, header: str) -> str:
        return get_column_letter([c.header for c in self.columns].index(header) + 1)

    def range(self, header: str, first: int, last: int) -> str:
        """Absolute reference to one column's rows ``first..last`` (at least one row)."""
        col = self.letter(header)
        return f"{quote_sheetname(self.title)}!${col}${first}:${col}${max(last, first)}"


def new_workbook(generated: datetime) -> Workbook:
    wb = Workbook(write_only=True)
    # openpyxl stamps "now"; the run's own time keeps the bytes reproducible.
    moment = _utc_naive(generated)
    wb.properties.created = wb.properties.modified = moment
    wb.properties.creator = wb.properties.lastModifiedBy = "ledger-export"
    # No cached results are stored: make Excel compute every formula on open.
    wb.calculation.fullCalcOnLoad = True
    return wb


def _utc_naive(moment: datetime | date) -> datetime:
    if not isinstance(moment, datetime):  # a generation date without a time: midnight
        moment = datetime.combine(moment, time())
    if moment.tzinfo is not None:
        moment = moment.astimezone(timezone.utc)
    return moment.replace(tzinfo=None, microsecond=0)


CHUNK = 1 << 20  # bytes of a temporary sheet file copied into the zip at a time


class _FixedTimeZip(zipfile.ZipFile):
    """A zip whose entries all carry one timestamp instead of the clock's or a temp file's."""

    def __init__(self, file: Any, date_time: tuple[int, int, int, int, int, int]):
        super().__init__(file, "w", compression=zipfile.ZIP_DEFLATED)
        self.fixed_date_time = date_time

    def _entry(self, name: str) -> zipfile.ZipInfo:
        info = zipfile.ZipInfo(name, date_time=self.fixed_date_time)
        info.compress_type = self.compression
        info.external_attr = 0o600 << 16
        return info

    def write(self, filename: Any, arcname: str | os.PathLike[str] | None = None, compress_type: int | None = None,
              compresslevel: int | None = None) -> None:
        # openpyxl streams write-only sheets through temporary files, tens of MB each for a big
        # period: copied a chunk at a time, never held whole. Deflate's output does not depend
        # on how its input is cut, so the bytes are the ones writestr gave.
        info = self._entry(str(arcname) if arcname else str(filename))
        if compress_type is not None:
            info.compress_type = compress_type
        if compresslevel is not None:
            # Where writestr puts it too; typeshed knows the field only by its 3.13 name, compress_level.
            info._compresslevel = compresslevel  # type: ignore[attr-defined]
        # Known up front, the size lets zipfile choose zip64 only for a sheet that needs it, as writestr does.
        info.file_size = os.path.getsize(filename)
        with open(filename, "rb") as source, self.open(info, "w") as target:
            shutil.copyfileobj(source, target, CHUNK)

    def writestr(self, zinfo_or_arcname: Any, data: Any, compress_type: int | None = None,
                 compresslevel: int | None = None) -> None:
        if not isinstance(zinfo_or_arcname, zipfile.ZipInfo):
            zinfo_or_arcname = self._entry(zinfo_or_arcname)
        super().writestr(zinfo_or_arcname, data, compress_type, compresslevel)


def save(wb: Workbook, generated: datetime) -> bytes:
    """The workbook as .xlsx bytes; the same workbook and time give the same bytes."""
    moment = _utc_naive(generated)
    # Zip timestamps start in 1980.
    stamp = max(moment, datetime(1980, 1, 1)).timetuple()[:6]
    buffer = io.BytesIO()
    ExcelWriter(wb, _FixedTimeZip(buffer, stamp)).save()
    return buffer.getvalue()
