"""Hostile data from Amili (issue 7, part 4): sound books or a clear error, nothing else.

Every case changes one thing in a small, consistent hand-made June period
(one payout per category, their lines, one direct payment) and books it
from a raw snapshot, so no HTTP is needed. Sound books: the SIE file passes
our validator, the workbook opens, texts stay texts, every file written
lies in the output folder. A clear error: one LedgerExportError line that
names the record and the field, with no books and no register entry.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

import pytest

from ledger_export import cli
from ledger_export.jobs import config as config_module
from ledger_export.amili.auth import StaticToken
from ledger_export.jobs.export import ExportOptions, export
from ledger_export.core.resources import SAMPLES
from ledger_export.sie.validate import validate
from support.hostile import (D, DOCUMENT_NAMES, FORMULAS, INVALID_DATES, JUNE, ODD_DATES, PDF, SIE, TEXTS,
                             assert_clear_error, assert_sound_books, files_under, line_id, lines, payout, payout_id,
                             period_items, run_raw, set_line, write_raw)

# -- one field changed at a time -------------------------------------------------------------

@dataclass(frozen=True)
class Case:
    name: str
    change: Callable[[dict], None]
    names: tuple[str, ...] | None  # what the error must name; None: the books must come out sound


def _set(kind: str, index: int, field: str, value) -> Callable[[dict], None]:
    def change(items: dict) -> None:
        record = items[kind][index]
        if value is DROP:
            record.pop(field, None)
        else:
            record[field] = value
    return change


def _nested(kind: str, index: int, path: tuple[str, ...], value) -> Callable[[dict], None]:
    def change(items: dict) -> None:
        record = items[kind][index]
        for key in path[:-1]:
            record = record[key]
        record[path[-1]] = value
    return change


DROP = object()
P1, L11, PAY = payout_id(1), line_id(1, 1), "6650000000000000000d0001"

FAILING = [
    Case("payout without _etag", _set("payouts", 0, "_etag", DROP), (P1, "'_etag'")),
    Case("payout _created null", _set("payouts", 0, "_created", None), (P1, "'_created'")),
    Case("payout _created not a date", _set("payouts", 0, "_created", "yesterday"), (P1, "'_created'")),
    Case("payout amount as text", _set("payouts", 0, "amount", "1234.56"), (P1, "'amount'")),
    Case("payout amount as boolean", _set("payouts", 0, "amount", True), (P1, "'amount'")),
    Case("payout total with 3 decimals", _set("payouts", 0, "total_amount", D("1234.561")), (P1, "'total_amount'")),
    Case("payout total of 10^13", _set("payouts", 0, "total_amount", D("1E+13")), (P1, "'total_amount'")),
    Case("payout total off by one öre", _set("payouts", 0, "total_amount", D("1234.57")), (P1, "total_amount")),
    Case("payout in EUR", _set("payouts", 0, "currency", "EUR"), (P1, "'currency'")),
    Case("payout without currency", _set("payouts", 0, "currency", DROP), (P1, "'currency'")),
    Case("payout currency as list", _set("payouts", 0, "currency", ["SEK"]), (P1, "'currency'")),
    Case("payout not paid out yet", _set("payouts", 0, "payout_date", None), (P1, "'payout_date'")),
    Case("payout ledger_account 5 digits", _set("payouts", 0, "ledger_account", 19300), (P1, "'ledger_account'")),
    Case("payout ledger_account as text", _set("payouts", 0, "ledger_account", "1930"), (P1, "'ledger_account'")),
    Case("payout ledger_account 1930.5", _set("payouts", 0, "ledger_account", D("1930.5")), (P1, "'ledger_account'")),
    Case("payout finance_category missing", _set("payouts", 0, "finance_category", DROP), (P1, "'finance_category'")),
    Case("payout finance_category object", _set("payouts", 0, "finance_category", {"x": 1}),
         (P1, "'finance_category'")),
    Case("payout creditor as number", _set("payouts", 0, "creditor", 42), (P1, "'creditor'")),
    Case("payout summary as list", _set("payouts", 0, "summary", [{"capital": 2}]), (P1, "'summary'")),
    Case("summary count as text", _nested("payouts", 0, ("summary", "capital", "count"), "2"),
         (P1, "'summary.capital.count'")),
    Case("summary amount null", _nested("payouts", 0, ("summary", "capital", "amount"), None),
         (P1, "'summary.capital.amount'")),
    Case("summary disagrees with lines", _nested("payouts", 0, ("summary", "capital", "amount"), D("1000.00")),
         (P1, "capital", "amount")),
    Case("document as text", _set("payouts", 2, "document", "self_invoice.pdf"), (payout_id(3), "'document'")),
    Case("document length as text", _nested("payouts", 2, ("document", "length"), "1229"),
         (payout_id(3), "'document.length'")),
    Case("document without name", _nested("payouts", 2, ("document", "name"), None),
         (payout_id(3), "'document.name'")),
    Case("line amount with 3 decimals", _set("specifications", 0, "amount", D("1000.005")), (L11, "'amount'")),
    Case("line amount of 10^15", _set("specifications", 0, "amount", D("1E+15")), (L11, "'amount'")),
    Case("line vat as text", _set("specifications", 0, "vat_amount", "0"), (L11, "'vat_amount'")),
    Case("line amount + vat != total", _set("specifications", 0, "total_amount", D("999.00")), (L11, "total_amount")),
    Case("line in NOK", _set("specifications", 0, "currency", "NOK"), (L11, "'currency'")),
    Case("line article null", _set("specifications", 0, "article", None), (L11, "'article'")),
    Case("line booking_date ISO", _set("specifications", 0, "booking_date", "2025-06-05"), (L11, "'booking_date'")),
    Case("line references as text", _set("specifications", 0, "references", "case 1"), (L11, "'references'")),
    Case("line references.case number", _nested("specifications", 0, ("references", "case"), 17),
         (L11, "'references.case'")),
    Case("line payout as number", _set("specifications", 0, "payout", 17), (L11, "'payout'")),
    Case("line banking_transaction number", _set("specifications", 0, "banking_transaction", 5),
         (L11, "'banking_transaction'")),
    Case("line without _id", _set("specifications", 0, "_id", DROP), ("invoice INV-1001", "'_id'")),
    Case("line id twice", _set("specifications", 1, "_id", L11), (L11, "'_id'")),
    Case("line not an object", lambda items: items["specifications"].append("INV-1001;1000.00"),
         ("specification", "not a JSON object")),
    Case("payment without amount", _set("payments", 0, "amount", DROP), (PAY, "'amount'")),
    Case("payment currency null", _set("payments", 0, "currency", None), (PAY, "'currency'")),
    Case("payment booking_date number", _set("payments", 0, "booking_date", 20250616), (PAY, "'booking_date'")),
]

FAILING += [Case(f"payout_date {value!r}", _set("payouts", 0, "payout_date", value), (P1, "'payout_date'"))
            for value in INVALID_DATES]


@pytest.mark.parametrize("case", FAILING, ids=[c.name for c in FAILING])
def test_bad_field_is_a_clear_error_naming_record_and_field(case, tmp_path):
    items = period_items()
    case.change(items)
    assert_clear_error(run_raw(tmp_path, items), *case.names)


def _unknown_article(items: dict) -> None:
    set_line(items, 1, 2, "234.56", article="brand_new_fee")


def _unknown_category(items: dict) -> None:
    payout(items, 2)["finance_category"] = "mystery_category"
    for line in lines(items, 2):
        line["finance_category"] = "mystery_category"


def _refund_only(items: dict) -> None:
    set_line(items, 1, 1, "-1000.00")
    set_line(items, 1, 2, "-234.56")


def _huge(items: dict) -> None:
    set_line(items, 1, 1, "9999999999000.00")


SOUND = [
    Case("3 decimals that are whole öre", _set("specifications", 0, "amount", D("1000.000")), None),
    Case("amount in exponent form", lambda items: set_line(items, 1, 1, "1.0E+3"), None),
    Case("huge but possible amounts", _huge, None),
    Case("refund-only payout (negative totals)", _refund_only, None),
    Case("negative line in a positive payout", lambda items: set_line(items, 4, 1, "-60.00"), None),
    Case("unknown article", _unknown_article, None),
    Case("unknown category", _unknown_category, None),
    Case("VAT off 25 %", lambda items: set_line(items, 3, 1, "60.00", "14.00"), None),
    Case("payout without summary", _set("payouts", 1, "summary", None), None),
    Case("invoice number as a number", _set("specifications", 0, "invoice_number", 4711), None),
    Case("unknown extra fields", _set("payouts", 0, "new_field", {"nested": [1, None, "x"]}), None),
    Case("payment in EUR (listed, not booked)", _set("payments", 0, "currency", "EUR"), None),
    Case("line without currency", _set("specifications", 0, "currency", DROP), None),
]


@pytest.mark.parametrize("case", SOUND, ids=[c.name for c in SOUND])
def test_odd_but_bookable_data_gives_sound_books(case, tmp_path):
    items = period_items()
    case.change(items)
    assert_sound_books(run_raw(tmp_path, items))


def test_unknown_articles_and_categories_go_to_suspense_with_a_warning_naming_them(tmp_path):
    items = period_items()
    _unknown_article(items)
    _unknown_category(items)
    run = run_raw(tmp_path, items)
    assert_sound_books(run)
    warnings = " ".join(f.message for f in run.result.ledger.warnings)
    assert "brand_new_fee" in warnings and "mystery_category" in warnings
    assert run.result.ledger.account_totals()[2999] == D("-279.66")  # 234.56 + 45.10, credited


def test_a_refund_only_payout_credits_the_bank(tmp_path):
    items = period_items()
    _refund_only(items)
    run = run_raw(tmp_path, items)
    assert_sound_books(run)
    sie = (run.folder / SIE).read_bytes().decode("cp437")
    assert "#TRANS 1930 {} -1234.56" in sie and "#TRANS 1510 {} 1234.56" in sie


def test_huge_amounts_are_written_to_the_öre(tmp_path):
    items = period_items()
    _huge(items)
    run = run_raw(tmp_path, items)
    workbook = assert_sound_books(run)
    assert "#TRANS 1930 {} 9999999999234.56" in (run.folder / SIE).read_bytes().decode("cp437")
    amounts = [row[12] for row in workbook["Payouts"].iter_rows(min_row=2, values_only=True)]
    assert D(str(amounts[0])) == D("9999999999234.56")


@pytest.mark.parametrize("text", ODD_DATES)
def test_odd_but_valid_rfc_1123_dates_are_read_as_the_same_day(text, tmp_path):
    items = period_items()
    payout(items, 1)["payout_date"] = text
    payout(items, 1)["_created"] = text
    run = run_raw(tmp_path, items)
    assert_sound_books(run)
    assert [v.date for v in run.result.ledger.vouchers if v.payout_id == P1] == [date(2025, 6, 22)]
    sie = (run.folder / SIE).read_bytes().decode("cp437")
    assert sum(line.startswith("#VER") and " 20250622 " in line for line in sie.splitlines()) == 1


# -- texts with every class of character --------------------------------------------------

XML_ILLEGAL = {
    "noncharacters U+FFFE and U+FFFF": "x\ufffey\uffffz",
}


def _everywhere(items: dict, text: str) -> None:
    """``text`` in every free-text field Amili fills, and as an article the mapping does not know."""
    payout(items, 1)["payout_reference"] = text
    payout(items, 1)["finance_interval"] = text
    payout(items, 3)["document"]["name"] = text
    for line in items["specifications"]:
        line.update(invoice_number=text, reference_number=text, state=text, payout_reference=text)
    set_line(items, 4, 2, "450.00", article=f"fee {text}")
    items["payments"][0].update(invoice_number=text, creditor_payment_reference=text, status=text,
                                status_reason_locale=text)


@pytest.mark.parametrize("text", TEXTS.values(), ids=TEXTS.keys())
def test_texts_with_every_class_of_character_give_sound_books(text, tmp_path):
    items = period_items()
    _everywhere(items, text)
    run = run_raw(tmp_path, items, pdfs=True)
    assert_sound_books(run)
    sie = (run.folder / SIE).read_bytes()
    sie.decode("cp437")
    # One record per line: no line break from the data survives into the file.
    assert all(line.startswith((b"#", b"{", b"}", b"   #")) for line in sie.split(b"\r\n") if line.strip())


@pytest.mark.parametrize("text", XML_ILLEGAL.values(), ids=XML_ILLEGAL.keys())
def test_texts_with_xml_illegal_characters_give_a_workbook_that_opens(text, tmp_path):
    items = period_items()
    _everywhere(items, text)
    assert_sound_books(run_raw(tmp_path, items, pdfs=True))


def test_a_lone_surrogate_in_a_text_is_a_clear_error_or_replaced(tmp_path):
    items = period_items()
    payout(items, 1)["payout_reference"] = "654\ud8001"
    run = run_raw(tmp_path, items, escaped=True)
    if run.error is not None:
        assert_clear_error(run, P1, "'payout_reference'")
    else:
        assert_sound_books(run)


def test_formula_looking_texts_are_stored_as_text(tmp_path):
    items = period_items()
    assert len(items["specifications"]) == len(FORMULAS)
    for line, text in zip(items["specifications"], FORMULAS):
        line["invoice_number"] = text
        line["reference_number"] = text[::-1]
    payout(items, 2)["payout_reference"] = "=HYPERLINK(\"x\")"
    items["payments"][0]["invoice_number"] = "@SUM(A1:A9)"
    run = run_raw(tmp_path, items)
    assert_sound_books(run, texts=[*FORMULAS, "=HYPERLINK(\"x\")", "@SUM(A1:A9)"])


# -- document names with paths ----------------------------------------------------------------

@pytest.mark.parametrize("name", DOCUMENT_NAMES)
def test_document_names_with_paths_stay_in_the_output_folder(name, tmp_path):
    root = tmp_path / "a" / "b" / "c"  # so a name that climbs up still lands under tmp_path, where we look
    items = period_items()
    payout(items, 3)["document"]["name"] = name
    run = run_raw(root, items, pdfs=True)
    run.before |= {p for p in tmp_path.rglob("*") if p.is_file() and root not in p.parents}
    workbook = assert_sound_books(run)
    assert {p for p in tmp_path.rglob("*") if p.is_file()} - run.before - files_under(run.out) == set()
    pdfs = list((run.folder / "self-invoices").iterdir())
    assert len(pdfs) == 1 and pdfs[0].read_bytes() == PDF
    assert [d.file_name for d in run.result.documents] == [pdfs[0].name]
    # The voucher names the file the bookkeeper attaches (the SIE text is cut at 50 characters).
    assert [r[16] for r in workbook["Vouchers"].iter_rows(min_row=2, values_only=True) if r[11] == payout_id(3)][0] \
        == pdfs[0].name


def test_document_names_with_paths_from_the_api_stay_in_the_output_folder(sandbox, tmp_path):
    out = tmp_path / "x" / "y" / "out"
    hostile = iter(["../../../../evil.pdf", "..\\..\\evil.pdf", "/etc/passwd", "CON"])
    for item in sandbox.db["finance--payouts"].find({"document": {"$ne": None},
                                                     "payout_date": {"$gte": datetime(2025, 6, 1)}}):
        name = next(hostile, None)
        if name:
            sandbox.db["finance--payouts"].update_one({"_id": item["_id"]}, {"$set": {"document.name": name}})
    config = config_module.load(SAMPLES / "ledger-export.toml",
                                overrides={"amili.base_url": sandbox.base_url, "output.folder": str(out)})
    result = export(config, JUNE, ExportOptions(generated=date(2025, 7, 1)), tokens=StaticToken(sandbox.api_key))
    written = {p for p in tmp_path.rglob("*") if p.is_file()}
    assert written and all(out / "2025-06" in p.parents or p.parent == out for p in written)
    pdfs = sorted(p.name for p in (out / "2025-06" / "self-invoices").iterdir())
    assert len(pdfs) == 4 and all(d.in_place for d in result.documents)
    assert [f for f in validate((out / "2025-06" / SIE).read_bytes(), SIE) if f.severity == "error"] == []


# -- bugs found ------------------------------------------------------------------------------

def test_a_date_at_the_end_of_time_is_a_clear_error(tmp_path):
    items = period_items()
    payout(items, 1)["_created"] = "Fri, 31 Dec 9999 23:59:59 -0100"
    assert_clear_error(run_raw(tmp_path, items), P1, "'_created'")


def test_a_payout_dated_in_year_9999_is_a_clear_error_or_sound_books(tmp_path):
    items = period_items()
    payout(items, 1)["payout_date"] = "Fri, 31 Dec 9999 00:00:00 GMT"
    run = run_raw(tmp_path, items)
    if run.error is not None:
        assert_clear_error(run, P1, "payout_date")
    else:
        assert_sound_books(run)


def _id_with_line_break(items: dict) -> None:
    payout(items, 1)["_id"] = "6650000000000000000a\n0001"
    del payout(items, 1)["_etag"]


def _invoice_with_line_break(items: dict) -> None:
    line = lines(items, 1)[0]
    line.update(invoice_number="INV-1001\r\nINV-9999", total_amount=D("999.00"))


def _article_with_terminal_escape(items: dict) -> None:
    lines(items, 4)[0]["article"] = "\x1b[2J\x1b[31minvoice_fee"  # clears the screen, then red


@pytest.mark.parametrize("change, names", [
    (_id_with_line_break, ("'_etag'",)),
    (_invoice_with_line_break, (L11, "INV-1001")),
    (_article_with_terminal_escape, (payout_id(4), "invoice_fee")),
], ids=["_id with a line break", "invoice number with CR LF", "article with an ANSI escape"])
def test_texts_from_the_data_cannot_break_an_error_message(change, names, tmp_path):
    items = period_items()
    change(items)
    assert_clear_error(run_raw(tmp_path, items), *names)


@pytest.mark.parametrize("value", [D("1E+26"), D("8.929603021628488E+29"), 10**30], ids=["1E+26", "8.9E+29", "10^30"])
def test_an_absurdly_large_amount_is_a_clear_error(value, tmp_path):
    items = period_items()
    lines(items, 1)[0]["amount"] = value
    assert_clear_error(run_raw(tmp_path, items), L11, "'amount'")


@pytest.mark.parametrize("value", [DROP, 5], ids=["missing", "a number"])
def test_a_payout_without_an_id_is_named_by_its_reference(value, tmp_path):
    items = period_items()
    _set("payouts", 0, "_id", value)(items)
    assert_clear_error(run_raw(tmp_path, items), "65401", "'_id'")


@pytest.mark.parametrize("account", [2611, 3921, 1510])
def test_a_ledger_account_that_is_not_a_bank_account_is_not_booked_silently(account, tmp_path):
    items = period_items()
    payout(items, 1)["ledger_account"] = account
    run = run_raw(tmp_path, items)
    if run.error is not None:
        assert_clear_error(run, P1, "'ledger_account'")
    else:
        assert any("ledger_account" in f.message and f.payout_id == P1 for f in run.result.ledger.warnings)


# -- through the command line ---------------------------------------------------------------

CLI_CASES = [
    ("3 decimals", lambda items: _set("specifications", 0, "amount", D("1000.005"))(items), (L11, "'amount'")),
    ("EUR", lambda items: _set("payouts", 0, "currency", "EUR")(items), (P1, "'currency'")),
    ("bad date", lambda items: _set("payouts", 0, "payout_date", "2025-06-11")(items), (P1, "'payout_date'")),
]


def cli_export(root: Path, items: dict, capsys) -> tuple[int, str, str]:
    raw = write_raw(items, root / "in" / "raw")
    code = cli.main(["export", "-q", "-c", str(SAMPLES / "ledger-export.toml"), "--out", str(root / "out"),
                     "--base-url", "http://127.0.0.1:9", "--from-raw", str(raw), "--gen-date", "2025-07-01"])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.mark.parametrize("name, change, names", CLI_CASES, ids=[c[0] for c in CLI_CASES])
def test_the_cli_reports_bad_data_in_one_line_with_exit_code_1(name, change, names, tmp_path, capsys):
    items = period_items()
    change(items)
    code, out, err = cli_export(tmp_path, items, capsys)
    assert code == 1
    assert err.count("\n") == 1 and err.startswith("ledger-export: error: ") and "Traceback" not in err
    assert all(n in err for n in names), err
    assert not (tmp_path / "out" / "2025-06" / SIE).exists()


def test_the_cli_books_hostile_but_valid_data(tmp_path, capsys):
    items = period_items()
    _everywhere(items, TEXTS["quotes and backslashes"] + TEXTS["C0 controls"])
    code, out, err = cli_export(tmp_path, items, capsys)
    assert (code, err) == (0, "")
    assert [f for f in validate((tmp_path / "out" / "2025-06" / SIE).read_bytes(), SIE) if f.severity == "error"] == []


def test_the_base_period_is_sound(tmp_path):
    """The starting point of every case: books without warnings other than the offline self-invoice."""
    run = run_raw(tmp_path, period_items(), pdfs=True)
    assert_sound_books(run)
    assert run.result.ledger.warnings == () and len(run.result.ledger.vouchers) == 4
