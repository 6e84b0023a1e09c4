"""The organisation number: required to book, its check digit verified, written #ORGNR nnnnnn-nnnn.

Fortnox compares the SIE file's #ORGNR with the company it imports into; a
file without one, or with a mistyped one, was written without a word.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given, strategies as st

from ledger_export.core.errors import ConfigError
from ledger_export.core.orgnr import OrgnrProblem, luhn_ok, normalise, same
from ledger_export.core.resources import SAMPLES
from ledger_export.jobs import config as config_module
from ledger_export.jobs.register import REGISTER_FILE, Owner, Register
from ledger_export.jobs.register_check import RegisterError
from ledger_export.jobs.register_rebuild import rebuild
from ledger_export.sie.reader import read_sie_file
from support.export_run import run

SAMPLE_CONFIG = (SAMPLES / "ledger-export.toml").read_text(encoding="utf-8")
CREDITOR = "686e6ed854377058c2dd10bd"


# -- the number ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("written, normalised", [
    ("556677-8899", "556677-8899"),
    ("5566778899", "556677-8899"),
    ("16556677-8899", "556677-8899"),    # Skatteverket's twelve-digit form of a company's number
    ("165566778899", "556677-8899"),
    ("19640823-3234", "640823-3234"),    # a sole trader: the owner's personnummer with its century
    ("200101012383", "010101-2383"),
    ("556036-0793", "556036-0793"),
])
def test_the_forms_people_write_are_read_as_nnnnnn_nnnn(written, normalised):
    assert normalise(written) == normalised


@pytest.mark.parametrize("written, says", [
    ("556677-8898", "check digit is wrong"),
    ("5566778898", "check digit is wrong"),
    ("16556677-8898", "check digit is wrong"),
    ("000000-0000", "placeholder"),
    ("18640823-3234", "nnnnnn-nnnn"),     # no sole trader was born in the 1800s: a typo
    ("556677 8899", "nnnnnn-nnnn"),
    ("556677-889", "nnnnnn-nnnn"),
    ("SE556677889901", "nnnnnn-nnnn"),   # a VAT number is not an organisation number
    ("５５６６７７-８８９９", "digits 0-9"),
])
def test_a_wrong_number_is_refused_saying_why(written, says):
    with pytest.raises(OrgnrProblem, match=says):
        normalise(written)


@given(st.text("0123456789", min_size=9, max_size=9))
def test_exactly_one_last_digit_makes_nine_digits_a_valid_number(first_nine):
    valid = [d for d in "0123456789" if luhn_ok(first_nine + d)]
    assert len(valid) == 1
    number = f"{first_nine[:6]}-{first_nine[6:]}{valid[0]}"
    if first_nine != "000000000":
        assert normalise(number) == number


def test_the_configuration_holds_the_normalised_number_and_names_the_key_when_wrong(tmp_path):
    path = tmp_path / "c.toml"
    path.write_text('[company]\norgnr = "5566778899"\n', encoding="utf-8")
    assert config_module.load(path).company.orgnr == "556677-8899"
    path.write_text('[company]\norgnr = "556677-8898"\n', encoding="utf-8")
    with pytest.raises(ConfigError, match=r"c\.toml: \[company\.orgnr\] '556677-8898': the check digit is wrong"):
        config_module.load(path)


# -- required to book: real processes, no request made ---------------------------------------------

def _export(config: Path, out: Path, base_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "ledger_export", "export", "--period", "2025-06", "--config", str(config),
         "--base-url", base_url, "--out", str(out), *args],
        env={**os.environ, "AMILI_API_KEY": "sandbox-key"}, capture_output=True, text=True, timeout=120)


def _assert_refused(done: subprocess.CompletedProcess[str], *names: str) -> None:
    assert done.returncode == 1, done.stdout + done.stderr
    assert done.stderr.count("\n") == 1 and done.stderr.startswith("ledger-export: error: "), done.stderr
    assert "Traceback" not in done.stderr
    for name in names:
        assert name in done.stderr, f"{name!r} not in {done.stderr!r}"


@pytest.mark.parametrize("orgnr, says", [('""', "is empty"), ('"556677-8898"', "check digit is wrong")])
@pytest.mark.parametrize("dry_run", [(), ("--dry-run",)])
def test_an_export_without_a_valid_orgnr_stops_before_any_request(sandbox, tmp_path, orgnr, says, dry_run):
    config = tmp_path / "ledger-export.toml"
    config.write_text(SAMPLE_CONFIG.replace('orgnr = "556677-8899"', f"orgnr = {orgnr}"), encoding="utf-8")
    done = _export(config, tmp_path / "out", sandbox.base_url, *dry_run)
    _assert_refused(done, str(config), "[company.orgnr]", says)
    assert sandbox.requests == []  # not even a login
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())


def test_the_starter_configuration_names_the_orgnr_on_the_first_export(tmp_path):
    config = tmp_path / "ledger-export.toml"
    done = subprocess.run([sys.executable, "-m", "ledger_export", "init", str(config)],
                          capture_output=True, text=True, timeout=60, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "orgnr is required" in done.stdout
    assert 'orgnr = ""  # REQUIRED' in config.read_text(encoding="utf-8")
    # Port 9 (discard): nothing listens there, so a request would fail with another message.
    _assert_refused(_export(config, tmp_path / "out", "http://127.0.0.1:9"), "[company.orgnr] is empty")


def test_the_sample_period_si_file_carries_orgnr_and_chart_type(demo_period):
    [si] = demo_period.glob("ledger-2025-06*.si")
    data = si.read_bytes()
    assert b"\r\n#ORGNR 556677-8899\r\n" in data and b"\r\n#KPTYP EUBAS97\r\n" in data
    sie = read_sie_file(si)
    assert sie.orgnr == "556677-8899" and sie.findings == ()


# -- the register compares normalised numbers -------------------------------------------------------

def test_a_register_compares_orgnr_in_its_normalised_form(tmp_path):
    with Register.open(tmp_path) as register:
        register.claim(Owner(CREDITOR, "5566778899"))  # as an older version might have stored it
    with Register.open(tmp_path) as register:
        register.claim(Owner(CREDITOR, "556677-8899"))
        with pytest.raises(RegisterError, match=r"\[company\] orgnr"):
            register.claim(Owner(CREDITOR, "556036-0793"))


def test_orgnr_comparison():
    assert same("5566778899", "556677-8899") and same("16556677-8899", "556677-8899")
    assert not same("556677-8899", "556036-0793")
    assert same("not a number", "not a number") and not same("556677-8898", "556677-8899")


def test_rebuild_compares_the_manifests_orgnr_in_its_normalised_form(sandbox, tmp_path):
    run(sandbox, tmp_path)
    manifest = tmp_path / "2025-06" / "manifest.json"
    doc = json.loads(manifest.read_text(encoding="utf-8"))
    doc["inputs"]["orgnr"] = "5566778899"  # the same company, written without the hyphen
    manifest.write_text(json.dumps(doc), encoding="utf-8")
    (tmp_path / REGISTER_FILE).unlink()
    with pytest.raises(RegisterError, match="not of this configuration's"):
        rebuild(tmp_path, Owner(CREDITOR, "556036-0793"))
    assert rebuild(tmp_path, Owner(CREDITOR, "556677-8899")).runs == 1
    with Register.open(tmp_path) as register:
        assert register.owner()["orgnr"] == "556677-8899"
