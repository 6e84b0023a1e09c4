"""Reading SIE files: field lexing (§5.7), records, vouchers and their balance semantics."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from ledger_export.core.errors import LedgerExportError
from ledger_export.sie.lexer import lex_line
from ledger_export.sie.reader import read_sie, read_sie_file
from ledger_export.sie.model import SieError

HEAD = """#FLAGGA 0
#PROGRAM "Test" 1.0
#FORMAT PC8
#GEN 20250701
#SIETYP 4
#FNAMN "Bolaget AB"
"""


def sie(body: str, head: str = HEAD) -> bytes:
    return (head + body).encode("cp437")


def test_fields_split_on_spaces_and_tabs_and_quotes_group_them():
    record = lex_line('#VER\tA  12 20250613 "Betalning juni" 20250614 "Anna"', 7)
    assert record.line == 7 and record.label == "#VER"
    assert [f.text for f in record.fields] == ["A", "12", "20250613", "Betalning juni", "20250614", "Anna"]
    assert [f.quoted for f in record.fields] == [False, False, False, True, False, True]


def test_escaped_quote_and_lone_backslash_inside_a_quoted_field():
    record = lex_line(r'#KONTO 1915 "Kassa \"special\" C:\mapp"', 1)
    assert record.fields[1].text == 'Kassa "special" C:\\mapp'
    assert not record.problems


def test_empty_quoted_field_holds_a_position():
    record = lex_line('#VER "" "" 20250613 "Text"', 1)
    assert [f.text for f in record.fields] == ["", "", "20250613", "Text"]


def test_object_lists_with_and_without_quotes_and_spaces():
    assert lex_line('#TRANS 7010 {"1" "456" "7" "47"} 13200.00', 1).fields[1].objects == ("1", "456", "7", "47")
    assert lex_line("#TRANS 1910 { } -13200.00", 1).fields[1].objects == ()
    assert lex_line('#TRANS 1910 {1 "Avd 1"} 5', 1).fields[1].objects == ("1", "Avd 1")


@pytest.mark.parametrize("line, problem", [
    ('#FNAMN "Bolaget AB', "never closed"),
    ("#TRANS 1910 {1 2 100", "never closed"),
    ('#FNAMN "Bolaget"AB', "directly after a closing quote"),
    ('#FNAMN "Bol\tag"', "tab inside a quoted text"),
    ("#FNAMN Bol\x01ag", "control character"),
    ("{ #TRANS 1910 {} 1", "alone on its line"),
])
def test_lexing_problems_are_collected_not_raised(line, problem):
    assert any(problem in p for p in lex_line(line, 1).problems)


def test_reads_the_header_chart_and_years():
    data = sie("""#ORGNR 556677-8899
#RAR 0 20250101 20251231
#RAR -1 20240101 20241231
#KONTO 1930 "Företagskonto"
#KTYP 1930 T
#SRU 1930 7281
#DIM 1 "Kostnadsställe"
#OBJEKT 1 "100" "Huvudkontoret"
""")
    f = read_sie(data, "x.si")
    assert (f.flag, f.format, f.sie_type, f.program, f.program_version) == (0, "PC8", 4, "Test", "1.0")
    assert f.generated == date(2025, 7, 1) and f.company_name == "Bolaget AB" and f.orgnr == "556677-8899"
    assert f.fiscal_years == {0: (date(2025, 1, 1), date(2025, 12, 31)), -1: (date(2024, 1, 1), date(2024, 12, 31))}
    assert f.accounts == {"1930": "Företagskonto"} and f.account_types == {"1930": "T"}
    assert f.sru == {"1930": ("7281",)} and f.dimensions == {"1": "Kostnadsställe"}
    assert f.objects == {("1", "100"): "Huvudkontoret"}
    assert f.findings == ()


def test_reads_vouchers_with_every_field_and_line_numbers():
    data = sie("""#VER A 7 20250613 "Utbetalning" 20250614 "Anna"
{
  #TRANS 1930 {} 1000.50 20250612 "Bank" 2 "Bo"
  #TRANS 3010 {1 "100" 6 "P1"} -1000.50
}
""")
    (voucher,) = read_sie(data).vouchers
    assert (voucher.series, voucher.number, voucher.date, voucher.text) == ("A", "7", date(2025, 6, 13), "Utbetalning")
    assert (voucher.reg_date, voucher.sign, voucher.line) == (date(2025, 6, 14), "Anna", 7)
    bank, sales = voucher.transactions
    assert (bank.account, bank.amount, bank.date, bank.text, bank.quantity, bank.sign, bank.line) == (
        "1930", Decimal("1000.50"), date(2025, 6, 12), "Bank", Decimal(2), "Bo", 9)
    assert sales.objects == (("1", "100"), ("6", "P1")) and sales.date is None and sales.line == 10
    assert voucher.balance() == 0


def test_added_and_removed_rows_follow_the_spec_balance():
    # §11 #BTRANS example: the struck-out 6110 row is not booked; the added
    # 6250 row is written as #RTRANS and again as #TRANS, and counts once.
    data = sie("""#VER "" "" 20250101 "Porto"
{
#TRANS 1910 { } -1000.00
#TRANS 2640 { } 200.00
#BTRANS 6110 { } 800.00
#RTRANS 6250 { } 800.00
#TRANS 6250 { } 800.00
}
""")
    f = read_sie(data)
    (voucher,) = f.vouchers
    assert [t.account for t in voucher.transactions] == ["1910", "2640", "6250"]
    assert [t.account for t in voucher.removed] == ["6110"] and voucher.removed[0].kind == "BTRANS"
    assert [t.account for t in voucher.added] == ["6250"] and voucher.added[0].kind == "RTRANS"
    assert voucher.balance() == 0 and f.findings == ()


def test_an_added_row_without_its_twin_trans_is_a_finding():
    data = sie("""#VER "" "" 20250101 "Porto"
{
#TRANS 1910 {} -800.00
#RTRANS 6250 {} 800.00
#TRANS 6250 {} 700.00
}
""")
    assert [(x.code, x.line) for x in read_sie(data).findings] == [("rtrans", 10)]


def test_amounts_without_decimals_and_dates_left_empty_are_fine():
    data = sie('#VER "" 0 20110824 "Kundfakt"\n{\n#TRANS 1510 {} 1063 "" ""\n#TRANS 3010 {} -1063\n}\n')
    (voucher,) = read_sie(data).vouchers
    assert voucher.transactions[0].amount == Decimal("1063") and voucher.transactions[0].date is None


def test_crlf_line_ends_are_not_part_of_the_last_field():
    f = read_sie(sie("#ORGNR 556677-8899\n#KONTO 1930 Bank\n").replace(b"\n", b"\r\n"))
    assert f.orgnr == "556677-8899" and f.accounts == {"1930": "Bank"} and f.findings == ()


def test_cp437_bytes_decode_to_swedish_letters():
    f = read_sie(HEAD.encode("ascii") + b'#KONTO 3010 "F\x94rs\x84ljning \x86\x8e\x8f\x99"\n')
    assert f.accounts["3010"] == "Försäljning åÄÅÖ"


def test_unknown_records_and_fields_are_read_without_error():
    # §7.1 and §7.3: readers ignore unknown labels and extra fields at the end.
    f = read_sie(sie("#KONTO 1930 Bank extra fält\n#NYPOST 1 2 3\n"))
    assert f.accounts == {"1930": "Bank"} and f.findings == ()


def test_balance_records_are_read():
    f = read_sie(sie('#IB 0 1930 100.00\n#UB 0 1930 150.00 3\n#RES 0 3010 -50\n'
                     '#PSALDO 0 202506 3010 {1 "100"} -50.00\n#OUB 0 1930 {} 150.00\n'))
    assert [(b.kind, b.year, b.account, b.amount) for b in f.balances] == [
        ("IB", 0, "1930", Decimal("100.00")), ("UB", 0, "1930", Decimal("150.00")),
        ("RES", 0, "3010", Decimal("-50")), ("PSALDO", 0, "3010", Decimal("-50.00")),
        ("OUB", 0, "1930", Decimal("150.00"))]
    assert f.balances[3].period == "202506" and f.balances[3].objects == (("1", "100"),)
    assert f.balances[1].quantity == Decimal(3)


@pytest.mark.parametrize("data", [b"", b"\n\n", b"%PDF-1.4\n#FLAGGA 0\n", b"PK\x03\x04\x00\x00binary"])
def test_input_that_is_not_sie_at_all_raises_sie_error(data):
    with pytest.raises(SieError, match="not a SIE file"):
        read_sie(data, "upload.si")
    assert issubclass(SieError, LedgerExportError)


def test_read_sie_file_names_a_missing_file(tmp_path):
    with pytest.raises(SieError, match="cannot read .*missing.si"):
        read_sie_file(tmp_path / "missing.si")


def test_read_sie_file_reads_a_chart_of_accounts(tmp_path):
    path = tmp_path / "chart.se"
    path.write_bytes(sie('#KONTO 1930 "Företagskonto"\n#KONTO 3010 "Försäljning"\n'))
    assert read_sie_file(path).accounts == {"1930": "Företagskonto", "3010": "Försäljning"}
