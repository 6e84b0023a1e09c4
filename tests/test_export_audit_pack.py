"""The export's full output set: SIE file, workbook, self-invoices, manifest, raw snapshot."""

import hashlib
import json
import shutil
from datetime import date

import openpyxl
import pytest

from ledger_export.jobs.export import ExportOptions, ReconciliationFailed, export
from support.export_run import run, sample_config

FIXED = ExportOptions(generated=date(2025, 7, 1))
OUTPUTS = ("ledger-2025-06.si", "ledger-2025-06.xlsx", "ledger-2025-06-vouchers.txt",
           "invoice-payments-2025-06.csv", "manifest.json")


def test_export_writes_the_whole_audit_pack_and_the_manifest_vouches_for_it(sandbox, tmp_path):
    result = run(sandbox, tmp_path, FIXED)
    folder = tmp_path / "2025-06"
    assert sorted(p.name for p in folder.iterdir()) == sorted((*OUTPUTS, "raw", "self-invoices"))
    manifest = json.loads((folder / "manifest.json").read_text())
    listed = {o["name"]: o for o in manifest["outputs"]}
    for name in ("ledger-2025-06.si", "ledger-2025-06.xlsx", "ledger-2025-06-vouchers.txt"):
        data = (folder / name).read_bytes()
        assert listed[name]["sha256"] == hashlib.sha256(data).hexdigest() and listed[name]["size"] == len(data)
    pdfs = sorted(p.name for p in (folder / "self-invoices").iterdir())
    assert len(pdfs) == 4 and all(p.endswith(".pdf") for p in pdfs)
    for pdf in pdfs:
        entry = listed[f"self-invoices/{pdf}"]
        assert entry["sha256"] == hashlib.sha256((folder / "self-invoices" / pdf).read_bytes()).hexdigest()
    # Each self-invoice is named in its voucher's text, so it can be attached in Fortnox/Visma.
    texts = (folder / "ledger-2025-06.si").read_bytes().decode("cp437")
    assert all(pdf in texts for pdf in pdfs)
    assert {d.file_name for d in result.documents} == set(pdfs)


def test_offline_rerun_in_another_folder_gives_the_same_bytes(sandbox, tmp_path):
    run(sandbox, tmp_path / "online", FIXED)
    offline = sample_config("http://127.0.0.1:9", tmp_path / "offline")
    export(offline, None, ExportOptions(generated=date(2025, 7, 1),
                                        from_raw=tmp_path / "online" / "2025-06" / "raw"))
    for name in OUTPUTS:
        assert (tmp_path / "offline/2025-06" / name).read_bytes() == (tmp_path / "online/2025-06" / name).read_bytes()


def test_second_run_downloads_nothing_and_writes_identical_bytes(sandbox, tmp_path):
    run(sandbox, tmp_path, FIXED)
    first = {n: (tmp_path / "2025-06" / n).read_bytes() for n in OUTPUTS}
    media_before = sum(1 for r in sandbox.requests if r.path.startswith("/media/"))
    result = run(sandbox, tmp_path, ExportOptions(generated=date(2025, 7, 1), force=True))
    assert sum(1 for r in sandbox.requests if r.path.startswith("/media/")) == media_before == 4
    assert not any(d.fetched for d in result.documents)
    assert {n: (tmp_path / "2025-06" / n).read_bytes() for n in OUTPUTS} == first


def media_requests(sandbox) -> int:
    return sum(1 for r in sandbox.requests if r.path.startswith("/media/"))


def test_self_invoices_download_with_the_lines_once_each(sandbox, tmp_path):
    result = run(sandbox, tmp_path, FIXED)
    # The fetch's own count includes the four PDFs: they went out in its round, next to
    # the lists' 7 pages (the minimum for June), and were not downloaded a second time.
    assert result.requests == 7 + 4 and media_requests(sandbox) == 4
    assert all(d.fetched and d.in_place for d in result.documents)


def test_a_self_invoice_that_differs_from_the_manifest_is_downloaded_again_under_a_name_of_its_own(sandbox,
                                                                                                  tmp_path):
    run(sandbox, tmp_path, FIXED)
    victim = sorted((tmp_path / "2025-06" / "self-invoices").iterdir())[0]
    original = victim.read_bytes()
    middle = len(original) // 2
    # Same size, still starts and ends like a PDF: only the manifest's SHA-256 can tell.
    changed = original[:middle] + bytes([original[middle] ^ 1]) + original[middle + 1:]
    victim.write_bytes(changed)
    result = run(sandbox, tmp_path, ExportOptions(generated=date(2025, 7, 1), force=True))
    assert media_requests(sandbox) == 4 + 1 and victim.read_bytes() == changed  # never written over
    [fetched] = [d for d in result.documents if d.fetched]
    assert fetched.file_name != victim.name and fetched.file_name.startswith(victim.stem + "-")
    assert (victim.parent / fetched.file_name).read_bytes() == original
    # The voucher of the new run names the file it can be attached from.
    [voucher] = [v for v in result.ledger.vouchers if v.payout_id == fetched.payout_id]
    assert fetched.file_name in voucher.text


def _drop_one_self_invoice(sandbox):
    file_id = sorted(sandbox.app.sandbox_media)[1]
    del sandbox.app.sandbox_media[file_id]
    return file_id


def test_missing_self_invoice_is_a_warning_in_summary_and_workbook(sandbox, tmp_path):
    _drop_one_self_invoice(sandbox)
    result = run(sandbox, tmp_path, FIXED)
    warnings = [f for f in result.ledger.warnings if f.check == "self-invoice"]
    assert len(warnings) == 1 and warnings[0].payout_id
    assert "self-invoice" in result.summary and "1 warning" in result.summary
    wb = openpyxl.load_workbook(tmp_path / "2025-06" / "ledger-2025-06.xlsx")
    rows = list(wb["Summary"].iter_rows(values_only=True))
    payout_row = next(r for r in rows if r[0] == warnings[0].payout_id and r[5] is not None)
    assert payout_row[5] == "warning" and warnings[0].message in payout_row[6]
    assert (warnings[0].payout_id, "self-invoice", "warning", warnings[0].message) in [r[:4] for r in rows]
    assert len(list((tmp_path / "2025-06" / "self-invoices").iterdir())) == 3


def test_missing_self_invoice_fails_under_strict_and_writes_no_books(sandbox, tmp_path):
    _drop_one_self_invoice(sandbox)
    with pytest.raises(ReconciliationFailed) as failed:
        run(sandbox, tmp_path, ExportOptions(generated=date(2025, 7, 1), strict=True))
    assert "self-invoice" in str(failed.value)
    folder = tmp_path / "2025-06"
    assert not any((folder / n).exists() for n in OUTPUTS)


def test_a_crash_while_writing_outputs_leaves_no_partial_set(sandbox, tmp_path, monkeypatch):
    import ledger_export.outputs.workbook_file as export_module

    def crash(**kwargs):
        raise RuntimeError("injected crash after the SIE file was rendered")

    monkeypatch.setattr(export_module, "render_workbook", crash)
    with pytest.raises(RuntimeError, match="injected"):
        run(sandbox, tmp_path, FIXED)
    # Nothing at all: the PDFs were downloaded into the run's staging folder, which went with it.
    assert not (tmp_path / "2025-06").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == [".ledger-export.lock", "ledger-export-register.sqlite"]
