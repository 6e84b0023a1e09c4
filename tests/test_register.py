"""The export register: a payout is booked once unless --force, drift is named, nothing is recorded early."""

from __future__ import annotations

import hashlib
import sqlite3
from dataclasses import replace
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

import pytest
import simplejson

from ledger_export.amili.models import Payout
from ledger_export.core.errors import InconsistentPagingError, LedgerExportError
from ledger_export.core.lock import LockedError, OutputLock
from ledger_export.core.resources import SAMPLES
from ledger_export.jobs.register import REGISTER_FILE, Register
from ledger_export.jobs.register_check import AlreadyExportedError, RegisterError, Run

JULY_2 = datetime(2025, 7, 2, 9, 30, tzinfo=timezone.utc)
JULY_3 = datetime(2025, 7, 3, 9, 30, tzinfo=timezone.utc)


def june_payouts() -> tuple[Payout, ...]:
    items = simplejson.loads((SAMPLES / "amili" / "finance--payouts.json").read_text("utf-8"), use_decimal=True)
    payouts = [Payout.from_api(item) for item in items]
    return tuple(p for p in payouts if p.payout_date and p.payout_date.month == 6)


JUNE = june_payouts()


def write_output(root, name: str, payouts) -> tuple[str, str]:
    """Stands in for the export's writers: a file in place, and its SHA-256."""
    data = "\n".join(p.id for p in payouts).encode()
    (root / name).parent.mkdir(parents=True, exist_ok=True)
    (root / name).write_bytes(data)
    return name, hashlib.sha256(data).hexdigest()


def export(root, payouts, mode="normal", at=JULY_2, name=None) -> tuple[int, tuple[Payout, ...]]:
    """One run as export() will do it: lock+open, check, write, record."""
    with Register.open(root) as register:
        chosen = register.check(payouts).to_export(mode)
        if not chosen:
            return register.record(Run("2025-06", mode, at), (), None, None), ()
        file_name, sha = write_output(root, name or f"2025-06/ledger-2025-06-{register.next_run_id()}.si", chosen)
        return register.record(Run("2025-06", mode, at), chosen, file_name, sha), chosen


def test_the_sample_has_june_payouts_to_work_with():
    assert len(JUNE) == 13 and len({p.id for p in JUNE}) == 13


def test_a_fresh_register_sees_everything_as_new_and_lives_in_the_output_root(tmp_path):
    with Register.open(tmp_path) as register:
        check = register.check(JUNE)
    assert check.new == JUNE and check.exported == () and check.to_export("normal") == JUNE
    assert (tmp_path / REGISTER_FILE).is_file()


def test_the_same_period_twice_is_refused_with_the_listing(tmp_path):
    run_id, _ = export(tmp_path, JUNE)
    assert run_id == 1
    with Register.open(tmp_path) as register:
        check = register.check(JUNE)
    assert check.new == () and len(check.exported) == 13 and check.drifted == ()
    with pytest.raises(AlreadyExportedError) as err:
        check.to_export("normal")
    message = str(err.value)
    assert message.startswith("13 payouts of this run were exported before, to 2025-06/ledger-2025-06-1.si "
                              "(run 1, 2025-07-02 09:30 UTC): 683bd04314eb261291cfe347 (ref 65403), "
                              "683fc4c49697be1af451e96c (ref 65404), ")
    assert message.endswith(", and 3 more; use --only-new to export just the rest, or --force to export them again")
    assert "\n" not in message and err.value.exit_code == 4 and isinstance(err.value, LedgerExportError)
    assert [e.payout for e in err.value.exported] == list(JUNE)


def test_only_new_exports_just_the_rest_and_then_nothing(tmp_path):
    export(tmp_path, JUNE[:10])
    run_id, chosen = export(tmp_path, JUNE, mode="only-new", at=JULY_3)
    assert (run_id, chosen) == (2, JUNE[10:])
    with pytest.raises(AlreadyExportedError) as err:
        export(tmp_path, JUNE[9:])
    assert str(err.value) == (
        f"4 payouts of this run were exported before, to 2025-06/ledger-2025-06-1.si (run 1, 2025-07-02 09:30 UTC): "
        f"68538b4c4dc8a245ced1d2b4 (ref 65409); to 2025-06/ledger-2025-06-2.si (run 2, 2025-07-03 09:30 UTC): "
        f"685cc5cd076091ee4a5708bf (ref 65410), 685cc5ceaca3314bed1d0bb8 (ref 65410), "
        f"685cc5cff8a307e409a36d61 (ref 65411); "
        f"use --only-new to export just the rest, or --force to export them again")
    run_id, chosen = export(tmp_path, JUNE, mode="only-new", at=JULY_3)
    assert (run_id, chosen) == (3, ())
    with Register.open(tmp_path) as register:
        runs = register.runs()
        assert [(r.mode, r.status) for r in runs] == [("normal", "exported"), ("only-new", "exported"),
                                                      ("only-new", "nothing new")]
        assert all(len(register.exports_of(p.id)) == 1 for p in JUNE)
    assert sorted(p.name for p in (tmp_path / "2025-06").iterdir()) == ["ledger-2025-06-1.si", "ledger-2025-06-2.si"]


def test_force_exports_again_and_the_register_keeps_both(tmp_path):
    export(tmp_path, JUNE)
    run_id, chosen = export(tmp_path, JUNE, mode="force", at=JULY_3)
    assert run_id == 2 and chosen == JUNE  # in the run's order, not new-first
    with Register.open(tmp_path) as register:
        history = register.exports_of(JUNE[0].id)
    assert [(e.run_id, e.file_name, e.exported_at) for e in history] == [
        (1, "2025-06/ledger-2025-06-1.si", JULY_2), (2, "2025-06/ledger-2025-06-2.si", JULY_3)]


def test_drift_names_the_fields_that_changed(tmp_path):
    export(tmp_path, JUNE)
    moved = replace(JUNE[1], etag="e" * 40, payout_date=date(2025, 6, 5), payout_reference="65499")
    touched = replace(JUNE[2], etag="f" * 40)
    with Register.open(tmp_path) as register:
        check = register.check([JUNE[0], moved, touched])
    assert [e.payout for e in check.drifted] == [moved, touched]
    assert [(c.field, c.before, c.after) for c in check.drifted[0].changes] == [
        ("payout_date", "2025-06-04", "2025-06-05"), ("payout_reference", "65404", "65499"),
        ("_etag", JUNE[1].etag, "e" * 40)]
    assert check.warnings() == (
        f"payout {JUNE[1].id} (ref 65499) changed at Amili: payout_date 2025-06-04 -> 2025-06-05, "
        f"payout_reference 65404 -> 65499, since it was exported to 2025-06/ledger-2025-06-1.si "
        f"(run 1, 2025-07-02); check that voucher in the ledger",
        f"payout {JUNE[2].id} (ref 65404) changed at Amili, but not in payout_date, payout_reference or "
        f"total_amount (only its _etag), since it was exported to 2025-06/ledger-2025-06-1.si "
        f"(run 1, 2025-07-02); check that voucher in the ledger",
    )
    # Drifted payouts were exported: normal refuses, --only-new leaves them to the bookkeeper.
    with pytest.raises(AlreadyExportedError):
        check.to_export("normal")
    assert check.to_export("only-new") == ()


def test_a_changed_total_is_drift_and_is_compared_exactly(tmp_path):
    export(tmp_path, JUNE[:1])
    changed = replace(JUNE[0], etag="x", total_amount=JUNE[0].total_amount + Decimal("0.01"))
    with Register.open(tmp_path) as register:
        [drift] = register.check([changed]).drifted
    assert (drift.changes[0].field, drift.changes[0].before, drift.changes[0].after) == (
        "total_amount", "6315.00", "6315.01")
    raw = sqlite3.connect(tmp_path / REGISTER_FILE).execute(
        "SELECT typeof(total_amount), total_amount FROM exported_payouts").fetchone()
    assert raw == ("text", "6315.00")


def test_drift_compares_with_the_latest_export(tmp_path):
    export(tmp_path, JUNE[:1])
    later = replace(JUNE[0], etag="new", payout_reference="70000")
    export(tmp_path, [later], mode="force", at=JULY_3)
    with Register.open(tmp_path) as register:
        check = register.check([later])
    assert check.drifted == () and check.exported[0].previous.run_id == 2


def test_record_refuses_before_the_outputs_are_in_place(tmp_path):
    with Register.open(tmp_path) as register:
        with pytest.raises(RegisterError, match="2025-06/x.si is not in place .*record a run only after"):
            register.record(Run("2025-06", "normal", JULY_2), JUNE, "2025-06/x.si", "0" * 64)
        name, _ = write_output(tmp_path, "2025-06/x.si", JUNE)
        with pytest.raises(RegisterError, match="is not the one this run wrote"):
            register.record(Run("2025-06", "normal", JULY_2), JUNE, name, "0" * 64)
        with pytest.raises(RegisterError, match="not inside the output root"):
            register.record(Run("2025-06", "normal", JULY_2), JUNE, "../elsewhere.si", "0" * 64)
        assert register.runs() == () and register.check(JUNE).new == JUNE


def test_a_run_that_fails_before_record_leaves_no_trace(tmp_path):
    class Crash(Exception):
        pass

    with pytest.raises(Crash), Register.open(tmp_path) as register:
        register.check(JUNE).to_export("normal")
        write_output(tmp_path, "2025-06/ledger-2025-06-1.si", JUNE)
        raise Crash("the workbook writer died")
    assert export(tmp_path, JUNE)[1] == JUNE  # nothing was booked, so nothing is refused


def test_a_failed_insert_rolls_the_whole_record_back(tmp_path):
    name, sha = write_output(tmp_path, "f.si", JUNE)
    with Register.open(tmp_path) as register, pytest.raises(RegisterError, match="cannot note the run as pending "
                                                                               ".*: boom; nothing more was recorded"):
        # A trigger makes the sixth payout's insert fail, after the run row and five payouts went in.
        register._db.execute("CREATE TRIGGER boom BEFORE INSERT ON exported_payouts WHEN NEW.payout_id = '"
                             f"{JUNE[5].id}' BEGIN SELECT RAISE(ABORT, 'boom'); END")
        register.record(Run("2025-06", "normal", JULY_2), JUNE, name, sha)
    with Register.open(tmp_path) as register:
        assert register.runs() == () and register.check(JUNE).new == JUNE


def test_one_id_twice_is_collapsed_but_two_versions_of_it_are_refused(tmp_path):
    with Register.open(tmp_path) as register:
        assert register.check([JUNE[0], JUNE[0]]).new == (JUNE[0],)
        with pytest.raises(InconsistentPagingError, match=f"payout {JUNE[0].id} came twice with different _etag"):
            register.check([JUNE[0], replace(JUNE[0], etag="other")])


def test_opening_takes_the_output_roots_lock(tmp_path):
    with Register.open(tmp_path):
        with pytest.raises(LockedError, match=f"another ledger-export run is using {tmp_path}"):
            Register.open(tmp_path)
    Register.open(tmp_path).close()  # released on close


def test_read_only_needs_no_lock_creates_nothing_and_cannot_record(tmp_path):
    with Register.open(tmp_path / "fresh", read_only=True) as register:
        assert register.check(JUNE).new == JUNE
    assert not (tmp_path / "fresh").exists()
    export(tmp_path, JUNE)
    with Register.open(tmp_path) as writer, Register.open(tmp_path, read_only=True) as reader:
        assert len(reader.check(JUNE).exported) == 13
        with pytest.raises(RegisterError, match="opened read-only"):
            reader.record(Run("2025-06", "force", JULY_3), (), None, None)
        assert writer.next_run_id() == 2


def test_a_damaged_register_is_refused_not_recreated(tmp_path):
    (tmp_path / REGISTER_FILE).write_bytes(b"this is not a database, it is a spreadsheet" * 30)
    with pytest.raises(RegisterError, match="is damaged or is not a ledger-export register; restore it"):
        Register.open(tmp_path)
    with OutputLock(tmp_path):  # the refused open released the root's lock on its way out
        pass
    assert (tmp_path / REGISTER_FILE).read_bytes().startswith(b"this is not a database")


def test_a_foreign_sqlite_file_is_refused(tmp_path):
    sqlite3.connect(tmp_path / REGISTER_FILE).execute("CREATE TABLE invoices (id)").connection.commit()
    with pytest.raises(RegisterError, match="is not a ledger-export register"):
        Register.open(tmp_path)


def test_a_register_from_a_newer_version_is_refused(tmp_path):
    export(tmp_path, JUNE[:1])
    db = sqlite3.connect(tmp_path / REGISTER_FILE)
    db.execute("PRAGMA user_version = 4")
    db.close()
    with pytest.raises(RegisterError, match=r"written by a newer ledger-export \(register version 4, this one "
                                            r"knows 3\): upgrade ledger-export"):
        Register.open(tmp_path)


def test_run_needs_a_known_mode_and_an_aware_time():
    with pytest.raises(ValueError, match="mode must be one of normal, only-new, force"):
        Run("2025-06", "again", JULY_2)
    with pytest.raises(ValueError, match="timezone-aware"):
        Run("2025-06", "normal", datetime(2025, 7, 2))


def test_the_callers_time_is_kept_in_utc(tmp_path):
    stockholm = timezone(timedelta(hours=2))
    export(tmp_path, JUNE[:1], at=datetime(2025, 7, 2, 11, 30, tzinfo=stockholm))
    with Register.open(tmp_path) as register:
        assert register.exports_of(JUNE[0].id)[0].exported_at == JULY_2
        with pytest.raises(AlreadyExportedError, match=r"\(run 1, 2025-07-02 09:30 UTC\)"):
            register.check(JUNE[:1]).to_export("normal")


def test_the_listing_stops_at_ten_payouts_across_runs_and_counts_the_rest(tmp_path):
    export(tmp_path, JUNE[:6])
    export(tmp_path, JUNE[6:10], at=JULY_3)
    export(tmp_path, JUNE[10:], at=JULY_3 + timedelta(hours=1))
    with Register.open(tmp_path) as register:
        check = register.check(JUNE)
    with pytest.raises(AlreadyExportedError) as err:
        check.to_export("normal")
    message = str(err.value)
    first, second = ", ".join(f"{p.id} (ref {p.payout_reference})" for p in JUNE[:6]), ", ".join(
        f"{p.id} (ref {p.payout_reference})" for p in JUNE[6:10])
    # Ten named, from the two runs that hold them; the third run's three are only counted.
    assert message == (
        f"13 payouts of this run were exported before, to 2025-06/ledger-2025-06-1.si (run 1, 2025-07-02 09:30 UTC): "
        f"{first}; to 2025-06/ledger-2025-06-2.si (run 2, 2025-07-03 09:30 UTC): {second}, and 3 more; "
        f"use --only-new to export just the rest, or --force to export them again")
    assert "ledger-2025-06-3.si" not in message and len(err.value.exported) == 13


def test_one_payout_exported_before_is_named_in_the_singular(tmp_path):
    export(tmp_path, JUNE[:1])
    with Register.open(tmp_path) as register, pytest.raises(AlreadyExportedError) as err:
        register.check(JUNE[:1]).to_export("normal")
    assert str(err.value).startswith(f"1 payout of this run was exported before, to 2025-06/ledger-2025-06-1.si "
                                     f"(run 1, 2025-07-02 09:30 UTC): {JUNE[0].id} (ref {JUNE[0].payout_reference}); ")


def _version_1(path, *, tables: str) -> bytes:
    db = sqlite3.connect(path)
    db.executescript(f"{tables}\nPRAGMA user_version = 1;")
    db.close()
    return path.read_bytes()


V1_RUNS = ("CREATE TABLE runs (id INTEGER PRIMARY KEY, period TEXT NOT NULL, mode TEXT NOT NULL, "
           "status TEXT NOT NULL, exported_at TEXT NOT NULL, created_mark TEXT);")


@pytest.mark.parametrize("tables", [V1_RUNS, "CREATE TABLE invoices (id);"], ids=["runs only", "foreign"])
@pytest.mark.parametrize("read_only", [False, True])
def test_a_version_1_register_without_its_tables_is_refused_as_damaged_and_left_as_it_is(tmp_path, tables,
                                                                                          read_only):
    before = _version_1(tmp_path / REGISTER_FILE, tables=tables)
    with pytest.raises(RegisterError, match="is damaged or is not a ledger-export register; restore it"):
        Register.open(tmp_path, read_only=read_only)
    assert (tmp_path / REGISTER_FILE).read_bytes() == before  # not "migrated" into something else


def test_a_version_1_register_is_read_only_until_a_run_brings_it_up_to_date(tmp_path):
    from ledger_export.jobs.register import _PAYOUTS

    before = _version_1(tmp_path / REGISTER_FILE, tables=V1_RUNS + _PAYOUTS)
    with pytest.raises(RegisterError, match=r"is a register of an older ledger-export \(version 1\): run an export"):
        Register.open(tmp_path, read_only=True)
    assert (tmp_path / REGISTER_FILE).read_bytes() == before
    with Register.open(tmp_path) as register:
        assert register.runs() == () and register.check(JUNE).new == JUNE
    db = sqlite3.connect(tmp_path / REGISTER_FILE)
    assert db.execute("PRAGMA user_version").fetchone()[0] == 3
    assert {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")} == {
        "runs", "run_files", "exported_payouts", "register_info", "fortnox_actions"}


def test_payouts_are_recorded_only_with_the_file_they_went_into(tmp_path):
    name, sha = write_output(tmp_path, "2025-06/x.si", JUNE)
    size = (tmp_path / name).stat().st_size
    june = Run("2025-06", "normal", JULY_2)
    with Register.open(tmp_path) as register:
        for file_name, digest in ((None, None), (name, None), (None, sha), ("", sha)):
            with pytest.raises(RegisterError, match="must name its output file and its SHA-256"):
                register.record(june, JUNE, file_name, digest)
        with pytest.raises(RegisterError, match="names 2025-06/x.si but exported no payouts"):
            register.record(june, (), name, sha)
        with pytest.raises(RegisterError, match="exports no payouts: record it with nothing_new"):
            register.begin(june, (), sie=name, files={name: (size, sha)}, manifest=name)
        for files, manifest in (({}, name), ({name: (size, sha)}, "2025-06/manifest.json")):
            with pytest.raises(RegisterError, match="its SIE file and manifest must be among its files"):
                register.begin(june, JUNE, sie=name, files=files, manifest=manifest)
        assert register.runs() == () and register.check(JUNE).new == JUNE
        assert register.record(june, JUNE, name, sha) == 1  # and with them, it is recorded
        assert [(r.status, r.manifest) for r in register.runs()] == [("exported", name)]


def test_eleven_exported_payouts_list_ten_and_count_one_more(tmp_path):
    export(tmp_path, JUNE[:11])
    with Register.open(tmp_path) as register, pytest.raises(AlreadyExportedError) as err:
        register.check(JUNE[:11]).to_export("normal")
    message = str(err.value)
    assert message.startswith("11 payouts of this run were exported before, ")
    assert message.count(" (ref ") == 10 and JUNE[10].id not in message
    assert message.endswith(f"{JUNE[9].payout_reference}), and 1 more; use --only-new to export just the rest, "
                            f"or --force to export them again")


def test_drift_is_an_error_when_the_amount_moved_and_a_warning_otherwise_in_the_refusal_too(tmp_path):
    export(tmp_path, JUNE[:2])
    moved = replace(JUNE[0], etag="x", total_amount=JUNE[0].total_amount + 1)
    touched = replace(JUNE[1], etag="y")
    with Register.open(tmp_path) as register:
        check = register.check([moved, touched])
    assert [(f.severity, f.payout_id) for f in check.drift_findings()] == [("error", moved.id), ("warning", touched.id)]
    assert [e.amount_changed for e in check.drifted] == [True, False]
    with pytest.raises(AlreadyExportedError) as err:
        check.to_export("normal")
    lines = str(err.value).split("\n")
    assert len(lines) == 3 and lines[0].startswith("2 payouts of this run were exported before")
    assert lines[1] == f"ERROR: {check.drifted[0].describe_drift()}"
    assert lines[2] == f"warning: {check.drifted[1].describe_drift()}"


def test_a_payout_without_a_reference_is_named_by_its_id_and_an_empty_field_reads_none(tmp_path):
    from ledger_export.jobs.register_check import label

    export(tmp_path, JUNE[:1])
    unreferenced = replace(JUNE[0], etag="z", payout_reference="")
    assert label(unreferenced) == unreferenced.id and label(JUNE[0]) == f"{JUNE[0].id} (ref 65403)"
    with Register.open(tmp_path) as register:
        [drift] = register.check([unreferenced]).drifted
    assert [(c.field, c.before, c.after) for c in drift.changes][0] == ("payout_reference", "65403", "(none)")
    assert drift.describe_drift().startswith(f"payout {unreferenced.id} changed at Amili: "
                                             f"payout_reference 65403 -> (none), since it was exported")


def test_a_check_refuses_an_unknown_mode(tmp_path):
    with Register.open(tmp_path) as register:
        check = register.check(JUNE)
    with pytest.raises(ValueError, match="mode must be one of normal, only-new, force, got 'again'"):
        check.to_export("again")
