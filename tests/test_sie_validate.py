"""The validator: one small hand-written file per kind of defect, and the report forms."""

from __future__ import annotations

import io
import json

import pytest

from ledger_export.sie.validate import findings_to_json, run_validate, validate

GOOD = """#FLAGGA 0
#PROGRAM "Test" 1.0
#FORMAT PC8
#GEN 20250701
#SIETYP 4
#FNAMN "Bolaget AB"
#ORGNR 556677-8899
#RAR 0 20250101 20251231
#KONTO 1930 "Företagskonto"
#KONTO 3010 "Försäljning"
#VER "" "" 20250613 "Utbetalning"
{
#TRANS 1930 {} 100.00 "" "Bank"
#TRANS 3010 {} -100.00 "" "Försäljning"
}
"""


def found(text: str, name: str = "x.si", *, raw: bytes | None = None) -> list[tuple[str, int | None, str]]:
    data = raw if raw is not None else text.encode("cp437")
    return [(f.severity, f.line, f.code) for f in validate(data, name)]


def edit(old: str, new: str) -> str:
    assert old in GOOD
    return GOOD.replace(old, new)


def test_a_good_file_has_no_findings():
    assert found(GOOD) == []


def test_utf8_text_in_a_pc8_file_is_an_encoding_error_on_its_line():
    findings = validate(GOOD.encode("utf-8"), "x.si")
    assert [(f.severity, f.line, f.code) for f in findings] == [("error", 9, "encoding")]
    assert "'ö'" in findings[0].message and "3 line(s)" in findings[0].message


def test_latin1_text_in_a_pc8_file_is_an_encoding_error():
    assert found("", raw=GOOD.encode("latin-1")) == [("error", 9, "encoding")]


def test_a_byte_order_mark_is_an_encoding_error():
    assert found("", raw=b"\xef\xbb\xbf" + GOOD.encode("cp437")) == [("error", 1, "encoding")]


def test_a_format_other_than_pc8_is_an_encoding_error():
    assert found(edit("#FORMAT PC8", "#FORMAT UTF8")) == [("error", 3, "encoding")]


@pytest.mark.parametrize("record", ["#PROGRAM", "#FORMAT", "#GEN", "#SIETYP", "#FNAMN"])
def test_missing_mandatory_record(record):
    text = "".join(line + "\n" for line in GOOD.splitlines() if not line.startswith(record + " "))
    findings = validate(text.encode("cp437"), "x.si")
    assert [(f.severity, f.line, f.code) for f in findings] == [("error", None, "missing-record")]
    assert findings[0].message.startswith(f"{record} is missing")


def test_an_export_must_declare_its_fiscal_year_and_accounts():
    export = edit("#VER", "#UB 0 1930 100.00\n#VER")  # its balances make it an export, whatever its name
    text = "".join(line + "\n" for line in export.splitlines() if not line.startswith(("#RAR", "#KONTO")))
    assert found(text, "x.se") == [("error", None, "missing-record"), ("error", None, "missing-record"),
                                   ("error", 8, "undeclared-account"), ("error", 12, "undeclared-account")]


def test_records_out_of_order_are_a_warning():
    text = edit('#KONTO 1930 "Företagskonto"\n', "") + '#KONTO 1930 "Företagskonto"\n'
    assert found(text) == [("warning", 15, "record-order")]


def test_flagga_must_come_first_and_is_reported_once():
    text = edit("#FLAGGA 0\n#PROGRAM \"Test\" 1.0\n", "#PROGRAM \"Test\" 1.0\n#FLAGGA 0\n")
    assert found(text) == [("error", 1, "record-order")]


def test_balance_records_make_an_export_and_a_name_that_says_import_is_only_a_warning():
    text = edit("#VER", "#IB 0 1930 50.00\n#UB 0 1930 150.00\n#VER")
    assert found(text, "export.se") == []
    assert found(text, "<bytes>") == []
    [finding] = validate(text.encode("cp437"), "payouts.SI")
    assert (finding.severity, finding.line, finding.code) == ("warning", None, "file-name")
    assert "export (type 4E) but is named .SI; §5.1 recommends .SE" in finding.message


def test_a_label_outside_the_standard_is_a_warning():
    assert found(edit("#VER", "#EGEN 1\n#VER")) == [("warning", 11, "unknown-record")]


def test_malformed_quotes():
    assert found(edit('"Bank"', '"Bank')) == [("error", 13, "syntax")]


def test_mandatory_field_missing_and_non_numeric_account():
    assert found(edit("#RAR 0 20250101 20251231", "#RAR 0")) == [("error", 8, "malformed")]
    assert found(edit("#ORGNR 556677-8899", "#ORGNR")) == [("error", 7, "malformed")]
    assert found(edit("#TRANS 1930", "#TRANS X930")) == [("error", 13, "malformed"),
                                                          ("warning", 13, "undeclared-account")]


@pytest.mark.parametrize("amount", ["+100.00", "100.000", "100,00", "1e2"])
def test_amount_format(amount):
    assert ("error", 13, "amount") in found(edit("{} 100.00", "{} " + amount))


def test_invalid_dates():
    assert found(edit("20250613", "20250631")) == [("error", 11, "date")]
    assert found(edit("#GEN 20250701", "#GEN 2025-07-01")) == [("error", 4, "date")]


def test_an_unbalanced_voucher_is_named_with_its_difference():
    findings = validate(edit("-100.00", "-90.00").encode("cp437"), "x.si")
    assert [(f.severity, f.line, f.code) for f in findings] == [("error", 11, "unbalanced")]
    assert "2025-06-13" in findings[0].message and "10.00" in findings[0].message


def test_voucher_block_structure():
    assert found(GOOD[:-2]) == [("error", 11, "block")]  # the closing brace is missing
    assert found(edit("{\n", "")) == [("error", 11, "block"), ("error", 12, "block"), ("error", 13, "block"),
                                      ("error", 14, "block")]


def test_an_empty_voucher_is_a_warning():
    text = edit('#TRANS 1930 {} 100.00 "" "Bank"\n#TRANS 3010 {} -100.00 "" "Försäljning"\n', "")
    assert found(text) == [("warning", 11, "empty-voucher")]


def test_numbered_vouchers_must_ascend_within_a_series():
    voucher = GOOD[GOOD.index("#VER"):]
    text = GOOD.replace('#VER "" ""', "#VER A 2") + voucher.replace('#VER "" ""', "#VER A 1")
    assert found(text) == [("error", 16, "voucher-order")]


def test_dates_outside_the_declared_fiscal_years_are_a_warning():
    assert found(edit("20250613", "20260102")) == [("warning", 11, "date-outside-year")]
    previous = edit("#RAR 0 20250101 20251231", "#RAR 0 20250101 20251231\n#RAR -1 20240101 20241231")
    assert found(previous.replace("20250613", "20241230")) == []


def test_an_undeclared_account_is_a_warning_in_an_import_file_and_an_error_in_an_export():
    text = edit('#KONTO 3010 "Försäljning"\n', "")
    assert found(text, "x.si") == [("warning", 13, "undeclared-account")]
    export = text.replace("#VER", "#UB 0 1930 100.00\n#VER")
    assert found(export, "x.se") == [("error", 14, "undeclared-account")]


def test_texts_over_50_characters_are_a_warning():
    findings = validate(edit('"Bank"', '"' + "B" * 51 + '"').encode("cp437"), "x.si")
    assert [(f.severity, f.line, f.code) for f in findings] == [("warning", 13, "text-too-long")]


def test_orgnr_without_hyphen_and_quoted_values_are_warnings():
    assert found(edit("556677-8899", "5566778899")) == [("warning", 7, "orgnr")]
    assert found(edit("#SIETYP 4", '#SIETYP "4"')) == [("warning", 5, "quoted-value")]


def test_an_import_file_flagged_as_imported_is_a_warning():
    assert found(edit("#FLAGGA 0", "#FLAGGA 1")) == [("warning", 1, "flag-set")]


def test_a_missing_final_line_feed_is_a_warning():
    assert found(GOOD[:-1]) == [("warning", 15, "line-end")]


@pytest.mark.parametrize("credit, sum_, side, by", [("-90.00", "10.00", "debit", "10.00"),
                                                   ("-110.00", "-10.00", "credit", "10.00"),
                                                   ("-99.50", "0.50", "debit", "0.50"),  # off by öre, as it
                                                   ("-100.01", "-0.01", "credit", "0.01")])  # usually is
def test_an_unbalanced_voucher_says_which_side_exceeds_and_by_how_much(credit, sum_, side, by):
    [finding] = validate(edit("-100.00", credit).encode("cp437"), "x.si")
    assert finding.message == (f"voucher (unnumbered) 2025-06-13 (line 11) does not balance: its #TRANS rows sum "
                               f"to {sum_} ({side} exceeds by {by}), they must sum to 0")


def test_struck_out_rows_are_not_summed_and_a_voucher_of_struck_out_rows_is_not_empty():
    bank = '#TRANS 1930 {} 100.00 "" "Bank"\n'
    assert found(edit(bank, bank + "#BTRANS 1930 {} 50.00\n")) == []
    rows = bank + '#TRANS 3010 {} -100.00 "" "Försäljning"\n'
    assert found(edit(rows, "#BTRANS 1930 {} 100.00\n")) == []


def test_a_text_of_exactly_50_characters_is_kept_whole_and_51_loses_its_last():
    assert found(edit('"Bank"', '"' + "B" * 50 + '"')) == []
    [row] = validate(edit('"Bank"', '"' + "B" * 50 + 'X"').encode("cp437"), "x.si")
    assert row.message == "#TRANS text has 51 characters; Fortnox keeps 50, so 'X' is lost"
    [head] = validate(edit('"Utbetalning"', '"' + "U" * 52 + '"').encode("cp437"), "x.si")
    assert (head.line, head.message) == (11, "#VER text has 52 characters; Fortnox keeps 50, so 'UU' is lost")


@pytest.mark.parametrize("day, outside", [("20250101", False), ("20251231", False), ("20241231", True),
                                          ("20260101", True)])
def test_the_fiscal_years_first_and_last_days_are_inside_it(day, outside):
    findings = validate(edit("20250613", day).encode("cp437"), "x.si")
    assert [f.code for f in findings] == (["date-outside-year"] if outside else [])
    if outside:
        assert findings[0].message.endswith("is dated outside the fiscal year #RAR 0 (2025-01-01 to 2025-12-31) "
                                            "and every other declared year (#RAR 0 20250101-20251231)")


def test_an_account_used_again_is_reported_once_with_its_count_at_its_first_use():
    text = edit('#KONTO 3010 "Försäljning"\n', "")
    once = validate(text.encode("cp437"), "x.si")
    twice = validate((text + text[text.index("#VER"):]).encode("cp437"), "x.si")
    why = "the importing program must already have it; the spec recommends declaring every account"
    assert [(f.line, f.message) for f in once] == [(13, f"#TRANS: account 3010 has no #KONTO ({why})")]
    assert [(f.line, f.message) for f in twice] == [
        (13, f"#TRANS: account 3010 has no #KONTO ({why}), used by 2 records, the first here")]


@pytest.mark.parametrize("first, second, order_error", [
    ("A 2", "A 2", True),    # the same number twice
    ("A 0", "A 0", True),
    ("A 2", "B 1", False),   # each series has its own numbers
    ("A 2", 'A ""', False),  # an unnumbered voucher has no place in the order
    ('A ""', "A 1", False),
])
def test_voucher_numbers_ascend_strictly_within_each_series(first, second, order_error):
    voucher = GOOD[GOOD.index("#VER"):]
    text = GOOD.replace('#VER "" ""', f"#VER {first}") + voucher.replace('#VER "" ""', f"#VER {second}")
    assert found(text) == ([("error", 16, "voucher-order")] if order_error else [])


def test_an_account_used_only_by_a_balance_must_be_declared_in_an_export():
    [finding] = validate(edit("#VER", "#IB 0 2440 50.00\n#VER").encode("cp437"), "x.se")
    assert (finding.severity, finding.line, finding.message) == (
        "error", 11, "#IB: account 2440 has no #KONTO (a type 4E file must declare every account it uses)")


def test_undeclared_accounts_are_reported_in_the_order_of_their_first_use():
    text = edit('#KONTO 3010 "Försäljning"\n', "").replace(
        '#TRANS 3010 {} -100.00 "" "Försäljning"\n', '#TRANS 3010 {} -100.00 "" "Försäljning"\n#BTRANS 1510 {} 5.00\n')
    assert [(f.line, f.message.split(" has no")[0]) for f in validate(text.encode("cp437"), "x.si")] == [
        (13, "#TRANS: account 3010"), (14, "#BTRANS: account 1510")]


def test_a_voucher_out_of_order_names_the_number_and_line_it_follows():
    voucher = GOOD[GOOD.index("#VER"):]
    text = GOOD.replace('#VER "" ""', "#VER A 2") + voucher.replace('#VER "" ""', "#VER A 1")
    [finding] = validate(text.encode("cp437"), "x.si")
    assert finding.message == ("voucher A 1 2025-06-13 comes after number 2 of the same series (line 11); "
                               "numbered vouchers must be in ascending order (§11 #VER)")


def ksumma_file(value: str) -> str:
    return edit("#FLAGGA 0\n", "#FLAGGA 0\n#KSUMMA\n") + f"#KSUMMA {value}\n"


def test_ksumma_must_match_the_records():
    from ledger_export.sie.reader import read_sie

    right = read_sie(ksumma_file("0").encode("cp437")).ksumma_computed
    assert found(ksumma_file(str(right))) == []
    assert found(ksumma_file(str(right ^ 1))) == [("error", 17, "ksumma")]
    # Any change to a record's content changes the sum; layout (blanks, quotes) does not.
    assert found(ksumma_file(str(right)).replace("100.00", "100.01").replace("-100.01", "-100.00")) != []
    assert found(ksumma_file(str(right)).replace('"Bank"', "Bank").replace("#TRANS 1930", "#TRANS\t1930")) == []


def test_ksumma_opened_but_never_closed():
    text = edit("#FLAGGA 0\n", "#FLAGGA 0\n#KSUMMA\n")
    assert found(text) == [("error", 2, "ksumma")]


def test_input_that_is_not_sie_is_one_error():
    assert found("", raw=b"%PDF-1.7\n") == [("error", None, "unreadable")]


def test_json_form():
    doc = findings_to_json("x.si", validate(edit("-100.00", "-90.00").encode("cp437"), "x.si"))
    assert doc["file"] == "x.si" and doc["ok"] is False and doc["errors"] == 1 and doc["warnings"] == 0
    assert doc["findings"][0]["code"] == "unbalanced" and doc["findings"][0]["line"] == 11


def test_run_validate_prints_file_line_severity_message_and_sets_the_exit_status(tmp_path):
    good, bad, missing = tmp_path / "good.si", tmp_path / "bad.si", tmp_path / "missing.si"
    good.write_bytes(GOOD.encode("cp437"))
    bad.write_bytes(edit("556677-8899", "5566778899").replace("-100.00", "-90.00").encode("cp437"))
    out = io.StringIO()
    assert run_validate([str(good)], as_json=False, out=out) == 0
    assert out.getvalue() == f"{good}: ok\n"
    out = io.StringIO()
    assert run_validate([str(good), str(bad), str(missing)], as_json=False, out=out) == 1
    lines = out.getvalue().splitlines()
    assert lines[1].startswith(f"{bad}:7: warning: #ORGNR '5566778899'")
    assert lines[2].startswith(f"{bad}:11: error: voucher (unnumbered) 2025-06-13 (line 11) does not balance")
    assert lines[3] == f"{bad}: 1 error(s), 1 warning(s)"
    assert lines[4].startswith(f"{missing}: error: cannot read")


def test_run_validate_json(tmp_path):
    good = tmp_path / "good.si"
    good.write_bytes(GOOD.encode("cp437"))
    out = io.StringIO()
    assert run_validate([str(good)], as_json=True, out=out) == 0
    assert json.loads(out.getvalue()) == {"ok": True, "files": [
        {"file": str(good), "ok": True, "errors": 0, "warnings": 0, "findings": []}]}


# -- issue 13: import or export by content, and what an importer minds ------------------------------------

UB = "#UB 0 1930 100.00\n#VER"  # a balance: the file is an export, whatever its name


def test_a_vouchers_only_file_named_se_is_judged_as_the_import_file_it_is():
    text = "".join(line + "\n" for line in GOOD.splitlines() if not line.startswith(("#RAR", "#KONTO")))
    findings = validate(text.encode("cp437"), "vouchers.se")
    # no "#RAR/#KONTO missing" errors: an import file need not declare them; the name is a warning
    assert [(f.severity, f.line, f.code) for f in findings] == [
        ("warning", None, "file-name"), ("warning", 10, "undeclared-account"), ("warning", 11, "undeclared-account")]
    assert "import file (type 4I) but is named .se; §5.1 recommends .SI" in findings[0].message


def test_the_name_of_a_file_read_from_memory_or_with_another_extension_adds_nothing():
    export = edit("#VER", UB)
    for name in ("<bytes>", "x.txt", "SIE"):
        assert found(GOOD, name) == [] and found(export, name) == []


def test_omfattn_in_a_vouchers_only_file_is_forbidden_whatever_its_name():
    text = edit("#KONTO 1930", "#OMFATTN 20250630\n#KONTO 1930")
    for name in ("magenta.se", "x.si"):
        findings = [f for f in validate(text.encode("cp437"), name) if f.severity == "error"]
        assert [(f.line, f.code) for f in findings] == [(9, "forbidden-record")]
        assert findings[0].message.startswith("#OMFATTN may not appear in a type 4I file")
    assert found(text.replace("#VER", UB), "export.se") == []  # in an export it dates the balances


def rtrans(added: str, then: str = '#TRANS 3010 {} -100.00 20250613 ""') -> str:
    return edit('#TRANS 3010 {} -100.00 "" "Försäljning"\n', added + "\n" + then + "\n")


def test_an_rtrans_and_its_trans_may_differ_in_date_text_and_signature():
    # BL Administration writes the day and person who added the row on the #RTRANS only
    assert found(rtrans('#RTRANS 3010 {} -100.00 20251007 "" "" "2 Christer Bengtsson"')) == []


@pytest.mark.parametrize("added", ['#RTRANS 3011 {} -100.00', '#RTRANS 3010 {} -100.01',
                                   '#RTRANS 3010 {1 "10"} -100.00'])
def test_an_rtrans_whose_trans_books_another_account_amount_or_object_is_an_error(added):
    assert ("error", 14, "rtrans") in found(rtrans(added))


def test_an_escaped_quote_in_an_unquoted_field_is_a_quote_and_a_bare_one_is_an_error():
    from ledger_export.sie.lexer import lex_line

    record = lex_line('#PROSA \\"muu\\" 123', 4)
    assert record is not None and record.problems == ()
    assert [f.text for f in record.fields] == ['"muu"', "123"]
    assert found(edit("#ORGNR", '#PROSA \\"muu\\"\n#ORGNR')) == []
    assert found(edit("#ORGNR", '#PROSA hej"citat\n#ORGNR')) == [("error", 7, "syntax")]


@pytest.mark.parametrize("amount, value", [(".20", "0.20"), ("-.20", "-0.20"), ("0.20", "0.20"), ("20", "20")])
def test_an_amount_needs_a_decimal_point_not_a_digit_before_it(amount, value):
    from decimal import Decimal

    from ledger_export.sie.fields import parse_amount

    assert parse_amount(amount) == (Decimal(value), None)
    export = edit("#VER", f"#RES 0 3010 {amount}\n#VER")
    assert found(export, "x.se") == []


@pytest.mark.parametrize("amount", [".", "-.", "", "-", ".2.0"])
def test_a_point_or_sign_without_digits_is_no_amount(amount):
    from ledger_export.sie.fields import parse_amount

    value, problem = parse_amount(amount)
    assert value is None and problem is not None


BUDGET = "".join(f"#PBUDGET 0 {p} 3010 -1666.00\n" for p in ("202501", "202502", "202503"))


def test_pbudget_without_its_object_list_is_one_error_for_the_file_and_is_read_as_meant():
    from ledger_export.sie.reader import read_sie

    text = edit("#VER", BUDGET + "#VER")
    findings = validate(text.encode("cp437"), "x.se")
    assert [(f.severity, f.line, f.code) for f in findings] == [("error", 11, "malformed")]
    assert findings[0].message.startswith("#PBUDGET is written without its object list (3 records, the first here)")
    budgets = [b for b in read_sie(text.encode("cp437")).balances if b.kind == "PBUDGET"]
    assert [(b.period, b.account, b.objects, str(b.amount)) for b in budgets] == [
        ("202501", "3010", (), "-1666.00"), ("202502", "3010", (), "-1666.00"), ("202503", "3010", (), "-1666.00")]


def test_pbudget_with_account_before_period_is_read_with_them_swapped_back():
    from ledger_export.sie.reader import read_sie

    swapped = BUDGET.replace("#PBUDGET 0 202501 3010", "#PBUDGET 0 3010 202501")  # BL Administration's layout
    text = edit("#VER", swapped + "#PSALDO 0 202501 3010 -5.00\n#OIB 0 1930 5.00\n#VER")
    findings = validate(text.encode("cp437"), "x.se")
    assert [(f.line, f.message.split(" (")[0]) for f in findings] == [
        (11, "#PBUDGET is written årsnr konto period saldo"), (12, "#PBUDGET is written without its object list"),
        (14, "#PSALDO is written without its object list"), (15, "#OIB is written without its object list")]
    assert {(b.kind, b.period, b.account, str(b.amount)) for b in read_sie(text.encode("cp437")).balances} == {
        ("PBUDGET", "202501", "3010", "-1666.00"), ("PBUDGET", "202502", "3010", "-1666.00"),
        ("PBUDGET", "202503", "3010", "-1666.00"), ("PSALDO", "202501", "3010", "-5.00"), ("OIB", "", "1930", "5.00")}


def test_a_balance_with_its_object_list_is_not_read_differently():
    text = edit("#VER", '#PBUDGET 0 202501 3010 {1 "10"} -1666.00\n#PBUDGET 0 202502 3010 {} -1.00\n#VER')
    assert found(text, "x.se") == []


def test_a_latin1_capital_beside_a_digit_in_a_pc8_file_is_an_encoding_error():
    head = GOOD.encode("cp437")
    objekt = b'#DIM 6 "Projekt"\n#OBJEKT 6 "\xc51" "\x86rsta"\n'  # "Å1" in Latin-1; "årsta" in CP437
    findings = validate(head.replace(b"#VER", objekt + b"#VER"), "x.si")
    assert [(f.severity, f.line, f.code) for f in findings] == [("error", 12, "encoding")]
    assert "'Å1' reads as '┼1'" in findings[0].message
    for digit_beside in (b'"1\xc5"', b'"1\xc4"', b'"\xd61"'):
        assert found("", raw=head.replace(b'"Bank"', digit_beside)) == [("error", 13, "encoding")]


def test_cp437_signs_beside_a_digit_are_not_taken_for_latin1():
    # "÷" (F6, Latin-1 "ö") and "Σ" (E4, "ä") may stand beside a digit in CP437 text
    assert found("", raw=GOOD.encode("cp437").replace(b'"Bank"', b'"10\xf62 \xe410"')) == []


TYPE3 = """#FLAGGA 0
#PROGRAM "Test" 1.0
#FORMAT PC8
#GEN 20250701
#SIETYP 3
#FNAMN "Bolaget AB"
#ADRESS "Anna" "Gatan 1" "111 11 Stad"
#RAR 0 20250101 20251231
#KONTO 1930 "Företagskonto"
#IB 0 1930 100.00
#UB 0 1930 150.00
"""


def test_spec_letter_defects_no_importer_minds_are_warnings_and_exit_0(tmp_path):
    text = TYPE3.replace('#KONTO 1930 "Företagskonto"\n', "#KTYP 1930 T\n") + '#KONTO 1930 "Företagskonto"\n'
    findings = validate(text.encode("cp437"), "x.se")
    assert [(f.severity, f.line, f.code) for f in findings] == [
        ("warning", None, "missing-record"),   # #OMFATTN (type 3), mandatory by §6 only
        ("warning", 7, "malformed"),           # #ADRESS without its telephone number
        ("warning", 9, "record-order"),        # #KTYP before its #KONTO
        ("warning", 12, "record-order"),       # #KONTO after the balances (Mamut)
    ]
    assert findings[0].message.startswith("#OMFATTN is missing; §6 asks for it in a type 3 file, but no import")
    path = tmp_path / "mamut.se"
    path.write_bytes(text.encode("cp437"))
    out = io.StringIO()
    assert run_validate([str(path)], as_json=False, out=out) == 0
    assert out.getvalue().endswith(f"{path}: 0 error(s), 4 warning(s)\n")


def test_a_type_1_file_without_sru_codes_is_a_warning():
    text = TYPE3.replace("#SIETYP 3", "#SIETYP 1").replace('"111 11 Stad"', '"111 11 Stad" "08-123"').replace(
        "#IB", "#SRU 1930 7281\n#SRU 1940\n#IB")
    assert found(text, "x.se") == [("warning", 11, "malformed")]  # an #SRU without its code
    without = text.replace("#SRU 1930 7281\n#SRU 1940\n", "")
    assert found(without, "x.se") == [("warning", None, "missing-record")]


def test_an_import_breaking_defect_in_a_type_3_file_is_still_an_error():
    assert ("error", 10, "amount") in found(TYPE3.replace("#IB 0 1930 100.00", "#IB 0 1930 100,00"), "x.se")
    assert ("error", None, "missing-record") in found(TYPE3.replace("#RAR 0 20250101 20251231\n", ""), "x.se")


def test_our_own_demo_export_validates_without_a_single_finding(tmp_path):
    import subprocess
    import sys

    demo = subprocess.run([sys.executable, "-m", "ledger_export", "demo"], cwd=tmp_path, capture_output=True,
                          text=True, timeout=120)
    assert demo.returncode == 0, demo.stderr
    [sie] = sorted(tmp_path.glob("demo/*/*.si"))
    assert validate(sie.read_bytes(), sie.name) == []
