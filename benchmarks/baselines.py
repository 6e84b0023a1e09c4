"""The plain writers the targets compare with, run on the same lines in the same process.

- SIE: the same #VER/#TRANS lines as f-strings, joined and encoded CP437,
  with none of the checks, transliteration, shortening or templating (best
  of three runs); and render_sie itself again, warm (best of three).
- Workbook: the same cell values, sheet by sheet, written row by row with
  XlsxWriter's generic ``write_row`` (the writer the workbook uses since
  issue 13, in the same constant_memory mode) with no styles, formats,
  widths, panes, filters or page setup; formulas written as their text.
  Until issue 13 the baseline was a plain openpyxl write-only workbook.
  The values are captured from a second render_workbook call (the capture
  only keeps a reference to each row), so both write exactly the same cells.
"""

from __future__ import annotations

import io
import time
from datetime import datetime
from typing import Any

import xlsxwriter

from ledger_export.ledger.model import Ledger
from ledger_export.sie import writer as sie_writer
from ledger_export.outputs import workbook
from ledger_export.outputs import xlsx


def plain_sie(ledger: Ledger) -> bytes:
    out = []
    for v in ledger.vouchers:
        out.append(f'#VER "{v.series}" "" {v.date:%Y%m%d} "{v.text}"')
        out.append("{")
        for line in v.lines:
            out.append(f'#TRANS {line.account} {{}} {line.amount} "" "{line.text}"')
        out.append("}")
    out.append("")
    return "\r\n".join(out).encode("cp437", errors="replace")


def captured_rows(workbook_args: dict[str, Any]) -> tuple[float, list[tuple[str, list[list[Any]]]]]:
    """(seconds of a repeat render_workbook, the rows it wrote per sheet in order)."""
    sheets: list[tuple[str, list[list[Any]]]] = []
    # Keyed by the sheet itself: a sheet render_workbook drops may free its id for the next one.
    rows_of: dict[xlsx.Sheet, list[list[Any]]] = {}
    original = xlsx.Sheet.append

    def append(self, values):
        values = list(values)
        if self not in rows_of:
            rows_of[self] = []
            sheets.append((self.title, rows_of[self]))
        rows_of[self].append(values)
        return original(self, values)

    xlsx.Sheet.append = append
    try:
        started = time.perf_counter()
        workbook.render_workbook(**workbook_args)
        seconds = time.perf_counter() - started
    finally:
        xlsx.Sheet.append = original
    return seconds, sheets


def _plain_value(value: Any) -> Any:
    if isinstance(value, xlsx.Formula):
        return value.text
    if isinstance(value, (xlsx.Bold, xlsx.Link)):
        return value.text
    if isinstance(value, datetime) and value.tzinfo is not None:
        return value.replace(tzinfo=None)
    if value == "":
        return None
    return value


def plain_workbook(sheets: list[tuple[str, list[list[Any]]]]) -> bytes:
    buffer = io.BytesIO()
    # Texts stay texts, as in the workbook: no guessing of formulas, URLs or numbers.
    wb = xlsxwriter.Workbook(buffer, {"constant_memory": True, "strings_to_formulas": False,
                                      "strings_to_urls": False})
    for title, rows in sheets:
        ws = wb.add_worksheet(title)
        for number, row in enumerate(rows):
            ws.write_row(number, 0, row)
    wb.close()
    return buffer.getvalue()


def _best_of_three(fn: Any) -> tuple[float, Any]:
    # A tenth of a second is at the mercy of the scheduler; the fastest run is the truest.
    best, result = float("inf"), None
    for _ in range(3):
        started = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - started)
    return best, result


def measure(ledger: Ledger, workbook_args: dict[str, Any],
            sie_call: tuple[tuple[Any, ...], dict[str, Any]]) -> dict[str, Any]:
    sie_seconds, text = _best_of_three(lambda: plain_sie(ledger))
    # render_sie once more, warm: what is left of it when the template is already
    # compiled (a one-time cost of about 4 ms per run, which dominates a small file).
    args, kwargs = sie_call
    sie_warm_seconds, _ = _best_of_three(lambda: sie_writer.render_sie(*args, **kwargs))

    repeat_seconds, sheets = captured_rows(workbook_args)
    # Unwrapping Formula/Bold/Link is not writing: done before the clock starts.
    sheets = [(title, [[_plain_value(v) for v in row] for row in rows]) for title, rows in sheets]
    started = time.perf_counter()
    plain = plain_workbook(sheets)
    workbook_seconds = time.perf_counter() - started
    return {
        "sie_plain_seconds": sie_seconds,
        "sie_warm_seconds": sie_warm_seconds,
        "sie_plain_mb": len(text) / (1024 * 1024),
        "sie_plain_lines": text.count(b"\n") + 1,
        "workbook_repeat_seconds": repeat_seconds,
        "workbook_plain_seconds": workbook_seconds,
        "workbook_plain_mb": len(plain) / (1024 * 1024),
        "workbook_cells": sum(len(row) for _, rows in sheets for row in rows),
        "workbook_sheets": [(title, len(rows)) for title, rows in sheets],
    }
