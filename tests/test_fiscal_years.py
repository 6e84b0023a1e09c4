"""Every voucher in a fiscal year the ledger has; #RAR and #KPTYP as the ledger's own export says.

Fortnox refuses a voucher dated outside an existing financial year. With
``--chart`` the company's SIE export declares its years (#RAR): a voucher
outside them stops the run before anything is written. Without a chart, a
voucher in another fiscal year ([company] fiscal_year_start_month) than the
file's latest one is a warning.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest

from ledger_export.core.resources import SAMPLES
from ledger_export.jobs.register import Register
from ledger_export.ledger.chart import Chart
from ledger_export.ledger.fiscal_years import OutsideFiscalYearsError, fiscal_year_findings, require_chart_years
from ledger_export.ledger.model import Line, Voucher
from ledger_export.sie.chart import chart_type, read_chart

SAMPLE_CONFIG = (SAMPLES / "ledger-export.toml").read_text(encoding="utf-8")
FIRST_JUNE_PAYOUT = "683bd04314eb261291cfe347"  # paid out 2025-06-02, the period's earliest


def _chart(tmp_path: Path, demo_period: Path, *head: str) -> Path:
    """The company's own SIE export: the accounts the sample period books on, and ``head`` (#RAR, #KPTYP)."""
    [si] = demo_period.glob("ledger-2025-06.si")
    accounts = [line for line in si.read_text(encoding="cp437").splitlines() if line.startswith("#KONTO")]
    path = tmp_path / "chart.se"
    path.write_bytes("\r\n".join(["#FLAGGA 0", "#FORMAT PC8", "#SIETYP 4", *head, *accounts, ""]).encode("cp437"))
    return path


def _export(tmp_path: Path, base_url: str, *args: str, config: Path = SAMPLES / "ledger-export.toml",
            period: tuple[str, ...] = ("--period", "2025-06")) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "ledger_export", "export", *period, "--config", str(config),
         "--base-url", base_url, "--out", str(tmp_path / "out"), "--gen-date", "2025-07-01", *args],
        env={**os.environ, "AMILI_API_KEY": "sandbox-key"}, capture_output=True, text=True, timeout=120)


# -- with --chart: the ledger's own years ------------------------------------------------------------

@pytest.mark.parametrize("dry_run", [(), ("--dry-run",)])
def test_a_chart_whose_years_miss_the_period_is_refused_and_nothing_is_written(sandbox, demo_period, tmp_path,
                                                                               dry_run):
    chart = _chart(tmp_path, demo_period, "#RAR 0 20240101 20241231", "#RAR -1 20230101 20231231")
    done = _export(tmp_path, sandbox.base_url, "--chart", str(chart), *dry_run)
    assert done.returncode == 1, done.stdout + done.stderr
    assert done.stderr.count("\n") == 1 and "Traceback" not in done.stderr, done.stderr
    for part in (f"payout {FIRST_JUNE_PAYOUT} is dated 2025-06-02", str(chart),
                 "2023-01-01 to 2023-12-31, 2024-01-01 to 2024-12-31", "nothing was written"):
        assert part in done.stderr, done.stderr
    out = tmp_path / "out"
    assert not (out / "2025-06").exists()
    assert not [p for p in out.glob(".*") if p.is_dir()]  # no staging left behind
    with Register.open(out, read_only=True) as register:
        assert register.runs() == ()  # not even a pending run: refused before the register's begin


@pytest.mark.parametrize("head, rar, kptyp", [
    # The years the chart has; only the one holding the vouchers is written, numbered 0.
    (("#RAR 0 20250101 20251231", "#RAR -1 20240101 20241231", "#KPTYP BAS2014"),
     ["#RAR 0 20250101 20251231"], "EUBAS97"),
    # A first fiscal year of 18 months: written as the ledger has it, not as the start month would make it.
    (("#RAR 0 20240701 20251231", "#KPTYP NE2007"), ["#RAR 0 20240701 20251231"], "NE2007"),
    # No #KPTYP in the chart: the default mapping's (BAS 2024/2025, EU-BAS 97 in structure).
    (("#RAR 0 20250101 20251231",), ["#RAR 0 20250101 20251231"], "EUBAS97"),
])
def test_a_chart_that_holds_the_period_gives_its_years_and_chart_type(sandbox, demo_period, tmp_path, head, rar,
                                                                      kptyp):
    chart = _chart(tmp_path, demo_period, *head)
    done = _export(tmp_path, sandbox.base_url, "--chart", str(chart))
    assert done.returncode == 0, done.stderr
    lines = (tmp_path / "out" / "2025-06" / "ledger-2025-06.si").read_text(encoding="cp437").splitlines()
    assert [line for line in lines if line.startswith("#RAR")] == rar
    assert f"#KPTYP {kptyp}" in lines and "#ORGNR 556677-8899" in lines
    assert "warning  fiscal_year" not in done.stdout


def test_the_chart_reader_keeps_years_and_chart_type(tmp_path, demo_period):
    chart = read_chart(_chart(tmp_path, demo_period, "#RAR -1 20240101 20241231", "#RAR 0 20250101 20251231",
                              '#KPTYP "BAS2014"'))
    assert chart.fiscal_years == ((date(2024, 1, 1), date(2024, 12, 31)), (date(2025, 1, 1), date(2025, 12, 31)))
    assert chart.chart_type == "EUBAS97"
    assert read_chart(_chart(tmp_path, demo_period)).chart_type is None


@pytest.mark.parametrize("declared, meant", [
    ("EUBAS97", "EUBAS97"), ("eubas97", "EUBAS97"), ("BAS2025", "EUBAS97"), ("BAS 2014", "EUBAS97"),
    ("BAS", "EUBAS97"), ("BAS95", "BAS95"), ("BAS96", "BAS96"), ("NE2007", "NE2007"), ("K2", None),
])
def test_chart_types_are_read_as_the_spec_says(declared, meant):
    assert chart_type(declared) == meant


def _voucher(day: date, payout: str) -> Voucher:
    return Voucher(date=day, text="t", lines=(Line(1930, 1), Line(1510, -1)), payout_id=payout)  # type: ignore[arg-type]


def test_a_chart_without_years_says_nothing_about_them():
    chart = Chart({1930: "Bank"}, "c.se")
    require_chart_years([_voucher(date(2025, 6, 2), "p")], chart)  # nothing to compare with: no refusal
    with pytest.raises(OutsideFiscalYearsError, match=r"payout p is dated 2025-06-02 \(and 1 more voucher"):
        require_chart_years([_voucher(date(2025, 6, 2), "p"), _voucher(date(2025, 6, 3), "q")],
                            Chart({1930: "Bank"}, "c.se", fiscal_years=((date(2024, 1, 1), date(2024, 12, 31)),)))


# -- without a chart: [company] fiscal_year_start_month ---------------------------------------------

def test_vouchers_in_another_fiscal_year_than_the_latest_are_a_warning(sandbox, tmp_path):
    config = tmp_path / "ledger-export.toml"
    config.write_text(SAMPLE_CONFIG.replace('orgnr = "556677-8899"',
                                            'orgnr = "556677-8899"\nfiscal_year_start_month = 6'), encoding="utf-8")
    done = _export(tmp_path, sandbox.base_url, config=config, period=("--from", "2025-05-28", "--to", "2025-06-30"))
    assert done.returncode == 0, done.stderr
    [folder] = [p for p in (tmp_path / "out").iterdir() if p.is_dir() and not p.name.startswith(".")]
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    checked = [f for f in manifest["reconciliation"]["findings"] if f["check"] == "fiscal_year"]
    warned = [f for f in checked if f["severity"] == "warning"]
    # The three payouts of 28 May are in the year that ended 31 May; the 13 others in the one from 1 June.
    assert (len(checked), len(warned)) == (16, 3)
    assert all("dated 2025-05-28, in the fiscal year 2024-06-01 to 2025-05-31, not 2025-06-01 to 2026-05-31"
               in f["message"] and "fiscal_year_start_month = 6" in f["message"] for f in warned)
    assert "fiscal_year" in done.stdout  # the run summary shows it, as it shows every warning
    [si] = folder.glob("*.si")
    rar = [line for line in si.read_text(encoding="cp437").splitlines() if line.startswith("#RAR")]
    assert rar == ["#RAR 0 20250601 20260531", "#RAR -1 20240601 20250531"]
    # --strict fails on it, as on any warning.
    strict = _export(tmp_path / "strict", sandbox.base_url, "--strict", config=config,
                     period=("--from", "2025-05-28", "--to", "2025-06-30"))
    assert strict.returncode == 3 and "fiscal_year" in strict.stderr + strict.stdout


def test_vouchers_in_one_fiscal_year_give_no_warning():
    vouchers = [_voucher(date(2025, 6, 2), "p"), _voucher(date(2025, 6, 30), "q")]
    for start_month in (1, 6):
        assert [f.severity for f in fiscal_year_findings(vouchers, start_month)] == ["ok", "ok"]
    findings = fiscal_year_findings([_voucher(date(2025, 5, 31), "r"), *vouchers], 6)
    assert [(f.payout_id, f.severity) for f in findings] == [("r", "warning"), ("p", "ok"), ("q", "ok")]
