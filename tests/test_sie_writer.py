"""The SIE 4I writer: round trip through our reader, hostile texts, layout snapshot, #KSUMMA."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from types import MappingProxyType

import pytest

from ledger_export.jobs import config
from ledger_export.core.settings import Company
from ledger_export.core.errors import ConfigError, OutputError
from ledger_export.ledger.model import Ledger, Line, Voucher
from ledger_export.sie import text
from ledger_export.sie.reader import read_sie
from ledger_export.sie.settings import SieSettings
from ledger_export.sie.validate import validate
from ledger_export.sie.writer import SieWriteError, render_sie

COMPANY = Company(name="Exempelbolaget AB", orgnr="556677-8899")
NAMES = MappingProxyType({1930: "Företagskonto", 2611: "Utgående moms 25 %", 3010: "Försäljning",
                          6570: "Bankkostnader"})
GENERATED = date(2025, 7, 1)


def voucher(day: date, text_: str, *lines: tuple[int, str, str], reference: str | None = None,
            series: str = "", objects: tuple = ()) -> Voucher:
    return Voucher(day, text_, tuple(Line(account, Decimal(amount), line_text, objects if account == 3010 else ())
                                     for account, amount, line_text in lines),
                   series=series, payout_id=f"p-{day}", payout_reference=reference)


def small_ledger() -> Ledger:
    return Ledger((
        voucher(date(2025, 6, 13), "Amili utbetalning 2025-06-13", (1930, "1000.00", "Utbetalning"),
                (3010, "-800.00", "Kapital"), (2611, "-200.00", "Moms"), reference="R-1001", series="A",
                objects=(("1", "100"),)),
        voucher(date(2025, 6, 27), "Amili avgift", (6570, "12.50", "Avgift"), (1930, "-12.50", ""),
                reference="R-1002"),
    ), NAMES)


def render(ledger: Ledger, **kwargs) -> bytes:
    return render_sie(ledger, COMPANY, generated=GENERATED, program_version="1.2.3", **kwargs)


def test_snapshot_of_a_small_ledger(snapshot):
    data = render(small_ledger())
    assert data.count(b"\r\n") == data.count(b"\n") == 24  # every record ends in CR LF
    assert data.decode("cp437").replace("\r\n", "\n") == snapshot


def test_line_feed_only_on_request():
    data = render(small_ledger(), line_ending="\n")
    assert b"\r" not in data and data == render(small_ledger()).replace(b"\r\n", b"\n")


def test_the_same_ledger_gives_the_same_bytes():
    assert render(small_ledger()) == render(small_ledger())


def test_header_values_are_never_quoted():
    lines = render(small_ledger()).decode("cp437").splitlines()
    assert lines[:7] == ["#FLAGGA 0", "#FORMAT PC8", "#SIETYP 4", '#PROGRAM "ledger-export" "1.2.3"',
                         "#GEN 20250701", '#FNAMN "Exempelbolaget AB"', "#ORGNR 556677-8899"]


def test_round_trip_keeps_vouchers_dates_accounts_and_amounts():
    ledger = small_ledger()
    f = read_sie(render(ledger), "ledger.si")
    assert validate(render(ledger), "ledger.si") == []
    assert (f.flag, f.format, f.sie_type, f.generated) == (0, "PC8", 4, GENERATED)
    assert (f.company_name, f.orgnr, f.program, f.program_version) == (
        "Exempelbolaget AB", "556677-8899", "ledger-export", "1.2.3")
    assert f.fiscal_years == {0: (date(2025, 1, 1), date(2025, 12, 31))}
    assert f.accounts == {str(k): v for k, v in NAMES.items()}
    assert len(f.vouchers) == len(ledger.vouchers)
    for ours, read in zip(ledger.vouchers, f.vouchers):
        assert (read.series, read.number, read.date, read.text) == (ours.series, "", ours.date, ours.text)
        assert [(t.account, t.amount, t.objects, t.text) for t in read.transactions] == [
            (str(line.account), line.amount, line.objects, line.text) for line in ours.lines]


def test_hostile_texts_validate_and_read_back_as_cleaned():
    name = "Kalle \"Anka\" Bärgning & Åkeri " + "Ö" * 170  # 200 characters
    hostile = [
        'Citat "inne" och \\ bak\\',
        "Tab\there och\r\nradbrytning",
        "å ä ö Å Ä Ö € 100 – ”krökt” ’fnutt’ … slut",
        name,
    ]
    ledger = Ledger(tuple(
        voucher(date(2025, 6, 1 + i), t, (1930, "1.00", t), (3010, "-1.00", t), reference="R-77")
        for i, t in enumerate(hostile)), NAMES)
    company = Company(name=name + ' "AB"\\', orgnr="556677-8899")
    data = render_sie(ledger, company, generated=GENERATED, program_version="1")
    assert validate(data, "hostile.si") == []
    read = read_sie(data, "hostile.si")
    assert read.company_name == text.clean_text(name) + ' "AB"/'  # a name is not cut: no 50 limit
    for original, v in zip(hostile, read.vouchers):
        intended = text.shorten(text.clean_text(original), "R-77")
        assert v.text == intended and v.transactions[0].text == intended
        assert len(intended) <= 50 and "\t" not in intended
    assert read.vouchers[0].text == 'Citat "inne" och / bak/'
    assert read.vouchers[1].text == "Tab here och radbrytning"
    assert read.vouchers[2].text == "å ä ö Å Ä Ö EUR 100 - \"krökt\" 'fnutt' ... slut"
    assert read.vouchers[3].text.endswith("... ref R-77") and len(read.vouchers[3].text) == 50
    assert b'"Citat \\"inne\\" och / bak/"' in data
    assert "å ä ö Å Ä Ö".encode("cp437") == b"\x86 \x84 \x94 \x8f \x8e \x99"
    assert b"\x86 \x84 \x94 \x8f \x8e \x99 EUR 100" in data


def test_ksumma_round_trip():
    data = render(small_ledger(), ksumma=True)
    lines = data.decode("cp437").splitlines()
    assert lines[:2] == ["#FLAGGA 0", "#KSUMMA"] and lines[-1].startswith("#KSUMMA ")
    f = read_sie(data, "ledger.si")
    assert f.ksumma == f.ksumma_computed is not None
    assert validate(data, "ledger.si") == []
    tampered = data.replace(b"1000.00", b"1000.01").replace(b"-800.00", b"-800.01")
    assert [f.code for f in validate(tampered, "ledger.si")] == ["ksumma"]


def test_fiscal_year_follows_the_configured_start_and_a_period_across_two_years_declares_both():
    ledger = Ledger((voucher(date(2025, 6, 30), "Juni", (1930, "1.00", ""), (3010, "-1.00", "")),
                     voucher(date(2025, 7, 1), "Juli", (1930, "1.00", ""), (3010, "-1.00", ""))), NAMES)
    f = read_sie(render(ledger, fiscal_year_start_month=7))
    assert f.fiscal_years == {0: (date(2025, 7, 1), date(2026, 6, 30)), -1: (date(2024, 7, 1), date(2025, 6, 30))}
    company = Company(name="Brutet AB", orgnr="", fiscal_year_start_month=5)
    f = read_sie(render_sie(ledger, company, generated=GENERATED, program_version="1"))
    assert f.fiscal_years == {0: (date(2025, 5, 1), date(2026, 4, 30))} and f.orgnr == ""
    assert b"#ORGNR" not in render_sie(ledger, company, generated=GENERATED, program_version="1")


def test_an_account_without_a_name_is_refused():
    ledger = Ledger(small_ledger().vouchers, MappingProxyType({1930: "Bank"}))
    with pytest.raises(SieWriteError, match="account 2611 .*payout p-2025-06-13.*no name"):
        render(ledger)


def test_a_fraction_of_an_ore_is_refused_not_rounded():
    ledger = Ledger((voucher(date(2025, 6, 1), "x", (1930, "0.005", ""), (3010, "-0.005", "")),), NAMES)
    with pytest.raises(SieWriteError, match="two decimals"):
        render(ledger)
    assert issubclass(SieWriteError, OutputError)


def test_a_dimension_must_be_a_number():
    ledger = Ledger((voucher(date(2025, 6, 1), "x", (1930, "1.00", ""), (3010, "-1.00", ""),
                             objects=(("KST", "100"),)),), NAMES)
    with pytest.raises(SieWriteError, match="dimension 'KST'"):
        render(ledger)


@pytest.mark.parametrize("account", [-1930, 1930.5])
def test_an_account_that_is_not_an_account_number_is_refused(account):
    ledger = Ledger((voucher(date(2025, 6, 1), "x", (account, "1.00", ""), (3010, "-1.00", "")),),
                    MappingProxyType({**NAMES, account: "Konto"}))
    with pytest.raises(SieWriteError, match=f"account {account!r} is not an account number"):
        render(ledger)


@pytest.mark.parametrize("orgnr", ["556677 8899", '556677-8899"\n#FLAGGA 1', "SE556677889901"])
def test_an_organisation_number_other_than_digits_and_a_hyphen_is_refused(orgnr):
    # The header's values are written unquoted: anything else could end the record (§5.15).
    with pytest.raises(SieWriteError, match="organisation number .* must be written nnnnnn-nnnn"):
        render_sie(small_ledger(), Company(name="X AB", orgnr=orgnr), generated=GENERATED, program_version="1")


def test_minus_zero_is_written_as_zero():
    # Amili may send a line of -0.00 (a cancelled fee); booked as given, it is a negative zero,
    # which a ledger program may read as a credit row of its own.
    zero = Decimal("-0.00")
    ledger = Ledger((Voucher(date(2025, 6, 1), "x", (Line(1930, Decimal("1.00")), Line(3010, Decimal("-1.00")),
                                                     Line(6570, zero))),), NAMES)
    data = render(ledger).decode("cp437")
    assert "#TRANS 6570 {} 0.00 " in data and "-0.00" not in data
    assert [t.amount for t in read_sie(render(ledger), "x.si").vouchers[0].transactions][-1] == Decimal("0.00")


def test_an_object_list_with_several_dimensions_keeps_each_pair_in_order():
    ledger = Ledger((voucher(date(2025, 6, 1), "x", (1930, "1.00", ""), (3010, "-1.00", ""),
                             objects=(("1", "100"), ("6", "P 7"))),), NAMES)
    data = render(ledger).decode("cp437")
    assert '#TRANS 3010 {1 "100" 6 "P 7"} -1.00 ' in data and "#TRANS 1930 {} 1.00 " in data
    [row] = [t for t in read_sie(render(ledger), "x.si").vouchers[0].transactions if t.account == "3010"]
    assert row.objects == (("1", "100"), ("6", "P 7"))


def test_a_ledger_without_vouchers_is_a_valid_file_of_its_header_alone():
    data = render(Ledger((), NAMES))
    assert data.decode("cp437").split("\r\n") == ["#FLAGGA 0", "#FORMAT PC8", "#SIETYP 4",
                                                   '#PROGRAM "ledger-export" "1.2.3"', "#GEN 20250701",
                                                   '#FNAMN "Exempelbolaget AB"', "#ORGNR 556677-8899",
                                                   "#KPTYP EUBAS97", ""]
    assert validate(data, "x.si") == []


def test_an_account_without_a_name_is_traced_to_the_voucher_that_uses_it():
    ledger = Ledger(small_ledger().vouchers, MappingProxyType({1930: "Bank", 2611: "Moms", 3010: "Försäljning"}))
    with pytest.raises(SieWriteError, match=r"account 6570 \(used by the voucher for payout p-2025-06-27, "
                                            r"2025-06-27\) has no name in the chart of accounts"):
        render(ledger)


@pytest.mark.parametrize("ending", ["\r", "\n\r", ""])
def test_only_lf_or_cr_lf_ends_a_record(ending):
    with pytest.raises(ValueError, match="line_ending must be LF or CR LF"):
        render(small_ledger(), line_ending=ending)


def test_settings_default_and_ksumma_switch():
    assert config.from_dict({}).sie == SieSettings(ksumma=False)
    assert config.from_dict({"sie": {"ksumma": True}}).sie.ksumma is True


@pytest.mark.parametrize("section, problem", [({"ksumma": "yes"}, "true or false"),
                                              ({"checksum": True}, "not a known setting")])
def test_settings_refuse_wrong_types_and_unknown_keys(section, problem):
    with pytest.raises(ConfigError, match=problem):
        config.from_dict({"sie": section})
