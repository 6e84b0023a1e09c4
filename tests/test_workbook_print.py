"""The workbook prints as an audit document: LibreOffice saves it as PDF, and each page is read back.

Auditors archive PDFs. Every page must name the company, its organisation
number and the period, and its sheet and page number; every sheet must fit
the page width (one page wide: all its column headers on its first page),
repeat its header row on every page, and the Summary must be one page.
"""

from __future__ import annotations

import io
import re
from collections import defaultdict
from dataclasses import replace
from decimal import Decimal

import pytest
from pypdf import PdfReader

from ledger_export.ledger.model import Ledger, Line, Voucher
from ledger_export.outputs.workbook import TRIAL_BALANCE_COLUMNS, VOUCHER_COLUMNS
from ledger_export.outputs.workbook_tables import (MAPPING_COLUMNS, PAYMENT_COLUMNS, PAYOUT_COLUMNS,
                                                   SELF_INVOICE_COLUMNS, SPECIFICATION_COLUMNS)
from ledger_export.outputs.workbook_invoice_payments import COLUMNS as INVOICE_PAYMENT_COLUMNS
from support.audit_pack import DATA, LEDGER, PAYOUTS, render
from support.spreadsheets import libreoffice

HEADING = "Exempelbolaget AB, org. no. 556677-8899, period 2025-06"
SHEETS = ("Summary", "Vouchers", "Trial balance", "Invoice payments", "Payouts", "Specifications", "Self-invoices",
          "Creditor payments", "Mapping")
WIDE = ("Vouchers", "Invoice payments", "Payouts", "Specifications", "Self-invoices", "Creditor payments", "Mapping", "Summary")
PAGE = re.compile(r"Page (\d+) of (\d+)")


@pytest.fixture(scope="module")
def to_pdf(tmp_path_factory):
    convert = libreoffice(tmp_path_factory.mktemp("print"))
    return lambda xlsx: PdfReader(io.BytesIO(convert(xlsx, "pdf").read_bytes()))


def pages_by_sheet(pdf: PdfReader) -> dict[str, list]:
    """Each sheet's pages, told by the sheet name beside the heading in the page header."""
    found: dict[str, list] = defaultdict(list)
    for page in pdf.pages:
        text = page.extract_text()
        first = text.splitlines()[0]
        assert first.startswith(HEADING + " "), text[:300]
        name = first[len(HEADING) + 1:]
        assert name in SHEETS, first
        found[name].append((page, text))
    return found


def page_numbers(pdf_pages: list) -> list[tuple[int, int]]:
    return [tuple(map(int, PAGE.search(text).groups())) for _, text in pdf_pages]


@pytest.fixture(scope="module")
def sample(to_pdf):
    return pages_by_sheet(to_pdf(render()))


def test_every_sheet_prints_and_the_summary_on_one_page(sample):
    assert list(sample) == list(SHEETS)
    # The sample period's sheets are short: one page each, so nothing was cut to a second page across.
    assert {name: len(pages) for name, pages in sample.items()} == {name: 1 for name in SHEETS}
    # LibreOffice numbers the pages of the whole document ("&P of &N"); Excel those of the sheet printed.
    assert [number for pages in sample.values() for number in page_numbers(pages)] == [
        (n, len(SHEETS)) for n in range(1, len(SHEETS) + 1)]


def test_wide_sheets_print_landscape_and_the_others_portrait(sample):
    for name, pages in sample.items():
        box = pages[0][0].mediabox
        landscape = box.width > box.height
        assert landscape == (name in WIDE), name
        assert {round(float(min(box.width, box.height))), round(float(max(box.width, box.height)))} == {595, 842}


@pytest.mark.parametrize("sheet, columns", [
    ("Vouchers", VOUCHER_COLUMNS), ("Trial balance", TRIAL_BALANCE_COLUMNS),
    ("Invoice payments", INVOICE_PAYMENT_COLUMNS), ("Payouts", PAYOUT_COLUMNS),
    ("Specifications", SPECIFICATION_COLUMNS), ("Self-invoices", SELF_INVOICE_COLUMNS),
    ("Creditor payments", PAYMENT_COLUMNS), ("Mapping", MAPPING_COLUMNS),
])
def test_every_column_header_is_whole_on_the_first_page_of_its_sheet(sample, sheet, columns):
    # Fitted to the width: no column went to a page of its own; wide enough: no header clipped.
    text = sample[sheet][0][1]
    for column in columns:
        assert column.header in text, column.header


def test_the_summary_is_whole_on_its_page(sample):
    summary = sample["Summary"][0][1]
    # The Summary's widest column and its last rows are on its one page.
    assert "Warnings and errors" in summary and "SHA-256" in summary and "self_invoice_2025_164.pdf" in summary


def _long_ledger(count: int) -> Ledger:
    vouchers = [Voucher(date=PAYOUTS[0].payout_date, text=f"Amili kapital ref {n}",
                        lines=(Line(1930, Decimal("1.00"), f"line {n}"), Line(1510, Decimal("-1.00"), f"line {n}")),
                        payout_id=f"p{n}", payout_reference=str(n))
                for n in range(count)]
    return Ledger(tuple(vouchers), account_names=LEDGER.account_names)


def test_a_long_sheet_repeats_its_header_row_and_numbers_its_pages(to_pdf):
    data = replace(DATA, payouts=(), specifications=(), payments=())
    pages = pages_by_sheet(to_pdf(render(ledger=_long_ledger(300), data=data, documents=())))["Vouchers"]
    assert len(pages) > 3
    numbers = page_numbers(pages)
    assert [n for n, _ in numbers] == list(range(numbers[0][0], numbers[0][0] + len(pages)))
    for _, text in pages:
        # Every page, not only the first, starts with the header row, whole.
        assert "Account name" in text and "Self-invoice" in text and "Original voucher text" in text
