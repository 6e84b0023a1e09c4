"""The payments file: read in the forms Excel writes, every problem reported with its line and column."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from ledger_export.paths import SAMPLES
from ledger_export.payments_csv import PaymentFileError, PaymentRow, parse_payments, read_payments

TODAY = date(2025, 7, 1)
HEADER = "invoice_number,case,amount,currency,bank_transaction_date,reference"
GOOD = "INV-2025-0170,,1250.00,SEK,2025-06-17,BG-1"
CASE = "67d83f856b7ed6b6dff66a58"


def parse(text: str, name: str = "payments.csv") -> tuple[PaymentRow, ...]:
    return parse_payments(text.encode("utf-8"), name=name, today=TODAY)


def problem(text: str) -> str:
    with pytest.raises(PaymentFileError) as err:
        parse(text)
    return str(err.value)


def test_a_comma_file_with_decimal_points():
    rows = parse(f"{HEADER}\n{GOOD}\n,{CASE},99.5,,2025-06-18,BG-2\n")
    assert rows == (
        PaymentRow(2, "BG-1", Decimal("1250.00"), date(2025, 6, 17), invoice_number="INV-2025-0170"),
        PaymentRow(3, "BG-2", Decimal("99.50"), date(2025, 6, 18), case=CASE),
    )
    assert rows[0].target == "invoice INV-2025-0170" and rows[1].target == f"case {CASE}"


def test_swedish_excel_semicolons_decimal_commas_bom_and_crlf():
    text = ("\ufeffInvoice_Number;Amount;Bank_Transaction_Date;Reference\r\n"
            "INV-1;1\u00a0234,50;2025-06-17;BG-1\r\n"
            ";;;\r\n")  # Excel's empty row
    rows = parse_payments(text.encode("utf-8"), name="p.csv", today=TODAY)
    assert rows == (PaymentRow(2, "BG-1", Decimal("1234.50"), date(2025, 6, 17), invoice_number="INV-1"),)


def test_the_bundled_sample_file_reads():
    rows = read_payments(SAMPLES / "payments.csv", today=TODAY)
    assert [r.reference for r in rows] == [f"BG-202506{d}-000{n}" for d, n in (("17", 1), ("18", 2), ("23", 3), ("27", 4))]
    assert rows[2].case == CASE and rows[1].amount == Decimal("480.50")


def test_an_upper_case_case_id_is_the_same_id():
    assert parse(f"{HEADER}\n,{CASE.upper()},1,,2025-06-17,R\n")[0].case == CASE


@pytest.mark.parametrize("row,message", [
    (",,10,,2025-06-17,R", "case/invoice_number: give the Amili case id or the invoice number"),
    (f"INV-1,{CASE},10,,2025-06-17,R", "case/invoice_number: give one of them, not both"),
    (",nope,10,,2025-06-17,R", "case: must be a 24-character Amili case id, got 'nope'"),
    ("INV-1,,-5,,2025-06-17,R", "amount: must be more than 0, got -5"),
    ("INV-1,,0,,2025-06-17,R", "amount: must be more than 0, got 0"),
    ("INV-1,,10.005,,2025-06-17,R", "amount: has more than two decimals: 10.005"),
    ("INV-1,,ten,,2025-06-17,R", "amount: is not an amount, got 'ten'"),
    ("INV-1,,,,2025-06-17,R", "amount: is empty"),
    ('INV-1,,"1,234.50",,2025-06-17,R', "amount: write it with one decimal sign, as 1234.50 or 1234,50, got 1,234.50"),
    ("INV-1,,10,EUR,2025-06-17,R", "currency: must be SEK (the only currency Amili takes), got EUR"),
    ("INV-1,,10,,17/06/2025,R", "bank_transaction_date: must be a date written YYYY-MM-DD, got '17/06/2025'"),
    ("INV-1,,10,,20250617,R", "bank_transaction_date: must be a date written YYYY-MM-DD, got '20250617'"),
    ("INV-1,,10,,2025-02-30,R", "bank_transaction_date: must be a date written YYYY-MM-DD, got '2025-02-30'"),
    ("INV-1,,10,,2025-07-02,R", "bank_transaction_date: 2025-07-02 is in the future (today is 2025-07-01)"),
    ("INV-1,,10,,,R", "bank_transaction_date: is empty"),
    ("INV-1,,10,,2025-06-17,", "reference: is empty; every payment needs its own reference (e.g. the bank's "
                              "transaction id): it is how a re-run recognises payments Amili already has"),
    ("INV-1,,10,,2025-06-17,R,extra", "has 7 fields, the header has 6"),
], ids=lambda v: v if len(v) < 30 else None)
def test_each_validation_error_names_line_and_column(row, message):
    assert problem(f"{HEADER}\n{GOOD}\n{row}\n") == f"payments.csv:3: {message}"


def test_today_itself_is_not_the_future():
    assert parse(f"{HEADER}\nINV-1,,10,,2025-07-01,R\n")[0].bank_transaction_date == TODAY


def test_every_bad_row_is_reported_at_once_one_line_each():
    text = "\n".join([HEADER, "INV-1,,-5,,2025-06-17,A", GOOD, "INV-2,,10,USD,2099-01-01,B", "INV-3,,10,,2025-06-17,BG-1"])
    assert problem(text).splitlines() == [
        "payments.csv:2: amount: must be more than 0, got -5",
        "payments.csv:4: currency: must be SEK (the only currency Amili takes), got USD; "
        "bank_transaction_date: 2099-01-01 is in the future (today is 2025-07-01)",
        "payments.csv:5: reference: BG-1 is also on line 3: each payment needs its own reference",
    ]


def test_line_numbers_count_physical_lines():
    text = f'{HEADER}\n\n"INV-\n1",,-1,,2025-06-17,R\n'  # a blank line, then a quoted field over two lines
    assert problem(text) == "payments.csv:3: amount: must be more than 0, got -1"


@pytest.mark.parametrize("header,message", [
    ("invoice,amount,bank_transaction_date,reference",
     "unknown column invoice (the columns are case, invoice_number, amount, bank_transaction_date, reference, "
     "currency); missing column case or invoice_number"),
    ("invoice_number,amount,reference", "missing column bank_transaction_date"),
    ("case,amount,amount,bank_transaction_date,reference", "column amount appears more than once"),
    ("invoice_number,amount,date,ref,note",
     "unknown columns date, ref, note (the columns are case, invoice_number, amount, bank_transaction_date, "
     "reference, currency); missing columns bank_transaction_date, reference"),
])
def test_header_problems_name_the_columns(header, message):
    assert problem(f"{header}\n{GOOD}\n") == f"payments.csv:1: {message}"


def test_a_file_that_is_not_utf8_says_how_to_save_it():
    data = f"{HEADER}\nINV-1,,10,,2025-06-17,Betalning från Åsa\n".encode("cp1252")
    with pytest.raises(PaymentFileError, match=r'^p.csv: is not UTF-8 text \(byte \d+\); in Excel save it as "CSV UTF-8"$'):
        parse_payments(data, name="p.csv", today=TODAY)


def test_a_header_only_file_holds_no_payments():
    assert problem(f"{HEADER}\n") == "payments.csv: holds no payments (only a header)"


def test_a_missing_file_is_a_clear_error(tmp_path):
    with pytest.raises(PaymentFileError, match=r"nope.csv: cannot read it: No such file"):
        read_payments(tmp_path / "nope.csv", today=TODAY)
