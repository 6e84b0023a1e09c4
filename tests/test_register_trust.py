"""The register is the single truth of what was booked: it cannot vanish silently, belongs to one company,
settles runs stopped half-way, and can be rebuilt from the manifests; nothing published is replaced."""

from __future__ import annotations

import hashlib
import os
import sqlite3
from datetime import date, datetime, timezone
from pathlib import Path

import pytest

from ledger_export import cli
from ledger_export.jobs import config as config_module
from ledger_export.amili.auth import StaticToken
from ledger_export.jobs.demo import run_demo
from ledger_export.jobs.export import ExportOptions, export
from ledger_export.jobs.fetch import fetch_snapshot
from ledger_export.core.lock import LOCK_FILE
from ledger_export.core.resources import SAMPLES
from ledger_export.core.period import month
from ledger_export.jobs.register import REGISTER_FILE, Owner, Register, RegisterMissingError
from ledger_export.jobs.register_check import AlreadyExportedError, RegisterError, Run
from ledger_export.jobs.register_rebuild import rebuild, show

JUNE = month("2025-06")
FIXED = ExportOptions(generated=date(2025, 7, 1))
CREDITOR = "686e6ed854377058c2dd10bd"
ORGNR = "556677-8899"
JULY_2 = datetime(2025, 7, 2, 9, 30, tzinfo=timezone.utc)


def config(sandbox, out: Path, **overrides):
    return config_module.load(SAMPLES / "ledger-export.toml",
                              overrides={"amili.base_url": sandbox.base_url, "output.folder": str(out), **overrides})


def run(sandbox, out: Path, options: ExportOptions = FIXED, **overrides):
    return export(config(sandbox, out, **overrides), JUNE, options, tokens=StaticToken(sandbox.api_key))


def tree(root: Path) -> dict[str, str]:
    """Every file under ``root`` (links included, not followed) with its SHA-256."""
    return {p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest() if p.is_file() else "link"
            for p in sorted(root.rglob("*")) if p.is_file() or p.is_symlink()}


def test_the_register_file_name_is_pinned(sandbox, tmp_path):
    # Renaming it in a new version would hide the old register and book everything again after an upgrade.
    assert REGISTER_FILE == "ledger-export-register.sqlite"
    run(sandbox, tmp_path)
    assert (tmp_path / "ledger-export-register.sqlite").is_file()


@pytest.mark.parametrize("damage", ["deleted", "truncated"])
@pytest.mark.parametrize("dry_run", [False, True])
def test_a_lost_register_is_refused_not_silently_started_afresh(sandbox, tmp_path, damage, dry_run):
    run(sandbox, tmp_path)
    register = tmp_path / REGISTER_FILE
    if damage == "deleted":
        register.unlink()
    else:
        register.write_bytes(b"")  # a failed copy, a sync conflict
    before = tree(tmp_path)
    with pytest.raises(RegisterMissingError) as refused:
        run(sandbox, tmp_path, ExportOptions(generated=date(2025, 7, 1), dry_run=dry_run))
    message = str(refused.value)
    assert "\n" not in message and refused.value.exit_code == 1
    assert f"{'is missing' if damage == 'deleted' else 'is empty'}, but {tmp_path} holds exported periods (2025-06)" \
           in message
    assert f"ledger-export register rebuild --out {tmp_path}" in message
    assert tree(tmp_path) == before  # the imported .si was not written again


def test_rebuild_from_the_manifests_restores_what_was_booked(sandbox, tmp_path, capsys):
    run(sandbox, tmp_path)
    run(sandbox, tmp_path, ExportOptions(generated=date(2025, 7, 1), force=True))
    with Register.open(tmp_path) as register:
        before = [(e.payout_id, e.etag, e.total_amount, e.file_name) for r in register.runs()
                  for e in register.payouts_of(r.id)]
    (tmp_path / REGISTER_FILE).unlink()

    result = rebuild(tmp_path, Owner(CREDITOR, ORGNR))
    assert (result.runs, result.payouts, result.periods, result.notes) == (2, 13 + 13, ("2025-06",), ())
    with Register.open(tmp_path, owner=Owner(CREDITOR, ORGNR)) as register:
        after = [(e.payout_id, e.etag, e.total_amount, e.file_name) for r in register.runs()
                 for e in register.payouts_of(r.id)]
        assert [(r.period, r.mode, r.status) for r in register.runs()] == [("2025-06", "rebuilt", "exported")] * 2
    assert sorted(after) == sorted(before)
    with pytest.raises(AlreadyExportedError):
        run(sandbox, tmp_path)
    assert run(sandbox, tmp_path, ExportOptions(generated=date(2025, 7, 1), only_new=True)).ledger is None

    # Through the CLI: a register that holds something is never replaced.
    assert cli.main(["register", "rebuild", "--out", str(tmp_path)]) == 1
    assert "exists and is not empty: rebuild only replaces a missing or empty register" in capsys.readouterr().err


def test_rebuild_refuses_manifests_of_another_creditor(sandbox, tmp_path):
    run(sandbox, tmp_path)
    (tmp_path / REGISTER_FILE).unlink()
    with pytest.raises(RegisterError, match=f"are of creditor {CREDITOR}"):
        rebuild(tmp_path, Owner("aaaaaaaaaaaaaaaaaaaaaaaa", ORGNR))
    assert not (tmp_path / REGISTER_FILE).exists()


def test_register_show_lists_runs_files_and_payouts(sandbox, tmp_path, capsys):
    run(sandbox, tmp_path)
    assert cli.main(["register", "show", "--out", str(tmp_path), "--payouts"]) == 0
    out = capsys.readouterr().out
    assert f"creditor {CREDITOR}, orgnr {ORGNR}" in out
    assert "run 1  2025-06  normal  exported" in out and "13 payout(s)  1216169.88 SEK" in out
    assert "file 2025-06/ledger-2025-06.si" in out and "file 2025-06/manifest.json" in out
    assert out.count("    payout ") == 13


@pytest.mark.parametrize("key, value, setting", [("amili.creditor", "aaaaaaaaaaaaaaaaaaaaaaaa", "[amili] creditor"),
                                                 ("company.orgnr", "556036-0793", "[company] orgnr")])
def test_a_register_refuses_another_company_or_creditor(sandbox, tmp_path, key, value, setting):
    run(sandbox, tmp_path)
    before = tree(tmp_path)
    with pytest.raises(RegisterError, match=f"belongs to .* not {value} \\({setting.replace('[', '.').replace(']', '.')}"
                                            f" of this configuration\\)") as refused:
        run(sandbox, tmp_path, **{key: value})
    assert "\n" not in str(refused.value)
    assert tree(tmp_path) == before


def test_the_output_folder_in_the_configuration_is_next_to_the_file_not_the_working_folder(tmp_path, monkeypatch):
    books = tmp_path / "books"
    books.mkdir()
    (books / "ledger-export.toml").write_text('[output]\nfolder = "out"\n', encoding="utf-8")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    assert Path(config_module.load(books / "ledger-export.toml").output.folder) == books / "out"
    # --out on the command line is the user's own path, from where they stand.
    assert config_module.load(books / "ledger-export.toml", overrides={"output.folder": "mine"}).output.folder == "mine"


def test_the_demo_never_touches_real_books(sandbox, tmp_path):
    run(sandbox, tmp_path)
    before = tree(tmp_path)
    with pytest.raises(RegisterError, match="holds real books: the demo writes only into a folder of its own"):
        run_demo(tmp_path)
    assert tree(tmp_path) == before
    with Register.open(tmp_path) as register:
        assert [r.mode for r in register.runs()] == ["normal"]  # no --force run added to the real register


def test_real_books_are_not_written_into_the_demos_folder(sandbox, tmp_path):
    run_demo(tmp_path)
    with pytest.raises(RegisterError, match="is the demo's register"):
        run(sandbox, tmp_path, ExportOptions(generated=date(2025, 7, 1), only_new=True))


def test_the_demo_writes_into_its_own_folder_by_default(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert cli.main(["demo", "-q"]) == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["demo"]
    assert (tmp_path / "demo" / "2025-06" / "ledger-2025-06.si").is_file()


def _begin(root: Path, names: dict[str, bytes], manifest: str) -> tuple[int, list]:
    """A run noted as pending with these files, as export does it just before publishing."""
    from ledger_export.amili.models import Payout
    import simplejson

    items = simplejson.loads((SAMPLES / "amili" / "finance--payouts.json").read_text("utf-8"), use_decimal=True)
    june = [p for p in map(Payout.from_api, items) if p.payout_date and p.payout_date.month == 6][:3]
    files = {n: (len(b), hashlib.sha256(b).hexdigest()) for n, b in names.items()}
    with Register.open(root) as register:
        return register.begin(Run("2025-06", "normal", JULY_2), june, sie="2025-06/a.si", files=files,
                              manifest=manifest), june


def test_a_run_stopped_after_publishing_is_settled_as_exported(tmp_path):
    names = {"2025-06/a.si": b"sie", "2025-06/manifest.json": b"{}"}
    run_id, june = _begin(tmp_path, names, "2025-06/manifest.json")
    for name, data in names.items():  # published whole, then killed before the register noted it
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_bytes(data)
    with Register.open(tmp_path) as register:
        assert [(s.run.id, s.status) for s in register.settled] == [(run_id, "exported")]
        assert [r.status for r in register.runs()] == ["exported"]
        assert register.check(june).new == ()  # booked: never again
        assert "its files are complete, so it is now recorded as exported" in register.settled[0].describe()
    assert sorted(tree(tmp_path)) == sorted(["2025-06/a.si", "2025-06/manifest.json", LOCK_FILE, REGISTER_FILE])


def test_a_run_stopped_half_way_through_publishing_is_taken_back_and_abandoned(tmp_path):
    names = {"2025-06/a.si": b"sie", "2025-06/raw/x.json": b"[]", "2025-06/manifest.json": b"{}"}
    _, june = _begin(tmp_path, names, "2025-06/manifest.json")
    (tmp_path / "2025-06" / "raw").mkdir(parents=True)
    (tmp_path / "2025-06" / "a.si").write_bytes(b"sie")          # placed before the kill
    (tmp_path / "2025-06" / "raw" / "x.json").write_bytes(b"[]")
    (tmp_path / "2025-06" / "b.si").write_bytes(b"someone else's")  # not the run's: left alone
    (tmp_path / ".staging-dead").mkdir()
    with Register.open(tmp_path) as register:
        assert [s.status for s in register.settled] == ["abandoned"]
        assert register.settled[0].removed == ("2025-06/a.si", "2025-06/raw/x.json")
        assert register.check(june).new == tuple(june)  # not booked: the next run books them
        assert register.runs()[0].status == "abandoned"
    # The killed run's staging went too.
    assert sorted(tree(tmp_path)) == sorted(["2025-06/b.si", LOCK_FILE, REGISTER_FILE])


def test_a_version_1_register_is_brought_up_to_date_and_keeps_what_was_booked(sandbox, tmp_path):
    from ledger_export.jobs.register import _PAYOUTS

    db = sqlite3.connect(tmp_path / REGISTER_FILE)
    db.executescript(f"""
        CREATE TABLE runs (id INTEGER PRIMARY KEY, period TEXT NOT NULL, mode TEXT NOT NULL
            CHECK (mode IN ('normal', 'only-new', 'force')), status TEXT NOT NULL
            CHECK (status IN ('exported', 'nothing new')), exported_at TEXT NOT NULL, created_mark TEXT);
        {_PAYOUTS}
        CREATE INDEX runs_by_period ON runs (period, id);
        PRAGMA user_version = 1;""")
    first = run(sandbox, tmp_path / "scratch")  # only to get the payouts as Amili has them
    payout = first.data.payouts[0]
    db.execute("INSERT INTO runs VALUES (1, '2025-06', 'normal', 'exported', '2025-07-02T09:30:00+00:00', NULL)")
    db.execute("INSERT INTO exported_payouts VALUES (?, 1, ?, ?, ?, ?, '2025-06', '2025-06/ledger-2025-06.si', ?, "
               "'2025-07-02T09:30:00+00:00')", (payout.id, payout.etag, payout.payout_date.isoformat(),
                                                 payout.payout_reference, str(payout.total_amount), "0" * 64))
    db.commit()
    db.close()
    with pytest.raises(AlreadyExportedError, match=f"1 payout of this run was exported before"):
        run(sandbox, tmp_path)
    with Register.open(tmp_path) as register:
        assert register.owner() == {"creditor": CREDITOR, "orgnr": ORGNR, "purpose": "books"}
        assert [r.status for r in register.runs()] == ["exported"]
    assert sqlite3.connect(tmp_path / REGISTER_FILE).execute("PRAGMA user_version").fetchone()[0] == 3


def test_a_changed_amount_is_named_as_an_error_in_every_mode(sandbox, tmp_path):
    first = run(sandbox, tmp_path)
    target = first.data.payouts[3]
    june = {"$gte": datetime(2025, 6, 1, tzinfo=timezone.utc), "$lt": datetime(2025, 7, 1, tzinfo=timezone.utc)}
    changed = sandbox.db["finance--payouts"].update_one(
        {"payout_reference": target.payout_reference, "finance_category": target.finance_category,
         "payout_date": june},
        {"$set": {"amount": 1.0, "vat_amount": 0.0, "total_amount": 1.0, "_etag": "changed"}})
    assert changed.modified_count == 1
    # --only-new: nothing new, and not silent about it.
    quiet = run(sandbox, tmp_path, ExportOptions(generated=date(2025, 7, 1), only_new=True))
    assert quiet.ledger is None
    [finding] = quiet.drift
    assert finding.severity == "error" and finding.payout_id == target.id
    assert f"total_amount {target.total_amount:.2f} -> 1.00" in finding.message
    assert f"ERROR: payout {target.id}" in quiet.describe() and "Nothing new to export" in quiet.describe()
    # The exit-4 refusal names it too.
    with pytest.raises(AlreadyExportedError) as refused:
        run(sandbox, tmp_path)
    assert f"ERROR: payout {target.id}" in str(refused.value) and "total_amount" in str(refused.value)


def test_fetch_never_touches_an_exported_periods_files(sandbox, tmp_path):
    run(sandbox, tmp_path)
    before = tree(tmp_path / "2025-06")
    result = fetch_snapshot(config(sandbox, tmp_path), JUNE, tokens=StaticToken(sandbox.api_key))
    assert result.folder == tmp_path / "2025-06" / "raw-2"
    after = tree(tmp_path / "2025-06")
    assert {k: v for k, v in after.items() if k in before} == before
    assert sorted(set(after) - set(before)) == [f"raw-2/{n}" for n in (
        "creditor--payments.json", "finance--payout-specifications.json", "finance--payouts.json", "snapshot.json")]


def test_a_symlink_planted_as_the_lock_is_refused_and_its_target_untouched(sandbox, tmp_path, capsys):
    victim = tmp_path.parent / f"{tmp_path.name}-victim.txt"
    victim.write_text("the bookkeeper's notes")
    root = tmp_path / "out"
    root.mkdir()
    (root / LOCK_FILE).symlink_to(victim)
    code = cli.main(["export", "--period", "2025-06", "--config", str(SAMPLES / "ledger-export.toml"),
                     "--base-url", sandbox.base_url, "--out", str(root)])
    err = capsys.readouterr().err
    assert code == 1 and err.count("\n") == 1 and "is a symbolic link: refusing to use it as the lock file" in err
    assert victim.read_text() == "the bookkeeper's notes"


def test_an_out_that_is_a_file_is_exit_1_not_another_run(tmp_path, capsys):
    (tmp_path / "out").write_text("x")
    code = cli.main(["export", "--period", "2025-06", "--config", str(SAMPLES / "ledger-export.toml"),
                     "--out", str(tmp_path / "out")])
    err = capsys.readouterr().err
    assert code == 1 and err.count("\n") == 1 and "cannot use" in err and "another" not in err


def test_staging_left_by_a_killed_run_is_cleaned_at_the_next_start(sandbox, tmp_path):
    (tmp_path / ".staging-killed" / "raw").mkdir(parents=True)
    (tmp_path / ".staging-killed" / "raw" / "x.json").write_bytes(b"[]")
    run(sandbox, tmp_path)
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".staging-")]


def test_from_raw_into_another_folder_publishes_the_self_invoices_too(sandbox, tmp_path):
    run(sandbox, tmp_path / "first")
    result = export(config(sandbox, tmp_path / "second"), None,
                    ExportOptions(generated=date(2025, 7, 1), from_raw=tmp_path / "first" / "2025-06"))
    first, second = tree(tmp_path / "first" / "2025-06"), tree(tmp_path / "second" / "2025-06")
    pdfs = {k: v for k, v in first.items() if k.startswith("self-invoices/")}
    assert len(pdfs) == 4 and {k: second[k] for k in pdfs} == pdfs
    assert first["ledger-2025-06.si"] == second["ledger-2025-06.si"]
    assert sum(1 for d in result.documents if d.fetched) == 4


def test_a_publish_that_fails_and_cannot_put_everything_back_is_taken_back_at_once(sandbox, tmp_path, monkeypatch):
    from ledger_export.core import files

    real = files.rename_noreplace

    def fail_at_the_manifest(src, dst):
        if dst.name == "manifest.json":
            raise OSError(28, "No space left on device", str(dst))
        real(src, dst)

    monkeypatch.setattr(files, "rename_noreplace", fail_at_the_manifest)
    monkeypatch.setattr(files._Moves, "undo", lambda self: None)  # putting back failed too (e.g. the disk went away)
    with pytest.raises(Exception, match="No space left on device"):
        run(sandbox, tmp_path)
    monkeypatch.undo()
    # The run's own files were taken back by settling it at once; nothing half-published stays.
    assert not [p for p in (tmp_path / "2025-06").rglob("*") if p.is_file()]
    with Register.open(tmp_path) as register:
        assert [r.status for r in register.runs()] == ["abandoned"] and register.settled == ()
