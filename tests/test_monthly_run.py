"""Running the month safely: twice by mistake, incrementally, at the same time, or crashing."""

import os
import subprocess
import sys
from datetime import date, datetime, timezone

import pytest

from ledger_export import cli
from ledger_export.jobs.export import ExportOptions
from ledger_export.core.lock import LockedError
from ledger_export.core.resources import SAMPLES
from ledger_export.jobs.register import Register
from ledger_export.jobs.register_check import AlreadyExportedError
from support.export_run import run

JUNE = {"$gte": datetime(2025, 6, 1, tzinfo=timezone.utc), "$lt": datetime(2025, 7, 1, tzinfo=timezone.utc)}


def options(**kw):
    return ExportOptions(generated=date(2025, 7, 1), **kw)


def exports(root, payout_id):
    with Register.open(root, read_only=True) as register:
        return register.exports_of(payout_id)


def test_second_run_of_a_period_is_refused_and_changes_nothing(sandbox, tmp_path):
    first = run(sandbox, tmp_path, options())
    si = tmp_path / "2025-06" / "ledger-2025-06.si"
    before = si.stat().st_mtime_ns, si.read_bytes()
    with pytest.raises(AlreadyExportedError) as refused:
        run(sandbox, tmp_path, options())
    assert refused.value.exit_code == 4
    assert "13 payouts" in str(refused.value) and "--only-new" in str(refused.value)
    assert (si.stat().st_mtime_ns, si.read_bytes()) == before
    assert len(exports(tmp_path, first.data.payouts[0].id)) == 1


def test_only_new_with_nothing_new_writes_nothing(sandbox, tmp_path):
    run(sandbox, tmp_path, options())
    listing = sorted(p.name for p in (tmp_path / "2025-06").iterdir())
    result = run(sandbox, tmp_path, options(only_new=True))
    assert result.ledger is None and len(result.skipped) == 13
    assert "Nothing new to export" in result.describe()
    assert sorted(p.name for p in (tmp_path / "2025-06").iterdir()) == listing


def test_force_exports_again_into_files_of_its_own_and_the_register_keeps_both(sandbox, tmp_path):
    first = run(sandbox, tmp_path, options())
    imported = (tmp_path / "2025-06" / "ledger-2025-06.si").read_bytes()
    forced = run(sandbox, tmp_path, options(force=True))
    # The file the bookkeeper imported is never replaced, --force included.
    assert (tmp_path / "2025-06" / "ledger-2025-06.si").read_bytes() == imported
    assert (tmp_path / "2025-06" / "ledger-2025-06-run2.si").read_bytes() == imported  # same input, same books
    assert forced.run_id == 2
    both = exports(tmp_path, first.data.payouts[0].id)
    assert [e.file_name for e in both] == ["2025-06/ledger-2025-06.si", "2025-06/ledger-2025-06-run2.si"]


def test_drift_after_amili_changed_an_exported_payout_is_reported(sandbox, tmp_path):
    first = run(sandbox, tmp_path, options())
    target = first.data.payouts[3]
    sandbox.db["finance--payouts"].update_one({"payout_reference": target.payout_reference,
                                               "finance_category": target.finance_category, "payout_date": JUNE},
                                              {"$set": {"payout_reference": "99999", "_etag": "changed"}})
    result = run(sandbox, tmp_path, options(only_new=True))
    assert result.ledger is None  # nothing new: the drifted payout is not booked twice
    with pytest.raises(AlreadyExportedError) as refused:
        run(sandbox, tmp_path, options())
    assert target.id in str(refused.value)
    forced = run(sandbox, tmp_path, options(force=True))
    drift = [f for f in forced.ledger.findings if f.check == "drift"]
    assert len(drift) == 1 and drift[0].payout_id == target.id
    assert f"payout_reference {target.payout_reference} -> 99999" in drift[0].message


def test_a_crash_after_the_sie_file_is_written_leaves_no_file_and_no_register_entry(sandbox, tmp_path, monkeypatch):
    import builtins

    real_open = builtins.open
    written = []

    def crash_on_workbook(path, mode="r", *args, **kwargs):
        if "w" in mode and str(path).endswith(".si"):
            written.append(path)
        if "w" in mode and str(path).endswith(".xlsx"):
            raise OSError(5, "Input/output error (injected)")
        return real_open(path, mode, *args, **kwargs)

    monkeypatch.setattr(builtins, "open", crash_on_workbook)
    with pytest.raises(Exception, match="injected"):
        run(sandbox, tmp_path, options())
    monkeypatch.undo()
    assert written, "the SIE file was written before the crash"
    assert sorted(p.name for p in tmp_path.iterdir()) == [".ledger-export.lock", "ledger-export-register.sqlite"]
    with Register.open(tmp_path, read_only=True) as register:
        # Noted as pending before publishing, then abandoned: nothing of it counts as exported.
        assert [r.status for r in register.runs()] == ["abandoned"]
    run(sandbox, tmp_path, options())  # and the next run is not refused


def test_since_last_across_a_failed_run_loses_nothing_and_doubles_nothing(sandbox, tmp_path, monkeypatch):
    payouts = sandbox.db["finance--payouts"]
    late = [p["_id"] for p in payouts.find({"payout_date": {"$gte": datetime(2025, 6, 26, tzinfo=timezone.utc),
                                                             "$lt": datetime(2025, 7, 1, tzinfo=timezone.utc)}})]
    paid = {i: payouts.find_one({"_id": i})["payout_date"] for i in late}
    for i in late:  # not yet paid out when the first run happens
        payouts.update_one({"_id": i}, {"$set": {"payout_date": None}})

    first = run(sandbox, tmp_path, options(since_last=True))
    assert len(first.data.payouts) == 13 - len(late) and len(late) == 3

    for i in late:  # Amili's bank export sets the date afterwards
        payouts.update_one({"_id": i}, {"$set": {"payout_date": paid[i]}})
    import ledger_export.outputs.workbook_file as outputs

    def crash(**kwargs):
        raise RuntimeError("injected crash while writing")

    monkeypatch.setattr(outputs, "render_workbook", crash)
    with pytest.raises(RuntimeError):
        run(sandbox, tmp_path, options(since_last=True))
    monkeypatch.undo()

    third = run(sandbox, tmp_path, options(since_last=True))
    assert sorted(p.id for p in third.data.payouts) == sorted(str(i) for i in late)
    assert (tmp_path / "2025-06" / "ledger-2025-06.si").exists()
    increments = sorted(p.name for p in (tmp_path / "2025-06").glob("ledger-2025-06-run*.si"))
    assert len(increments) == 1  # the first file, already imported, is never overwritten
    fourth = run(sandbox, tmp_path, options(since_last=True))
    assert fourth.ledger is None
    with Register.open(tmp_path, read_only=True) as register:
        for p in (*first.data.payouts, *third.data.payouts):
            assert len(register.exports_of(p.id)) == 1


def test_a_run_while_another_holds_the_output_folder_is_refused(sandbox, tmp_path):
    with Register.open(tmp_path):
        with pytest.raises(LockedError) as locked:
            run(sandbox, tmp_path, options())
    assert locked.value.exit_code == 5
    assert not (tmp_path / "2025-06").exists()


def test_two_concurrent_processes_never_both_book_a_payout(sandbox_factory, tmp_path):
    from ledger_export.sandbox.faults import Faults

    slow = sandbox_factory(faults=Faults(latency=0.3))
    env = {**os.environ, "AMILI_API_KEY": slow.api_key}
    argv = [sys.executable, "-m", "ledger_export", "export", "--period", "2025-06", "--config",
            str(SAMPLES / "ledger-export.toml"), "--base-url", slow.base_url, "--out", str(tmp_path), "--quiet"]
    procs = [subprocess.Popen(argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for _ in range(2)]
    results = [(p.wait(timeout=120), p.stderr.read()) for p in procs]
    codes = sorted(code for code, _ in results)
    assert codes in ([0, 4], [0, 5]), results
    loser = next(err for code, err in results if code != 0)
    assert "another ledger-export run" in loser or "exported before" in loser
    with Register.open(tmp_path, read_only=True) as register:
        assert len(register.runs()) == 1


def test_cli_exit_code_for_an_already_exported_period(sandbox, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("AMILI_API_KEY", sandbox.api_key)
    argv = ["export", "--period", "2025-06", "--config", str(SAMPLES / "ledger-export.toml"),
            "--base-url", sandbox.base_url, "--out", str(tmp_path), "--quiet"]
    assert cli.main(argv) == 0
    assert cli.main(argv) == 4
    assert "exported before" in capsys.readouterr().err
