"""LibreOffice recalculates the workbook: its totals must be the ledger's, to the öre.

openpyxl stores formulas without results, so every figure read back here was
computed by LibreOffice Calc (headless, a private profile, a timeout).
"""

from __future__ import annotations

import os
import random
import shutil
import signal
import subprocess
from dataclasses import replace
from decimal import Decimal

import pytest
from openpyxl import load_workbook

from ledger_export.ledger.model import Ledger, Line, Voucher
from support.audit_pack import DATA, LEDGER, PAYOUTS, render

INSTALL = "apt-get install -y --no-install-recommends libreoffice-calc-nogui"
CANDIDATES = ("soffice", "libreoffice", "/usr/lib/libreoffice/program/soffice",
              "/Applications/LibreOffice.app/Contents/MacOS/soffice")


def _find_soffice() -> str | None:
    for candidate in CANDIDATES:
        found = shutil.which(candidate)
        if found:
            return found
    return None


@pytest.fixture(scope="module")
def recalc(tmp_path_factory):
    soffice = _find_soffice()
    if soffice is None:
        pytest.skip(f"LibreOffice is not installed here ({INSTALL}); .ci/run installs it where it can")
    profile = tmp_path_factory.mktemp("lo-profile")

    def run(xlsx: bytes) -> object:
        folder = tmp_path_factory.mktemp("lo")
        source = folder / "in" / "ledger.xlsx"
        source.parent.mkdir()
        source.write_bytes(xlsx)
        command = [soffice, f"-env:UserInstallation={profile.as_uri()}", "--headless", "--norestore",
                   "--convert-to", "xlsx", "--outdir", str(folder), str(source)]
        # Its own process group: soffice starts soffice.bin, which a timeout must end too.
        proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True)
        try:
            output, _ = proc.communicate(timeout=180)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.communicate()
            pytest.fail("LibreOffice did not finish converting the workbook within 180 s")
        result = folder / "ledger.xlsx"
        assert proc.returncode == 0 and result.exists(), output.decode(errors="replace")
        return load_workbook(result, data_only=True)

    return run


@pytest.fixture(scope="module")
def sample(recalc):
    return recalc(render())


def ore(value: float | int) -> Decimal:
    return Decimal(repr(round(value, 2))).quantize(Decimal("0.01"))


def trial_balance(wb) -> tuple[dict[int, Decimal], list[tuple]]:
    rows = [tuple(c.value for c in row) for row in wb["Trial balance"].iter_rows(min_row=2)]
    accounts = {row[0]: ore(row[4]) for row in rows if isinstance(row[0], int)}
    return accounts, [row for row in rows if not isinstance(row[0], int)]


def test_recalculated_trial_balance_equals_the_ledger(sample):
    wb = sample
    accounts, (total, check) = trial_balance(wb)
    assert accounts == LEDGER.account_totals()
    assert total[0] == "Total" and ore(total[2]) == ore(total[3]) == Decimal("16405.67") and ore(total[4]) == 0
    assert check[:2] == ("Debit = credit", "yes")


def test_recalculated_summary_totals_equal_the_payouts(sample):
    wb = sample
    rows = {row[0]: row for row in wb["Summary"].iter_rows(values_only=True) if row[0]}
    for category in ("capital", "interest", "creditor_commission", "creditor_outlay"):
        payouts = [p for p in DATA.payouts if p.finance_category == category]
        lines = [s for s in DATA.specifications if s.finance_category == category]
        count, line_count, amount, vat, total = rows[category][1:6]
        assert (count, line_count) == (len(payouts), len(lines))
        assert (ore(amount), ore(vat), ore(total)) == (
            sum(p.amount for p in payouts), sum(p.vat_amount for p in payouts), sum(p.total_amount for p in payouts))
    assert ore(rows["Total"][5]) == sum(p.total_amount for p in DATA.payouts)
    assert ore(rows["Creditor payments (direct)"][2]) == Decimal("1500.50")


def test_libreoffice_keeps_formula_looking_texts_as_text(sample):
    wb = sample
    vouchers = [row[7] for row in wb["Vouchers"].iter_rows(min_row=2, values_only=True)]
    assert {"=1+1", "@SUM(A1)", "+46701234567", "-5", "\t=cmd"} <= set(vouchers)
    assert wb["Creditor payments"]["D2"].value == '=HYPERLINK("x")'
    assert wb["Payouts"]["E3"].value == "=1+1"


def _many_vouchers(count: int) -> Ledger:
    """Öre amounts that floats cannot hold exactly, summed over many lines."""
    rng = random.Random(2025)
    accounts = (1510, 3921, 2611, 3990, 6062, 8313)
    vouchers = []
    for n in range(count):
        parts = [Decimal(rng.randint(-99_999_99, 99_999_99)) / 100 for _ in range(rng.randint(1, 4))]
        lines = [Line(rng.choice(accounts), -part) for part in parts]
        lines.append(Line(1930, sum(parts, Decimal("0.00"))))
        vouchers.append(Voucher(date=PAYOUTS[0].payout_date, text=f"Amili {n}", lines=tuple(lines),
                                payout_id=f"p{n}"))
    return Ledger(tuple(vouchers), account_names=LEDGER.account_names)


def test_recalculated_totals_hold_to_the_ore_over_many_lines(recalc):
    ledger = _many_vouchers(600)
    data = replace(DATA, payouts=(), specifications=(), payments=())
    wb = recalc(render(ledger=ledger, data=data, documents=()))
    accounts, (total, check) = trial_balance(wb)
    assert accounts == ledger.account_totals()
    assert ore(total[2]) == sum((line.debit for v in ledger.vouchers for line in v.lines), Decimal("0.00"))
    assert check[1] == "yes"
