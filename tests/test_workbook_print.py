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
from ledger_export.outputs.workbook import VOUCHER_COLUMNS
from support.audit_pack import DATA, LEDGER, PAYOUTS, render
from support.spreadsheets import libreoffice

HEADING = "Exempelbolaget AB, org. no. 556677-8899, period 2025-06"
SHEETS = ("Summary", "Vouchers", "Trial balance", "Payouts", "Specifications", "Self-invoices",
          "Creditor payments", "Mapping")
WIDE = ("Vouchers", "Payouts", "Specifications", "Self-invoices", "Creditor payments", "Mapping", "Summary")
PAGE = re.compile(r"Page (\d+) of (\d+)")


@pytest.fixture(scope="module")
def to_pdf(tmp_path_factory):
    convert = libreoffice(tmp_path_factory.mktemp("print"))
    return lambda xlsx: PdfReader(io.BytesIO(convert(xlsx, "pdf").read_bytes()))


def pages_by_sheet(pdf: PdfReader) -> dict[str, list]:
    """Each sheet's pages, told by the sheet name the page header carries."""
    found: dict[str, list] = defaultdict(list)
    for page in pdf.pages:
        text = page.extract_text()
        assert HEADING in text, text[:300]
        # The header's right part is the sheet's name; the longest match wins ("Payouts" is in other texts).
        names = [s for s in SHEETS if re.search(rf"(^|\n){re.escape(s)}($|\n)", text)]
        assert names, text[:300]
        found[max(names, key=len) if len(names) > 1 else names[0]].append((page, text))
    return found


@pytest.fixture(scope="module")
def sample(to_pdf):
    return pages_by_sheet(to_pdf(render()))


def test_every_sheet_prints_and_the_summary_on_one_page(sample):
    assert set(sample) == set(SHEETS)
    # The sample period's sheets are short: one page each, so nothing was cut to a second page across.
    assert {name: len(pages) for name, pages in sample.items()} == {name: 1 for name in SHEETS}
    for pages in sample.values():
        assert PAGE.search(pages[0][1]).groups() == ("1", "1")


def test_wide_sheets_print_landscape_and_the_others_portrait(sample):
    for name, pages in sample.items():
        box = pages[0][0].mediabox
        landscape = box.width > box.height
        assert landscape == (name in WIDE), name
        assert {round(float(min(box.width, box.height))), round(float(max(box.width, box.height)))} == {595, 842}


def test_every_column_header_is_on_the_first_page_of_its_sheet(sample):
    text = sample["Vouchers"][0][1]
    for column in VOUCHER_COLUMNS:
        assert column.header in text, column.header
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
    numbers = [PAGE.search(text).groups() for _, text in pages]
    assert numbers == [(str(n), str(len(pages))) for n in range(1, len(pages) + 1)]
    for _, text in pages:
        # Every page, not only the first, starts with the header row, whole.
        assert "Account name" in text and "Self-invoice" in text and "Original voucher text" in text
