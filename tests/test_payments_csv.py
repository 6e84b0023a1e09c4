"""The payments file: read in the forms Excel writes, every problem reported with its line and column."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ledger_export.core.resources import SAMPLES
from ledger_export.jobs.payments_csv import PaymentFileError, PaymentRow, parse_payments, read_amount, read_payments

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
    ("INV-1,,-5,,2025-06-17,R", "amount (column 3): must be more than 0, got -5"),
    ("INV-1,,0,,2025-06-17,R", "amount (column 3): must be more than 0, got 0"),
    ("INV-1,,10.0005,,2025-06-17,R", "amount (column 3): has more than two decimals: 10.0005"),
    ("INV-1,,ten,,2025-06-17,R", "amount (column 3): is not an amount, got 'ten'"),
    ("INV-1,,,,2025-06-17,R", "amount (column 3): is empty"),
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


# The amount rule (payments_csv's docstring): read only when one reading is possible.
SEMICOLONS = "amount;invoice_number;bank_transaction_date;reference"


def amount(text: str) -> Decimal:
    return parse(f"{SEMICOLONS}\n{text};INV-1;2025-06-17;R\n")[0].amount


def amount_problem(text: str) -> str:
    return problem(f"{SEMICOLONS}\n{text};INV-1;2025-06-17;R\n")


@pytest.mark.parametrize("text,meant", [
    ("1000", "1000.00"), ("1234,5", "1234.50"), ("1234.50", "1234.50"), ("0,5", "0.50"), ("+95.75", "95.75"),
    ("12345,67", "12345.67"),
    # Grouped in threes, with a decimal sign of another kind or none: one reading only.
    ("1 000", "1000.00"), ("1\u00a0000,50", "1000.50"), ("1\u202f000", "1000.00"), ("12 345 678,9", "12345678.90"),
    ("1.000,50", "1000.50"), ("1,000.50", "1000.50"), ("1.000.000", "1000000.00"), ("1,000,000", "1000000.00"),
    ("1.234.567,89", "1234567.89"), ("999 999,99", "999999.99"),
])
def test_amounts_with_one_reading_are_read(text, meant):
    assert amount(text) == Decimal(meant)


@pytest.mark.parametrize("text,message", [
    # The reproduced bug: each of these was read as 1.00, 1.00, 10.00 and 2.50.
    ("1,000", "1,000 could be 1000 or 1 — write 1000 or 1000,00 (or 1,00 for 1)"),
    ("1.000", "1.000 could be 1000 or 1 — write 1000 or 1000.00 (or 1.00 for 1)"),
    ("10,000", "10,000 could be 10000 or 10 — write 10000 or 10000,00 (or 10,00 for 10)"),
    ("2,500", "2,500 could be 2500 or 2,5 — write 2500 or 2500,00 (or 2,50 for 2,5)"),
    ("10.005", "10.005 could be 10005 or 10.005 with three decimals — write 10005 or 10005.00"),
])
def test_an_amount_that_could_be_a_thousand_is_refused_saying_how_to_write_it(text, message):
    assert amount_problem(text) == f"payments.csv:2: amount (column 1): {message}"


def test_the_ambiguous_amount_names_the_column_where_it_is():
    text = f"{HEADER}\n{GOOD}\n\"INV-1\",,\"1,000\",SEK,2025-06-17,R\n"
    assert problem(text) == ("payments.csv:3: amount (column 3): 1,000 could be 1000 or 1 — write 1000 or "
                             "1000,00 (or 1,00 for 1)")


GROUPING = "group them in threes (1 234 567,50 or 1.234.567,50) or leave them out (1234567,50)"


@pytest.mark.parametrize("text,message", [
    ("10 00", f"cannot tell where the thousands are in '10 00': {GROUPING}"),
    ("1,00,000", f"cannot tell where the thousands are in '1,00,000': {GROUPING}"),
    ("1 0000", f"cannot tell where the thousands are in '1 0000': {GROUPING}"),
    ("1000 000", f"cannot tell where the thousands are in '1000 000': {GROUPING}"),
    ("1.000 000", f"cannot tell where the thousands are in '1.000 000': {GROUPING}"),
    ("1.000.50", f"cannot tell where the thousands are in '1.000.50': {GROUPING}"),
    ("1,000,50", f"cannot tell where the thousands are in '1,000,50': {GROUPING}"),
    ("1.0005", "has more than two decimals: 1.0005"),
    ("12345,678", "has more than two decimals: 12345,678"),
    ("1 000,505", "has more than two decimals: 1 000,505"),
    ("1.000,505", "has more than two decimals: 1.000,505"),
    ("1,", "is not an amount, got '1,'"),
    (".5", "is not an amount, got '.5'"),
    ("1..5", "is not an amount, got '1..5'"),
    ("1e3", "is not an amount, got '1e3'"),
    ("100 kr", "is not an amount, got '100 kr'"),
    ("1  000", "is not an amount, got '1  000'"),
    # Python's \d and Decimal() read these as 1000 and 100: a file should not.
    ("\uff11\uff10\uff10\uff10", "write it with the digits 0-9, got '\uff11\uff10\uff10\uff10'"),
    ("\u0661\u0660\u0660", "write it with the digits 0-9, got '\u0661\u0660\u0660'"),
    ("1\u0660\u0660", "write it with the digits 0-9, got '1\u0660\u0660'"),
])
def test_amounts_with_no_single_reading_are_refused(text, message):
    assert amount_problem(text) == f"payments.csv:2: amount (column 1): {message}"


STYLES = [("", "."), ("", ","), (" ", ","), (" ", "."), ("\u00a0", ","), (".", ","), (",", ".")]


def written(value: Decimal, group: str, decimal: str, show_cents: bool) -> str:
    whole, cents = f"{value:.2f}".split(".")
    groups = [whole[max(0, end - 3):end] for end in range(len(whole), 0, -3)][::-1]
    return group.join(groups) + (decimal + cents if show_cents else "")


@given(value=st.decimals(min_value="0.01", max_value="99999999999.99", places=2),
       style=st.sampled_from(STYLES), show_cents=st.booleans())
def test_an_amount_as_a_spreadsheet_writes_it_is_read_right_or_refused_never_misread(value, style, show_cents):
    group, decimal = style
    show_cents = show_cents or value != value.to_integral_value()
    text = written(value, group, decimal, show_cents)
    # Refused exactly when a point or comma groups a single thousand with nothing after it: 1,000.
    ambiguous = group in ".," and not show_cents and text.count(group) == 1
    try:
        read = read_amount(text)
    except ValueError as exc:
        assert ambiguous, f"{text}: {exc}"
        assert " could be " in str(exc)
    else:
        assert not ambiguous and read == value, text


def test_today_itself_is_not_the_future():
    assert parse(f"{HEADER}\nINV-1,,10,,2025-07-01,R\n")[0].bank_transaction_date == TODAY


def test_every_bad_row_is_reported_at_once_one_line_each():
    text = "\n".join([HEADER, "INV-1,,-5,,2025-06-17,A", GOOD, "INV-2,,10,USD,2099-01-01,B", "INV-3,,10,,2025-06-17,BG-1"])
    assert problem(text).splitlines() == [
        "payments.csv:2: amount (column 3): must be more than 0, got -5",
        "payments.csv:4: currency: must be SEK (the only currency Amili takes), got USD; "
        "bank_transaction_date: 2099-01-01 is in the future (today is 2025-07-01)",
        "payments.csv:5: reference: BG-1 is also on line 3: each payment needs its own reference",
    ]


def test_line_numbers_count_physical_lines():
    text = f'{HEADER}\n\n"INV-\n1",,-1,,2025-06-17,R\n'  # a blank line, then a quoted field over two lines
    assert problem(text) == "payments.csv:3: amount (column 3): must be more than 0, got -1"


@pytest.mark.parametrize("header,message", [
    ("invoice,amount,bank_transaction_date,reference",
     "unknown column invoice (the columns are case, invoice_number, amount, bank_transaction_date, reference, "
     "currency, creditor, origin, creditor_payment_reference); missing column case or invoice_number"),
    ("invoice_number,amount,reference", "missing column bank_transaction_date"),
    ("case,amount,amount,bank_transaction_date,reference", "column amount appears more than once"),
    ("invoice_number,amount,date,ref,note",
     "unknown columns date, ref, note (the columns are case, invoice_number, amount, bank_transaction_date, "
     "reference, currency, creditor, origin, creditor_payment_reference); missing columns bank_transaction_date, "
     "reference"),
    ("invoice_number,amount,bank_transaction_date,reference,creditor_payment_reference",
     "columns reference and creditor_payment_reference are the same column: give one of them"),
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
    with pytest.raises(PaymentFileError, match=r"nope.csv: cannot read it: it does not exist"):
        read_payments(tmp_path / "nope.csv", today=TODAY)


# Amili's own field names (the creditor payment resource): a file another system writes with them.
AMILI_HEADER = "creditor;origin;case;invoice_number;currency;amount;bank_transaction_date;creditor_payment_reference"
CREDITOR = "686e6ed854377058c2dd10bd"


def test_amilis_own_field_names_read_like_ours():
    text = (f"\ufeff{AMILI_HEADER}\r\n"
            f"{CREDITOR};creditor_system;{CASE};;SEK;100.0;Fri, 13 Jun 2025 00:00:00 GMT;PAY-REF-001\r\n"
            f";;;INV-7;;1 250,50;2025-06-17;PAY-REF-002\r\n")
    rows = parse_payments(text.encode("utf-8"), name="p.csv", today=TODAY, creditor=CREDITOR)
    assert rows == (
        PaymentRow(2, "PAY-REF-001", Decimal("100.00"), date(2025, 6, 13), case=CASE),
        PaymentRow(3, "PAY-REF-002", Decimal("1250.50"), date(2025, 6, 17), invoice_number="INV-7"),
    )


def test_the_same_file_under_our_names_and_amilis_gives_the_same_payments():
    ours = parse(f"{HEADER}\n{GOOD}\n")
    amilis = parse(f"{HEADER.replace('reference', 'creditor_payment_reference')}\n{GOOD}\n")
    assert ours == amilis


def test_the_reference_problems_name_the_files_own_column():
    header = "invoice_number,amount,bank_transaction_date,creditor_payment_reference"
    assert problem(f"{header}\nINV-1,10,2025-06-17,\n") == (
        "payments.csv:2: creditor_payment_reference: is empty; every payment needs its own reference (e.g. the "
        "bank's transaction id): it is how a re-run recognises payments Amili already has")
    assert problem(f"{header}\nINV-1,10,2025-06-17,R\nINV-2,10,2025-06-17,R\n") == (
        "payments.csv:3: creditor_payment_reference: R is also on line 2: each payment needs its own reference")


@pytest.mark.parametrize("fields,message", [
    (f"{'ab' * 12};creditor_system", f"creditor: is {'ab' * 12}, but the configuration registers payments for "
                                     f"creditor {CREDITOR}"),
    ("not-an-id;", "creditor: must be a 24-character Amili creditor id, got 'not-an-id'"),
    (f"{CREDITOR};api", "origin: must be creditor_system (a payment made to the creditor) or empty, got 'api'"),
])
def test_amilis_creditor_and_origin_must_say_what_is_sent(fields, message):
    text = f"{AMILI_HEADER}\n{fields};;INV-1;SEK;10;2025-06-17;R\n"
    with pytest.raises(PaymentFileError) as err:
        parse_payments(text.encode("utf-8"), name="p.csv", today=TODAY, creditor=CREDITOR)
    assert str(err.value) == f"p.csv:2: {message}"


def test_an_rfc_1123_date_in_the_future_or_malformed_is_refused():
    header = "invoice_number;amount;bank_transaction_date;reference"
    assert problem(f"{header}\nINV-1;10;Wed, 02 Jul 2025 00:00:00 GMT;R\n") == (
        "payments.csv:2: bank_transaction_date: 2025-07-02 is in the future (today is 2025-07-01)")
    assert problem(f"{header}\nINV-1;10;Fri, 32 Jun 2025 00:00:00 GMT;R\n") == (
        "payments.csv:2: bank_transaction_date: must be a date written YYYY-MM-DD, got 'Fri, 32 Jun 2025 00:00:00 GMT'")
