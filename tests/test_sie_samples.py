"""Real SIE files from other programs (shared/sie/samples): read, validated, checksum verified.

Every finding listed here is a real defect of that file, with the reason.
A finding that is not listed fails the test, so a false alarm cannot slip in.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from ledger_export.sie.reader import read_sie_file
from ledger_export.sie.validate import validate_file

EXPECTED = {
    "BL0001_typ4I.SI": [
        ("error", 7, "malformed"),               # "#RAR 0" without start and end dates
        # Import file without any #KONTO; the spec recommends declaring every account used.
        ("warning", 13, "undeclared-account"),   # 1510
        ("warning", 17, "undeclared-account"),   # 1680
        ("warning", 18, "undeclared-account"),   # 2610
        ("warning", 19, "undeclared-account"),   # 3010
        ("warning", 21, "undeclared-account"),   # 3101
        ("warning", 22, "undeclared-account"),   # 3740
    ],
    "FAKT.SI": [],
    "Norstedts_Bokslut_SIE_4I.si": [],
    "Sie4.se": [
        ("error", 592, "malformed"),             # #KONTO DIFF: account numbers are numeric
        ("error", 593, "malformed"),             # "#KTYP DIFF" without its account type
        ("error", 721, "malformed"),             # #TRANS on account "FEL" (37 rows)
        ("error", 721, "undeclared-account"),    # ... which no #KONTO declares, in an export
        ("error", 1041, "syntax"),               # three row texts whose closing quote is missing
        ("error", 1042, "syntax"),
        ("error", 1043, "syntax"),
    ],
    "Sie4.si": [
        # A full export (#IB, #UB, #OMFATTN) named .si: §5.1 only recommends .SE for it.
        ("warning", None, "file-name"),
        ("error", 9, "malformed"),               # "#ORGNR" with no number (§5.15: then leave it out)
        ("warning", 439, "text-too-long"),       # voucher texts of 64, 58 and 59 characters
        ("warning", 473, "text-too-long"),
        ("warning", 487, "text-too-long"),
        ("warning", 1912, "line-end"),           # the final "}" has no line feed
    ],
    "transaktioner_ovnbolag-bad-balance.se": [
        ("warning", 7, "quoted-value"),          # #ORGNR "5555555555": quoted ...
        ("warning", 7, "orgnr"),                 # ... and without the hyphen
        ("error", 3905, "unbalanced"),           # voucher B 1: the deliberate imbalance
    ],
    "typ4si.si": [
        ("warning", 8, "quoted-value"),          # #ORGNR "000000-0000" quoted
    ],
    "urval_ovnbolag.si": [
        ("warning", 1, "flag-set"),              # #FLAGGA 1: marked as already imported
        ("warning", 7, "quoted-value"),
        ("warning", 7, "orgnr"),
    ],
}


@pytest.fixture
def samples(shared_sie) -> Path:
    """The exports of other programs, found through conftest's one fixture for ../shared."""
    return shared_sie / "samples"


def test_every_sample_is_covered(samples):
    assert sorted(p.name for p in samples.iterdir()) == sorted(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_sample_findings_are_exactly_its_real_defects(samples, name):
    findings = validate_file(samples / name)
    assert [(f.severity, f.line, f.code) for f in findings] == EXPECTED[name]


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_every_sample_reads_with_all_its_vouchers(samples, name):
    path = samples / name
    expected_vouchers = path.read_bytes().count(b"#VER")
    f = read_sie_file(path)
    assert len(f.vouchers) == expected_vouchers and f.program and f.company_name


def test_the_unbalanced_voucher_is_named_with_its_difference(samples):
    (finding,) = [f for f in validate_file(samples / "transaktioner_ovnbolag-bad-balance.se")
                  if f.code == "unbalanced"]
    assert "voucher B 1 2011-01-07 (line 3905)" in finding.message
    assert "-12771.00" in finding.message


def test_norstedts_ksumma_verifies(samples):
    f = read_sie_file(samples / "Norstedts_Bokslut_SIE_4I.si")
    assert f.ksumma_started and f.ksumma == 1573150874 and f.ksumma_computed == 1573150874


def test_norstedts_ksumma_catches_a_changed_amount(samples, tmp_path):
    data = (samples / "Norstedts_Bokslut_SIE_4I.si").read_bytes()
    changed = tmp_path / "changed.si"
    changed.write_bytes(data.replace(b"1104488.11", b"1104488.12"))
    assert [(f.line, f.code) for f in validate_file(changed)] == [(379, "ksumma")]


def test_a_chart_of_accounts_from_another_programs_export(samples):
    accounts = read_sie_file(samples / "Sie4.se").accounts
    assert accounts["1930"].strip() == "Checkräkningskonto"
    assert accounts["2440"].strip() == "Leverantörsskulder"
    # Every #KONTO, as written: the chart import decides what to do with SoftOne's "DIFF".
    assert len(accounts) == 291 and accounts["DIFF"] == "DIFF"


def test_voucher_sums_of_a_large_export(samples):
    f = read_sie_file(samples / "transaktioner_ovnbolag-bad-balance.se")
    assert len(f.accounts) == 567 and set(f.fiscal_years) == {0, -1}
    unbalanced = [v for v in f.vouchers if v.balance() != 0]
    assert [(v.series, v.number, v.balance()) for v in unbalanced] == [("B", "1", Decimal("-12771.00"))]
