"""One shape for every output: each turns the run's data into named files, looked up by name in one registry."""

from __future__ import annotations

import hashlib
import io
import json
import socket
from dataclasses import replace
from pathlib import Path

import openpyxl
import pytest

from support.audit_pack import COMPANY, DATA, DOCUMENTS, GENERATED, LEDGER, MAPPING_ROWS, PAYOUTS
from ledger_export.amili.documents import IN_PLACE, DocumentRecord
from ledger_export.core.errors import OutputError
from ledger_export.core.files import StagedFile
from ledger_export.outputs import registry
from ledger_export.outputs.base import RunData
from ledger_export.outputs.bundle import OutputNames, RunSettings
from ledger_export.outputs.listing import voucher_listing
from ledger_export.outputs.registry import UnknownOutputError, choose, output_names, render_outputs
from ledger_export.sie.reader import read_sie

SETTINGS = RunSettings(company=COMPANY, ksumma=False, mapping_rows=MAPPING_ROWS, config_sha256="ee" * 32)
NAMES = OutputNames(DATA.period)
BUILT_IN = ("raw", "self-invoices", "sie", "workbook", "vouchers", "invoice-payments", "manifest")
NEW_PDF = StagedFile(Path("/nonexistent/staging/self-invoices/new.pdf"), 2345, "12" * 32)
SNAPSHOT = {"finance--payouts.json": StagedFile(Path("/nonexistent/staging/snapshot/p.json"), 10, "34" * 32),
            "snapshot.json": b"{}\n"}


def run_data(**changes) -> RunData:
    documents = (*DOCUMENTS, DocumentRecord(PAYOUTS[0].id, "new.pdf", 2345, "12" * 32, IN_PLACE, fetched=True,
                                            staged=NEW_PDF))
    values = dict(settings=SETTINGS, data=DATA, ledger=LEDGER, documents=documents, snapshot=SNAPSHOT,
                  generated=GENERATED, names=NAMES, run_id=7, mode="normal")
    values.update(changes)
    return RunData(**values)


@pytest.fixture
def no_plugins(monkeypatch):
    """Whatever the test machine has installed, only the built-in outputs."""
    monkeypatch.setattr(registry, "entry_points", lambda group: ())


def test_every_built_in_output_is_chosen_by_default_in_render_order(no_plugins):
    assert output_names() == BUILT_IN
    assert tuple(o.name for o in choose()) == BUILT_IN


def test_a_choice_keeps_the_raw_snapshot_and_the_manifest_and_the_render_order(no_plugins):
    assert [o.name for o in choose(["workbook", "sie"])] == ["raw", "sie", "workbook", "manifest"]
    assert [o.name for o in choose(["vouchers", " ", "vouchers"])] == ["raw", "vouchers", "manifest"]
    assert [o.name for o in choose(["raw"])] == ["raw", "manifest"]


def test_an_unknown_output_is_a_usage_error_listing_the_valid_names(no_plugins):
    with pytest.raises(UnknownOutputError) as error:
        choose(["sie", "pdf", "xls"])
    assert error.value.exit_code == 2
    assert str(error.value) == ("unknown output 'pdf', 'xls': the outputs are "
                                "raw, self-invoices, sie, workbook, vouchers, invoice-payments, manifest")
    with pytest.raises(UnknownOutputError, match="^no output named: the outputs are raw, "):
        choose(["", " "])  # --outputs ""


def test_each_output_names_its_own_files_and_does_no_io(no_plugins, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)

    def no_network(*args, **kwargs):
        raise AssertionError("an output opened a socket")

    monkeypatch.setattr(socket, "socket", no_network)
    run = run_data()
    files = {o.name: dict(o.render(run)) for o in choose()}
    assert files["raw"] == {"raw/finance--payouts.json": SNAPSHOT["finance--payouts.json"],
                            "raw/snapshot.json": b"{}\n"}
    # Only the PDF this run downloaded: a kept one is not published again, only listed.
    assert files["self-invoices"] == {"self-invoices/new.pdf": NEW_PDF}
    assert list(files["sie"]) == ["ledger-2025-06.si"] and list(files["workbook"]) == ["ledger-2025-06.xlsx"]
    assert list(files["vouchers"]) == ["ledger-2025-06-vouchers.txt"]
    assert list(files["invoice-payments"]) == ["invoice-payments-2025-06.csv"]
    assert list(files["manifest"]) == ["manifest.json"]
    assert list(tmp_path.iterdir()) == []  # nothing written, no staged file read (they do not exist)


def test_the_sie_file_is_the_writers_and_reads_back(no_plugins):
    (sie,) = choose(["sie"])[1:2]
    data = sie.render(run_data())["ledger-2025-06.si"]
    assert len(read_sie(data, "ledger-2025-06.si").vouchers) == len(LEDGER.vouchers)


def test_the_sie_file_that_fails_our_reader_is_refused(no_plugins, monkeypatch):
    import ledger_export.outputs.sie_file as sie_file

    monkeypatch.setattr(sie_file, "render_sie", lambda *a, **k: b"#FLAGGA 0\r\n#VER\r\n")
    with pytest.raises(OutputError, match="does not validate, so nothing was written"):
        sie_file.SieFile().render(run_data())


def test_the_voucher_listing_is_the_dry_runs_text_under_the_runs_own_name(no_plugins):
    (listing,) = [o for o in choose(["vouchers"]) if o.name == "vouchers"]
    again = replace(run_data(), names=OutputNames(DATA.period, "-run3"))
    data = listing.render(again)["ledger-2025-06-run3-vouchers.txt"]
    assert data == (voucher_listing(LEDGER) + "\n").encode("utf-8")
    assert data == listing.render(again)["ledger-2025-06-run3-vouchers.txt"]  # same data, same bytes
    assert data.decode("utf-8").splitlines()[0] == f"Vouchers ({len(LEDGER.vouchers)}):"


def _checksums(workbook: bytes) -> dict[str, str]:
    rows = list(openpyxl.load_workbook(io.BytesIO(workbook))["Summary"].iter_rows(values_only=True))
    start = next(i for i, r in enumerate(rows) if r[0] == "Checksums") + 2
    return {r[0]: r[1] for r in rows[start:] if r[0]}


def test_later_outputs_see_what_earlier_ones_made(no_plugins):
    files = render_outputs(run_data(), choose())
    assert list(files)[-1] == "manifest.json"  # rendered last, published last
    sie_sha = hashlib.sha256(files["ledger-2025-06.si"]).hexdigest()
    assert _checksums(files["ledger-2025-06.xlsx"]) == {"ledger-2025-06.si": sie_sha,
                                                       "self-invoices/self_invoice_2025_164.pdf": "ab" * 32,
                                                       "self-invoices/new.pdf": "12" * 32}
    listed = {e["name"]: (e["size"], e["sha256"]) for e in json.loads(files["manifest.json"])["outputs"]}
    for name, content in files.items():
        if name != "manifest.json":
            digest = ((len(content), hashlib.sha256(content).hexdigest()) if isinstance(content, bytes)
                      else (content.size, content.sha256))
            assert listed.pop(name) == digest
    # Besides what this run made: the self-invoice an earlier run published and this one keeps.
    assert listed == {"self-invoices/self_invoice_2025_164.pdf": (1234, "ab" * 32)}


def test_without_the_sie_file_the_workbook_shows_no_sie_checksum(no_plugins):
    files = render_outputs(run_data(), choose(["workbook"]))
    assert "ledger-2025-06.si" not in files
    assert "ledger-2025-06.si" not in _checksums(files["ledger-2025-06.xlsx"])


class _Gives:
    def __init__(self, files):
        self.name, self.files = "odd", files

    def render(self, run):
        return self.files


@pytest.mark.parametrize("files, problem", [
    ({"../escape.txt": b"x"}, "outside the period folder"),
    ({"/etc/passwd": b"x"}, "outside the period folder"),
    ({"a//b.txt": b"x"}, "outside the period folder"),
    ({"": b"x"}, "outside the period folder"),
    ({"ledger-2025-06.si": b"x"}, "another output made"),
    ({"fine.txt": "text, not bytes"}, "gives str"),
])
def test_an_output_cannot_name_a_file_outside_its_folder_or_another_outputs(no_plugins, files, problem):
    outputs = (*choose(["sie"])[:2], _Gives(files))
    with pytest.raises(OutputError, match=problem) as error:
        render_outputs(run_data(), outputs)
    assert "output 'odd'" in str(error.value)
