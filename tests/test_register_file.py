"""The register as a file: who owns it, when it may be written, how it is opened, what it says it settled.

Fast, sandbox-free tests of jobs/register.py's own guarantees, each found
missing by mutation testing (tools/mutate.py): a change to the register that
these tests fail on would otherwise have passed the suite.
"""

from __future__ import annotations

import errno
import hashlib
import sqlite3
from datetime import datetime, timezone

import pytest

from ledger_export.core import files
from ledger_export.core.lock import OutputLock
from ledger_export.jobs.incremental import Seen
from ledger_export.jobs.register import (ABANDONED, EXPORTED, REGISTER_FILE, Owner, Register, RunRow, Settled,
                                         register_exists)
from ledger_export.jobs.register_check import RegisterError, Run
from support.audit_pack import PAYOUTS

JULY_2 = datetime(2025, 7, 2, 9, 30, tzinfo=timezone.utc)
JUNE_RUN = Run("2025-06", "normal", JULY_2)
OURS = Owner(creditor="686e6ed854377058c2dd10bd", orgnr="556677-8899")


def placed(root, name: str, data: bytes = b"#FLAGGA 0\r\n") -> tuple[str, int, str]:
    (root / name).parent.mkdir(parents=True, exist_ok=True)
    (root / name).write_bytes(data)
    return name, len(data), hashlib.sha256(data).hexdigest()


def test_what_a_settled_run_says():
    run = RunRow(7, "2025-06", "normal", "pending", JULY_2, None, "2025-06/manifest.json")
    assert Settled(run, EXPORTED).describe() == (
        "run 7 (2025-06) had stopped after publishing its files and before the register noted it; its files are "
        "complete, so it is now recorded as exported")
    assert Settled(run, ABANDONED, ("2025-06/a.si", "2025-06/raw/x.json")).describe() == (
        "run 7 (2025-06) had stopped before its files were complete; it was abandoned and took away its 2 partly "
        "published file(s): its payouts count as not exported")
    assert Settled(run, ABANDONED).describe() == (
        "run 7 (2025-06) had stopped before its files were complete; it was abandoned: its payouts count as not "
        "exported")


def test_an_empty_register_file_reads_as_an_empty_register(tmp_path):
    # A first run stopped (killed, disk full) before it wrote the register's tables.
    (tmp_path / REGISTER_FILE).write_bytes(b"")
    with Register.open(tmp_path, read_only=True) as register:
        assert register.runs() == () and register.check(PAYOUTS).new == PAYOUTS
    assert (tmp_path / REGISTER_FILE).read_bytes() == b""


def test_a_new_register_takes_the_owner_of_its_first_run_and_refuses_any_other(tmp_path):
    with Register.open(tmp_path, owner=OURS) as register:
        assert register.owner() == {"creditor": OURS.creditor, "orgnr": OURS.orgnr, "purpose": "books"}
    other = Owner(creditor="5f0000000000000000000001", orgnr=OURS.orgnr)
    for read_only in (False, True):
        with pytest.raises(RegisterError) as refused:
            Register.open(tmp_path, owner=other, read_only=read_only)
        assert str(refused.value) == (
            f"{tmp_path / REGISTER_FILE} belongs to creditor {OURS.creditor}, not 5f0000000000000000000001 "
            f"([amili] creditor of this configuration): each company and creditor needs its own output folder")
        # The refused open let go of the root while its error is still held (a caller may go on).
        with OutputLock(tmp_path):
            pass


def test_reading_a_register_never_writes_its_owner_into_it(tmp_path):
    Register.open(tmp_path).close()  # a register no run has claimed yet
    before = (tmp_path / REGISTER_FILE).read_bytes()
    with Register.open(tmp_path, owner=OURS, read_only=True) as register:
        assert register.owner() == {}
    assert (tmp_path / REGISTER_FILE).read_bytes() == before


def test_a_register_opened_to_read_records_nothing(tmp_path):
    name, size, sha = placed(tmp_path, "2025-06/ledger-2025-06.si")
    with Register.open(tmp_path) as writer:
        run_id = writer.begin(JUNE_RUN, PAYOUTS[:1], sie=name, files={name: (size, sha)}, manifest=name)
    with Register.open(tmp_path, read_only=True) as reader:
        for write in (lambda: reader.begin(JUNE_RUN, PAYOUTS[1:2], sie=name, files={name: (size, sha)},
                                           manifest=name),
                      lambda: reader.finish(run_id), lambda: reader.abandon(run_id), lambda: reader.settle(run_id),
                      lambda: reader.nothing_new(JUNE_RUN)):
            with pytest.raises(RegisterError, match="was opened read-only: nothing can be recorded"):
                write()
        assert [r.status for r in reader.runs()] == ["pending"]


def test_each_payout_is_recorded_with_the_sha256_of_its_sie_file(tmp_path):
    Register.open(tmp_path).close()  # before any manifest: a period beside no register is refused
    name, size, sha = placed(tmp_path, "2025-06/ledger-2025-06.si")
    manifest, msize, msha = placed(tmp_path, "2025-06/manifest.json", b"{}")
    with Register.open(tmp_path) as register:
        register.begin(JUNE_RUN, PAYOUTS[:2], sie=name, files={name: (size, sha), manifest: (msize, msha)},
                       manifest=manifest)
        assert {(e.file_name, e.sha256) for e in register.payouts_of(1)} == {(name, sha)}


def test_a_run_is_marked_exported_only_while_pending_and_with_its_manifest_in_place(tmp_path):
    name, size, sha = placed(tmp_path, "2025-06/ledger-2025-06.si")
    manifest = "2025-06/manifest.json"
    with Register.open(tmp_path) as register:
        with pytest.raises(RegisterError, match=f"run 9 is not a pending run of {tmp_path / REGISTER_FILE}"):
            register.finish(9)
        run_id = register.begin(JUNE_RUN, PAYOUTS[:1], sie=name, files={name: (size, sha), manifest: (2, "ab" * 32)},
                                manifest=manifest)
        with pytest.raises(RegisterError, match=f"run {run_id}: {manifest} is not in place in {tmp_path}: a run is "
                                                f"marked exported only after its files are published"):
            register.finish(run_id)
        assert [r.status for r in register.runs()] == ["pending"]
        placed(tmp_path, manifest, b"{}")
        register._db.execute("UPDATE run_files SET sha256 = ? WHERE name = ?", (hashlib.sha256(b"{}").hexdigest(),
                                                                              manifest))
        register.finish(run_id)
        assert [r.status for r in register.runs()] == ["exported"]
        with pytest.raises(RegisterError, match=f"run {run_id} is not a pending run"):
            register.finish(run_id)


def test_a_run_that_found_nothing_new_still_moves_the_since_last_mark(tmp_path):
    first, later = datetime(2025, 6, 19, 4, 0, 12, tzinfo=timezone.utc), datetime(2025, 6, 26, tzinfo=timezone.utc)
    with Register.open(tmp_path) as register:
        register.record(JUNE_RUN, (), None, None, seen=[Seen("a", later, None), Seen("b", first, None)])
        register.record(JUNE_RUN, (), None, None, seen=[])  # nothing seen: the mark stays
        register.record(Run("2025-07", "normal", JULY_2), (), None, None, seen=[])  # nothing seen, no mark yet
        assert [r.created_mark for r in register.runs()] == [first, first, None]
        assert register.last_mark("2025-06") == first and register.last_mark("2025-07") is None


def test_a_run_that_booked_payouts_but_saw_none_sets_no_mark(tmp_path):
    name, _, sha = placed(tmp_path, "2025-06/ledger-2025-06.si")
    with Register.open(tmp_path) as register:
        register.record(JUNE_RUN, PAYOUTS[:1], name, sha, seen=[])
        assert [r.created_mark for r in register.runs()] == [None]


def test_after_a_failed_record_the_same_register_records_the_next_run(tmp_path):
    name, _, sha = placed(tmp_path, "2025-06/ledger-2025-06.si")
    with Register.open(tmp_path) as register:
        register._db.execute("CREATE TRIGGER boom BEFORE INSERT ON exported_payouts "
                             "BEGIN SELECT RAISE(ABORT, 'boom'); END")
        with pytest.raises(RegisterError, match="boom; nothing more was recorded"):
            register.record(JUNE_RUN, PAYOUTS[:2], name, sha)
        register._db.execute("DROP TRIGGER boom")
        assert register.record(JUNE_RUN, PAYOUTS[:2], name, sha) == 1
        assert len(register.payouts_of(1)) == 2


def test_a_disk_that_fails_while_the_register_commits_is_one_line_and_records_nothing(tmp_path):
    name, _, sha = placed(tmp_path, "2025-06/ledger-2025-06.si")
    Register.open(tmp_path).close()

    def full(kind, path):
        if kind == "commit":
            raise OSError(errno.ENOSPC, "No space left on device", str(path))

    with Register.open(tmp_path) as register:
        files.STEP_HOOK = full
        try:
            with pytest.raises(RegisterError) as err:
                register.record(JUNE_RUN, PAYOUTS[:1], name, sha)
        finally:
            files.STEP_HOOK = None
        assert str(err.value) == f"cannot note the run as pending in {tmp_path / REGISTER_FILE}: No space left on device"
        assert register.runs() == ()


def test_a_register_that_is_a_symbolic_link_is_refused(tmp_path):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    Register.open(elsewhere).close()
    root = tmp_path / "books"
    root.mkdir()
    (root / REGISTER_FILE).symlink_to(elsewhere / REGISTER_FILE)
    for read_only in (False, True):
        with pytest.raises(RegisterError, match=f"{root / REGISTER_FILE} is a symbolic link: the register must be a "
                                                f"real file in the output folder"):
            Register.open(root, read_only=read_only)


def test_an_output_folder_that_is_a_file_is_one_line(tmp_path):
    (tmp_path / "books").write_bytes(b"not a folder")
    with pytest.raises(RegisterError, match=f"cannot read {tmp_path / 'books' / REGISTER_FILE}: Not a directory"):
        Register.open(tmp_path / "books", read_only=True)


def test_the_register_commits_durably_and_checks_its_references(tmp_path):
    with Register.open(tmp_path) as register:
        assert register._db.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL: survives a power cut
        assert register._db.execute("PRAGMA foreign_keys").fetchone()[0] == 1
        with pytest.raises(sqlite3.IntegrityError):
            register._db.execute("INSERT INTO run_files (run_id, name, size, sha256) VALUES (99, 'x', 1, 'y')")


def test_a_register_whose_pages_are_damaged_is_refused(tmp_path):
    name, _, sha = placed(tmp_path, "2025-06/ledger-2025-06.si")
    with Register.open(tmp_path) as register:
        register.record(JUNE_RUN, PAYOUTS, name, sha)
    path = tmp_path / REGISTER_FILE
    data = bytearray(path.read_bytes())
    page = int.from_bytes(data[16:18], "big")  # the page size, from the file's header
    # The third page's b-tree header: the schema (page 1) still reads, so only an integrity check notices.
    data[2 * page: 2 * page + 40] = b"\xff" * 40
    path.write_bytes(bytes(data))
    with pytest.raises(RegisterError, match="is damaged or is not a ledger-export register; restore it from a backup"):
        Register.open(tmp_path, read_only=True)


@pytest.mark.parametrize("table", ["run_files", "register_info", "exported_payouts"])
def test_a_current_register_missing_a_table_is_refused(tmp_path, table):
    Register.open(tmp_path).close()
    db = sqlite3.connect(tmp_path / REGISTER_FILE)
    db.execute(f"DROP TABLE {table}")
    db.commit()
    db.close()
    with pytest.raises(RegisterError, match="is damaged or is not a ledger-export register"):
        Register.open(tmp_path)


def test_register_exists_says_whether_the_root_has_one(tmp_path):
    assert register_exists(tmp_path) is False
    Register.open(tmp_path).close()
    assert register_exists(tmp_path) is True
