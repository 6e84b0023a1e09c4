"""``export --outputs``: the outputs a run writes, what the register records them against, and a plugin's file."""

from __future__ import annotations

import hashlib
import json
from datetime import date
from pathlib import Path

import pytest

from ledger_export import cli
from ledger_export.amili.auth import StaticToken
from ledger_export.core.period import month
from ledger_export.core.resources import SAMPLES
from ledger_export.jobs import config as config_module
from ledger_export.jobs.export import ExportOptions, export
from ledger_export.jobs.register import REGISTER_FILE, Owner, Register
from ledger_export.jobs.register_check import AlreadyExportedError
from ledger_export.jobs.register_rebuild import rebuild

JUNE = month("2025-06")
CREDITOR = "686e6ed854377058c2dd10bd"
ORGNR = "556677-8899"


def run(sandbox, out: Path, **options):
    config = config_module.load(SAMPLES / "ledger-export.toml",
                                overrides={"amili.base_url": sandbox.base_url, "output.folder": str(out)})
    return export(config, JUNE, ExportOptions(generated=date(2025, 7, 1), **options),
                  tokens=StaticToken(sandbox.api_key))


def media_requests(sandbox) -> int:
    return sum(1 for r in sandbox.requests if r.path.startswith("/media/"))


def listed(folder: Path, manifest: str = "manifest.json") -> dict[str, tuple[int, str]]:
    doc = json.loads((folder / manifest).read_text(encoding="utf-8"))
    return {e["name"]: (e["size"], e["sha256"]) for e in doc["outputs"]}


def on_disk(folder: Path) -> dict[str, tuple[int, str]]:
    return {p.relative_to(folder).as_posix(): (p.stat().st_size, hashlib.sha256(p.read_bytes()).hexdigest())
            for p in sorted(folder.rglob("*")) if p.is_file()}


def test_by_default_every_output_is_written_and_the_manifest_vouches_for_each(sandbox, tmp_path):
    result = run(sandbox, tmp_path)
    folder = tmp_path / "2025-06"
    files = on_disk(folder)
    assert {"ledger-2025-06.si", "ledger-2025-06.xlsx", "ledger-2025-06-vouchers.txt", "manifest.json",
            "raw/snapshot.json"} <= set(files)
    assert sum(1 for name in files if name.startswith("self-invoices/")) == 4
    files.pop("manifest.json")
    assert listed(folder) == files  # every file, and nothing that is not there
    listing = (folder / "ledger-2025-06-vouchers.txt").read_text(encoding="utf-8")
    assert listing.startswith("Vouchers (13):\n") and listing.endswith("\n")
    assert [f.name for f in result.files] == ["invoice-payments-2025-06.csv", "ledger-2025-06-vouchers.txt",
                                              "ledger-2025-06.si", "ledger-2025-06.xlsx", "manifest.json", "raw"]
    with Register.open(tmp_path, read_only=True) as register:
        assert {e.file_name for p in result.data.payouts for e in register.exports_of(p.id)} == {
            "2025-06/ledger-2025-06.si"}
        assert set(register.run_files(result.run_id)) == {f"2025-06/{n}" for n in (*files, "manifest.json")}


def test_sie_and_workbook_only_download_no_pdf_and_write_just_those(sandbox, tmp_path):
    result = run(sandbox, tmp_path, outputs=("sie", "workbook"))
    folder = tmp_path / "2025-06"
    assert sorted(p.name for p in folder.iterdir()) == ["ledger-2025-06.si", "ledger-2025-06.xlsx",
                                                          "manifest.json", "raw"]
    assert media_requests(sandbox) == 0 and result.documents == ()
    assert set(listed(folder)) == {"ledger-2025-06.si", "ledger-2025-06.xlsx", "raw/creditor--payments.json",
                                   "raw/finance--payout-specifications.json", "raw/finance--payouts.json",
                                   "raw/snapshot.json"}
    assert "No SIE file" not in result.describe()
    with Register.open(tmp_path, read_only=True) as register:
        (export_,) = register.exports_of(result.data.payouts[0].id)
    assert export_.file_name == "2025-06/ledger-2025-06.si"


def test_without_the_sie_file_the_register_records_the_manifest_and_says_so(sandbox, tmp_path):
    result = run(sandbox, tmp_path, outputs=("workbook",))
    folder = tmp_path / "2025-06"
    assert not (folder / "ledger-2025-06.si").exists() and (folder / "ledger-2025-06.xlsx").exists()
    manifest_sha = hashlib.sha256((folder / "manifest.json").read_bytes()).hexdigest()
    with Register.open(tmp_path, read_only=True) as register:
        exports = {e.file_name: e.sha256 for p in result.data.payouts for e in register.exports_of(p.id)}
    assert exports == {"2025-06/manifest.json": manifest_sha}
    assert ("No SIE file was asked for (--outputs): the export register records these payouts as exported "
            "in manifest.json.") in result.describe()

    # Booked is booked, whatever file recorded it; the next run names the manifest.
    with pytest.raises(AlreadyExportedError, match="to 2025-06/manifest.json"):
        run(sandbox, tmp_path)
    # And a lost register is rebuilt from that manifest alone.
    (tmp_path / REGISTER_FILE).unlink()
    rebuilt = rebuild(tmp_path, Owner(CREDITOR, ORGNR))
    assert (rebuilt.runs, rebuilt.payouts, rebuilt.notes) == (1, 13, ())
    with Register.open(tmp_path, read_only=True) as register:
        assert register.exports_of(result.data.payouts[0].id)[0].file_name == "2025-06/manifest.json"
        assert register.exports_of(result.data.payouts[0].id)[0].sha256 == manifest_sha


def test_an_unknown_output_on_the_command_line_is_exit_2_before_anything_is_asked_or_written(sandbox, tmp_path,
                                                                                              capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)  # no ledger-export.toml here
    code = cli.main(["export", "--period", "2025-06", "--creditor", CREDITOR, "--base-url", sandbox.base_url,
                     "--out", str(tmp_path / "out"), "--outputs", "sie,pdf"])
    assert code == 2
    (line,) = capsys.readouterr().err.splitlines()
    assert line.startswith("ledger-export: error: unknown output 'pdf': the outputs are raw, self-invoices, sie, "
                           "workbook, vouchers")
    assert sandbox.requests == [] and not (tmp_path / "out").exists()
    # Before the configuration is even read: a bad creditor is not what the user hears about first.
    assert cli.main(["export", "--period", "2025-06", "--creditor", "x", "--outputs", "nope"]) == 2
    assert "unknown output 'nope'" in capsys.readouterr().err


def test_the_command_line_passes_the_chosen_outputs_on():
    args = cli.build_parser().parse_args(["export", "--period", "2025-06", "--outputs", "sie, workbook"])
    assert args.outputs == ("sie", "workbook")
    assert cli.build_parser().parse_args(["export", "--period", "2025-06"]).outputs is None
