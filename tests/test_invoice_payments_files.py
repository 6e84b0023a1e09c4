"""invoice-payments-<period>.csv and the workbook's "Invoice payments" sheet, read back as a bookkeeper's tools read them."""

from __future__ import annotations

import csv
import io
import os
import shutil
import signal
import subprocess
from datetime import date
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest

from ledger_export.core.money import ZERO
from ledger_export.core.resources import SAMPLES
from ledger_export.jobs import config
from ledger_export.jobs.export import ExportOptions, export
from ledger_export.ledger.invoice_payments import invoice_payments
from ledger_export.ledger.settings import LedgerSettings
from ledger_export.ledger.vouchers import build_ledger
from ledger_export.outputs.base import RunData
from ledger_export.outputs.bundle import OutputNames, RunSettings
from ledger_export.outputs.invoice_payments_csv import InvoicePaymentsCsv, invoice_payments_csv
from ledger_export.outputs.invoice_payments_table import FROM_SUMMARY, HEADERS
from ledger_export.sie.reader import read_sie
from support.audit_pack import COMPANY, DATA, DOCUMENTS, GENERATED, render
from support.records import payout, period_data

LEDGER = build_ledger(DATA, LedgerSettings(receivable_account=1689))
PAYMENTS = invoice_payments(LEDGER, DATA)


def read_csv(data: bytes) -> list[list[str]]:
    assert data.startswith(b"\xef\xbb\xbf")  # the BOM that makes Excel read UTF-8
    text = data[3:].decode("utf-8")
    assert "\r\n" in text and "\n" not in text.replace("\r\n", "")
    return list(csv.reader(io.StringIO(text, newline=""), delimiter=";"))


def amount(text: str) -> Decimal:
    assert "." not in text and " " not in text  # decimal comma, no grouping
    return Decimal(text.replace(",", "."))


def test_the_csv_read_back_holds_every_payment_and_adds_up_to_the_credit():
    rows = read_csv(invoice_payments_csv(PAYMENTS))
    assert rows[0] == list(HEADERS) and "Amount" in rows[0]
    body = [dict(zip(rows[0], r)) for r in rows[1:]]
    assert [amount(r["Amount"]) for r in body] == [p.amount for p in PAYMENTS.payments]
    assert sum(amount(r["Amount"]) for r in body) == -LEDGER.account_totals()[1689] == PAYMENTS.credited
    assert {r["Account"] for r in body} == {"1689"}
    assert [r["Voucher date"] for r in body] == [p.voucher_date.isoformat() for p in PAYMENTS.payments]
    assert [r["Invoice number"] for r in body] == ["'@SUM(A1)", "INV-2", "INV-5", "INV-7"]


def test_a_refund_keeps_its_minus_and_texts_that_look_like_formulas_are_guarded():
    rows = read_csv(invoice_payments_csv(PAYMENTS))
    body = [dict(zip(rows[0], r)) for r in rows[1:]]
    refund = next(r for r in body if r["Invoice number"] == "INV-7")
    assert refund["Amount"] == "-500,00" and refund["Payout reference"] == "'-5"
    assert next(r for r in body if r["Invoice number"] == "INV-2")["Reference number"] == "'\t=cmd"
    for r in body:
        for column, value in r.items():
            if column != "Amount":
                assert not value.startswith(("=", "+", "-", "@", "\t", "\r")), (column, value)


def test_a_payout_without_lines_explains_its_empty_invoice_number():
    summary = {"capital": {"count": 1, "amount": Decimal("10.00"), "vat_amount": ZERO,
                           "total_amount": Decimal("10.00")}}
    data = period_data([payout("capital", [], amount=10, vat=0, summary=summary)], [])
    rows = read_csv(invoice_payments_csv(invoice_payments(build_ledger(data, LedgerSettings()), data)))
    assert dict(zip(rows[0], rows[1]))["Note"] == FROM_SUMMARY and rows[1][0] == ""


def test_the_output_names_its_file_by_the_period_and_the_runs_suffix():
    settings = RunSettings(company=COMPANY, ksumma=False, mapping_rows=(), config_sha256="ee" * 32)
    run = RunData(settings=settings, data=DATA, ledger=LEDGER, documents=DOCUMENTS, snapshot={},
                  generated=GENERATED, names=OutputNames(DATA.period, "-run3"))
    assert InvoicePaymentsCsv().render(run) == {"invoice-payments-2025-06-run3.csv": invoice_payments_csv(PAYMENTS)}


@pytest.fixture(scope="module")
def workbook():
    return openpyxl.load_workbook(io.BytesIO(render(ledger=LEDGER)))


def test_the_sheet_read_back_holds_every_payment_a_total_and_its_check(workbook):
    ws = workbook["Invoice payments"]
    rows = list(ws.iter_rows(values_only=True))
    assert rows[0] == HEADERS
    n = len(PAYMENTS.payments)
    col = HEADERS.index("Amount")
    assert [Decimal(str(r[col])).quantize(Decimal("0.01")) for r in rows[1:1 + n]] == [
        p.amount for p in PAYMENTS.payments]
    assert [r[0] for r in rows[1:1 + n]] == ["@SUM(A1)", "INV-2", "INV-5", "INV-7"]
    assert ws.cell(2, 1).quotePrefix and ws.cell(2, 1).data_type == "s"  # text, never a formula
    total = rows[1 + n]
    assert total[0] == "Total" and Decimal(str(total[col])) == PAYMENTS.credited
    assert ws.cell(2 + n, col + 1).number_format == "#,##0.00"
    credited, agrees = rows[2 + n], rows[3 + n]
    assert credited[0] == "Credited to 1689 (Vouchers)" and credited[col].startswith("=ROUND(SUMIFS(")
    assert agrees[0] == "Total = credited" and agrees[col].startswith("=IF(AND(")
    assert ws.auto_filter.ref == f"A1:M{1 + n}"  # the filter leaves the total out


def test_the_sheet_comes_right_after_the_trial_balance(workbook):
    names = workbook.sheetnames
    assert names.index("Invoice payments") == names.index("Trial balance") + 1


def _soffice() -> str:
    found = shutil.which("soffice") or shutil.which("libreoffice")
    if found is None:
        pytest.skip("LibreOffice is not installed here; .ci/run installs it where it can")
    return found


def _convert(tmp_path: Path, source: Path, *extra: str) -> openpyxl.Workbook:
    out = tmp_path / "out"
    command = [_soffice(), f"-env:UserInstallation={(tmp_path / 'profile').as_uri()}", "--headless", "--norestore",
               *extra, "--convert-to", "xlsx", "--outdir", str(out), str(source)]
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        output, _ = proc.communicate(timeout=180)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate()
        pytest.fail("LibreOffice did not finish within 180 s")
    result = out / f"{source.stem}.xlsx"
    assert proc.returncode == 0 and result.exists(), output.decode(errors="replace")
    return openpyxl.load_workbook(result, data_only=True)


def test_a_swedish_spreadsheet_reads_every_amount_as_a_number(tmp_path):
    source = tmp_path / "invoice-payments-2025-06.csv"
    source.write_bytes(invoice_payments_csv(PAYMENTS))
    # Field separator ;, text quote ", UTF-8 (76), from line 1, Swedish (1053): as a double-click in Sweden opens it.
    ws = _convert(tmp_path, source, "--infilter=CSV:59,34,76,1,,1053").active
    rows = list(ws.iter_rows(values_only=True))
    col = HEADERS.index("Amount")
    assert rows[0] == HEADERS
    amounts = [r[col] for r in rows[1:]]
    assert all(isinstance(a, (int, float)) for a in amounts), amounts
    assert sum(Decimal(str(a)) for a in amounts) == PAYMENTS.credited
    assert [r[0] for r in rows[1:]] == ["'@SUM(A1)", "INV-2", "INV-5", "INV-7"]  # shown, not evaluated


def test_libreoffice_recalculates_the_check_to_yes(tmp_path):
    source = tmp_path / "ledger.xlsx"
    source.write_bytes(render(ledger=LEDGER))
    rows = list(_convert(tmp_path, source)["Invoice payments"].iter_rows(values_only=True))
    n, col = len(PAYMENTS.payments), HEADERS.index("Amount")
    assert Decimal(str(rows[2 + n][col])).quantize(Decimal("0.01")) == PAYMENTS.credited
    assert rows[3 + n][col] == "yes"


def test_an_export_publishes_the_csv_and_it_adds_up_to_the_si_files_credit(demo_period, tmp_path):
    path = tmp_path / "c.toml"
    path.write_text((SAMPLES / "ledger-export.toml").read_text(encoding="utf-8") +
                    "\n[ledger]\nreceivable_account = 1689\n", encoding="utf-8")
    cfg = config.load(path, overrides={"output.folder": str(tmp_path / "out")})
    export(cfg, None, ExportOptions(generated=date(2025, 7, 1), from_raw=demo_period / "raw"))
    folder = tmp_path / "out" / "2025-06"
    rows = read_csv((folder / "invoice-payments-2025-06.csv").read_bytes())
    sie = read_sie((folder / "ledger-2025-06.si").read_bytes(), "ledger-2025-06.si")
    on_1689 = sum((t.amount for v in sie.vouchers for t in v.transactions if t.account == "1689"), ZERO)
    col = rows[0].index("Amount")
    assert sum(amount(r[col]) for r in rows[1:]) == -on_1689 > 0
    assert len(rows) > 100
