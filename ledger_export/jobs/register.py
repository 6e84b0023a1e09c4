"""The export register: the single truth of which payout went into which file, so none is booked twice.

``<output root>/ledger-export-register.sqlite``, one per output root, next to
the period folders it describes. It belongs to one company and one Amili
creditor (``register_info``) and refuses a run for another. Tables:

- ``runs``: one row per run (period, mode, status, when it started, the
  files' folder and manifest, the ``--since-last`` mark it set);
- ``run_files``: every file a run publishes, with size and SHA-256;
- ``exported_payouts``: one row per payout per run (id, ``_etag``, the
  ``payout_date``, ``payout_reference`` and ``total_amount`` it was booked
  with, the SIE file it went into). ``--force`` adds rows; rows are never
  deleted, so the file is an audit trail.

A run that books payouts is written here twice. ``begin`` records it as
*pending*, with its payouts and the names and hashes of every file it will
publish, before anything is published; ``finish`` marks it *exported* once
the files are in place. A run that dies between the two is *settled* when
the register is next opened (``settle``): its manifest is published last,
so a manifest in place means the set is whole and the run counts as
exported; otherwise the files it had placed are taken away again and it
counts as *abandoned* (its payouts are new to the next run). A pending run
counts as booked until then, so nothing is ever booked twice.

A register that is missing or empty where period folders hold manifests
is refused, never silently started afresh: ``register_rebuild`` rebuilds it
from those manifests.

Journal: SQLite's rollback journal (``DELETE``), not WAL: one file at rest,
easy to back up. ``synchronous=FULL`` makes a commit survive a power cut.
``PRAGMA user_version`` is the schema version: version 1 (no owner, no
pending runs) and version 2 (no Fortnox actions, jobs/register_fortnox.py) are
migrated in place; a newer one is refused.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any, Final, Literal, TypeVar

from ledger_export.amili.models import Payout
from ledger_export.core.errors import InconsistentPagingError
from ledger_export.core.files import fs_step, remove_stale_staging
from ledger_export.jobs.incremental import Seen, next_mark
from ledger_export.core.lock import OutputLock
from ledger_export.core.money import format_amount
from ledger_export.core.orgnr import same as same_orgnr
from ledger_export.jobs.register_check import Check, Export, RegisterError, Run, RunMode, compare
from ledger_export.jobs.register_files import RegisterMissingError, exported_periods, file_matches, sha256_file, undo_files
from ledger_export.jobs.register_fortnox import FORTNOX_TABLE, MIGRATE_FROM_2, FortnoxRegister, holds_run

__all__ = ["REGISTER_FILE", "Owner", "Register", "RegisterError", "RegisterMissingError", "RunRow",
           "sha256_file"]

REGISTER_FILE = "ledger-export-register.sqlite"
SCHEMA_VERSION = 3
# SQLite allows 32766 parameters per statement since 3.32, 999 before; stay below both.
CHUNK = 500
_T = TypeVar("_T")
# A run's status and mode as the runs table holds them (its CHECK constraints below).
RunStatus = Literal["pending", "exported", "nothing new", "abandoned"]
PENDING: Final = "pending"
EXPORTED: Final = "exported"
NOTHING_NEW: Final = "nothing new"
ABANDONED: Final = "abandoned"
RecordedMode = RunMode | Literal["rebuilt"]  # "rebuilt": a run register_rebuild.py restored

_TABLES = """
CREATE TABLE register_info (
    key   TEXT PRIMARY KEY,      -- creditor, orgnr, purpose ('books' or 'demo')
    value TEXT NOT NULL
);
CREATE TABLE run_files (
    run_id INTEGER NOT NULL REFERENCES runs (id),
    name   TEXT NOT NULL,        -- relative to the output root, '/'-separated
    size   INTEGER NOT NULL,
    sha256 TEXT NOT NULL,
    PRIMARY KEY (run_id, name)
);
"""
_RUNS = """
CREATE TABLE runs (
    id           INTEGER PRIMARY KEY,
    period       TEXT NOT NULL,
    mode         TEXT NOT NULL CHECK (mode IN ('normal', 'only-new', 'force', 'rebuilt')),
    status       TEXT NOT NULL CHECK (status IN ('pending', 'exported', 'nothing new', 'abandoned')),
    exported_at  TEXT NOT NULL,  -- ISO 8601, UTC, from the caller: when the run started
    created_mark TEXT,           -- ISO 8601, UTC: the --since-last mark for period, NULL if not set
    pending_mark TEXT,           -- the mark the run sets once it is exported
    manifest     TEXT            -- relative to the root: published last, so present = published whole
);
CREATE INDEX runs_by_period ON runs (period, id);
"""
_PAYOUTS = """
CREATE TABLE exported_payouts (
    payout_id        TEXT NOT NULL,
    run_id           INTEGER NOT NULL REFERENCES runs (id),
    etag             TEXT NOT NULL,
    payout_date      TEXT,           -- ISO date
    payout_reference TEXT NOT NULL,
    total_amount     TEXT NOT NULL,  -- exact decimal, never a float
    period           TEXT NOT NULL,
    file_name        TEXT NOT NULL,  -- the SIE file, relative to the output root
    sha256           TEXT NOT NULL,
    exported_at      TEXT NOT NULL,
    PRIMARY KEY (payout_id, run_id)
);
"""
SCHEMA = _TABLES + _RUNS + _PAYOUTS + FORTNOX_TABLE
# Version 1 had runs without pending/abandoned, and no owner or file list.
_MIGRATE_FROM_1 = f"""
{_TABLES}
ALTER TABLE runs RENAME TO runs_v1;
DROP INDEX IF EXISTS runs_by_period;
{_RUNS}
INSERT INTO runs (id, period, mode, status, exported_at, created_mark)
    SELECT id, period, mode, status, exported_at, created_mark FROM runs_v1;
DROP TABLE runs_v1;
{MIGRATE_FROM_2}
"""


@dataclass(frozen=True)
class Owner:
    """Whose books a register holds: the company (orgnr) and its Amili creditor id."""

    creditor: str
    orgnr: str = ""
    purpose: str = "books"  # "demo": the bundled demo's own register


@dataclass(frozen=True)
class RunRow:
    id: int
    period: str
    mode: RecordedMode
    status: RunStatus
    exported_at: datetime
    created_mark: datetime | None
    manifest: str | None = None


@dataclass(frozen=True)
class Settled:
    """A run found pending at start, and what became of it."""

    run: RunRow
    # "pending": a Fortnox run that had posted something; it stays booked until a Fortnox run resumes it.
    status: Literal["exported", "abandoned", "pending"]
    removed: tuple[str, ...] = ()

    def describe(self) -> str:
        r = self.run
        if self.status == PENDING:
            return (f"run {r.id} ({r.period}) had stopped while posting to Fortnox; what it posted is in the "
                    f"register, and its payouts stay booked: `ledger-export export --to fortnox --period "
                    f"{r.period}` finishes it, posting nothing twice")
        if self.status == EXPORTED:
            return (f"run {r.id} ({r.period}) had stopped after publishing its files and before the "
                    f"register noted it; its files are complete, so it is now recorded as exported")
        taken = f" and took away its {len(self.removed)} partly published file(s)" if self.removed else ""
        return (f"run {r.id} ({r.period}) had stopped before its files were complete; it was "
                f"abandoned{taken}: its payouts count as not exported")


def _chunks(items: Sequence[_T], size: int = CHUNK) -> Iterable[Sequence[_T]]:
    for start in range(0, len(items), size):
        yield items[start:start + size]


class Register:
    """``with Register.open(root, owner=...) as register:`` check, begin, publish, finish."""

    def __init__(self, root: Path, connection: sqlite3.Connection, lock: OutputLock | None):
        self.root = Path(root)
        self.path = self.root / REGISTER_FILE
        self._db = connection
        self._lock = lock
        self.settled: tuple[Settled, ...] = ()

    @classmethod
    def open(cls, root: Path, *, owner: Owner | None = None, read_only: bool = False) -> Register:
        """Lock the output root, open (creating if needed) its register, and settle pending runs.

        ``owner``: the company and creditor of this run; a register of
        another is refused (None: not checked, for reports). ``read_only``
        (dry runs, reports): no lock, nothing created or settled; a root
        without a register reads as an empty one.
        """
        root = Path(root)
        path = root / REGISTER_FILE
        if read_only:
            _refuse_missing(root, path)
            # Empty: a first run stopped (killed, disk full) before it wrote the register's tables.
            if not path.exists() or path.stat().st_size == 0:
                register = cls(root, _connect(":memory:", path, create=True), None)
            else:
                register = cls(root, _connect(f"{path.resolve().as_uri()}?mode=ro", path, create=False), None)
            register._check_owner(owner, adopt=False)
            return register
        lock = OutputLock(root)
        lock.acquire()
        try:
            _refuse_missing(root, path)
            register = cls(root, _connect(str(path), path, create=True), lock)
            try:
                register._check_owner(owner, adopt=True)
                register.settled = register._settle()
                # After settling (which needs no staging): what runs killed mid-way staged is theirs no more.
                remove_stale_staging(root)
            except BaseException:
                register._db.close()
                raise
            return register
        except BaseException:
            lock.release()
            raise

    @property
    def fortnox(self) -> FortnoxRegister:
        """What the register's runs did in Fortnox (jobs/register_fortnox.py)."""
        return FortnoxRegister(self._db, self.path, self._transaction, writable=self._lock is not None)

    def close(self) -> None:
        try:
            self._db.close()
        finally:
            if self._lock is not None:
                self._lock.release()

    def __enter__(self) -> Register:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- reading -------------------------------------------------------------------

    def check(self, payouts: Sequence[Payout]) -> Check:
        """Which payouts are new, which an earlier run exported (compared to its latest export)."""
        payouts = _unique(payouts)
        latest = self._latest_exports([p.id for p in payouts])
        new = tuple(p for p in payouts if p.id not in latest)
        exported = tuple(compare(p, latest[p.id]) for p in payouts if p.id in latest)
        return Check(payouts=payouts, new=new, exported=exported)

    def exports_of(self, payout_id: str) -> tuple[Export, ...]:
        """Every export of one payout, oldest first."""
        with _errors(self.path, "read"):
            rows = self._db.execute(f"SELECT {_SELECT_EXPORTS} {_FROM_EXPORTS} "
                                    f"WHERE e.payout_id = ? AND r.status = 'exported' ORDER BY e.run_id",
                                    (payout_id,)).fetchall()
        return tuple(_export(row) for row in rows)

    def runs(self) -> tuple[RunRow, ...]:
        with _errors(self.path, "read"):
            rows = self._db.execute("SELECT id, period, mode, status, exported_at, created_mark, manifest "
                                    "FROM runs ORDER BY id").fetchall()
        return tuple(_run_row(row) for row in rows)

    def run_files(self, run_id: int) -> dict[str, tuple[int, str]]:
        with _errors(self.path, "read"):
            rows = self._db.execute("SELECT name, size, sha256 FROM run_files WHERE run_id = ? ORDER BY name",
                                    (run_id,)).fetchall()
        return {name: (size, sha) for name, size, sha in rows}

    def payouts_of(self, run_id: int) -> tuple[Export, ...]:
        with _errors(self.path, "read"):
            rows = self._db.execute(f"SELECT {_SELECT_EXPORTS} {_FROM_EXPORTS} "
                                    f"WHERE e.run_id = ? ORDER BY e.payout_id", (run_id,)).fetchall()
        return tuple(_export(row) for row in rows)

    def owner(self) -> dict[str, str]:
        with _errors(self.path, "read"):
            return dict(self._db.execute("SELECT key, value FROM register_info ORDER BY key").fetchall())

    def last_mark(self, period: str) -> datetime | None:
        """The ``--since-last`` mark of the latest run of ``period`` that set one."""
        with _errors(self.path, "read"):
            row = self._db.execute("SELECT created_mark FROM runs WHERE period = ? AND created_mark IS NOT NULL "
                                   "ORDER BY id DESC LIMIT 1", (period,)).fetchone()
        return _moment(row[0]) if row else None

    def next_run_id(self) -> int:
        """The id ``begin`` will give the next run (stable while the lock is held): for file names."""
        with _errors(self.path, "read"):
            next_id: int = self._db.execute("SELECT COALESCE(MAX(id), 0) + 1 FROM runs").fetchone()[0]
        return next_id

    # -- writing -------------------------------------------------------------------

    def begin(self, run: Run, payouts: Sequence[Payout], *, sie: str, files: Mapping[str, tuple[int, str]],
              manifest: str, seen: Sequence[Seen] | None = None) -> int:
        """Record a run as pending, before any of its files is published; returns its id.

        ``files``: every file it will publish, name relative to the root ->
        (size, SHA-256); ``sie`` (the SIE file the payouts go into) and
        ``manifest`` (published last) are among them.
        """
        self._writable()
        payouts = _unique(payouts)
        if not payouts:
            raise RegisterError(f"run for {run.period} exports no payouts: record it with nothing_new")
        if sie not in files or manifest not in files:
            raise RegisterError(f"run for {run.period}: its SIE file and manifest must be among its files")
        at = _iso(run.exported_at)
        mark = None
        if seen is not None:
            booked = self._exported_ids([s.id for s in seen], pending=True) | {p.id for p in payouts}
            found = next_mark(seen, booked, self.last_mark(run.period))
            mark = found.isoformat() if found is not None else None
        with self._transaction("note the run as pending"):
            run_id = _row_id(self._db.execute(
                "INSERT INTO runs (period, mode, status, exported_at, pending_mark, manifest) "
                "VALUES (?, ?, ?, ?, ?, ?)", (run.period, run.mode, PENDING, at, mark, manifest)))
            self._db.executemany("INSERT INTO run_files (run_id, name, size, sha256) VALUES (?, ?, ?, ?)",
                                 [(run_id, name, size, sha) for name, (size, sha) in sorted(files.items())])
            self._db.executemany(
                f"INSERT INTO exported_payouts ({_EXPORT_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [(p.id, p.etag, p.payout_date.isoformat() if p.payout_date else None, p.payout_reference,
                  format_amount(p.total_amount), run.period, sie, files[sie][1], run_id, at) for p in payouts])
        return run_id

    def finish(self, run_id: int) -> None:
        """Mark a pending run exported: only once its manifest (published last) is in place, unchanged."""
        self._writable()
        with _errors(self.path, "read"):
            row = self._db.execute("SELECT manifest, status FROM runs WHERE id = ?", (run_id,)).fetchone()
        if row is None or row[1] != PENDING:
            raise RegisterError(f"run {run_id} is not a pending run of {self.path}")
        size, sha = self.run_files(run_id)[row[0]]
        if not file_matches(self.root / row[0], size, sha):
            raise RegisterError(f"run {run_id}: {row[0]} is not in place in {self.root}: a run is marked "
                                f"exported only after its files are published")
        with self._transaction("mark the run exported"):
            self._db.execute("UPDATE runs SET status = ?, created_mark = pending_mark WHERE id = ?",
                             (EXPORTED, run_id))

    def abandon(self, run_id: int) -> None:
        """A pending run whose publish failed and was undone: its payouts are not exported."""
        self._writable()
        with self._transaction("mark the run abandoned"):
            self._db.execute("UPDATE runs SET status = ? WHERE id = ? AND status = ?", (ABANDONED, run_id, PENDING))

    def nothing_new(self, run: Run, *, seen: Sequence[Seen] | None = None) -> int:
        """Record a run that found nothing to export (it may still move the ``--since-last`` mark)."""
        self._writable()
        mark = None
        if seen is not None:
            found = next_mark(seen, self._exported_ids([s.id for s in seen]), self.last_mark(run.period))
            mark = found.isoformat() if found is not None else None
        with self._transaction("note the run"):
            return _row_id(self._db.execute(
                "INSERT INTO runs (period, mode, status, exported_at, created_mark) VALUES (?, ?, ?, ?, ?)",
                (run.period, run.mode, NOTHING_NEW, _iso(run.exported_at), mark)))

    def record(self, run: Run, payouts: Sequence[Payout], file_name: str | None, sha256: str | None, *,
               seen: Sequence[Seen] | None = None) -> int:
        """Record a run whose one file ``file_name`` (relative to the root) is already in place.

        For callers that publish a single file themselves; an export run uses
        begin and finish around its publish. No payouts and no file: nothing_new.
        """
        if not payouts:
            if file_name is not None:
                raise RegisterError(f"run for {run.period} names {file_name} but exported no payouts")
            return self.nothing_new(run, seen=seen)
        if not file_name or not sha256:
            raise RegisterError("a run that exported payouts must name its output file and its SHA-256")
        target = (self.root / file_name).resolve()
        if self.root.resolve() not in target.parents:
            raise RegisterError(f"output file {file_name} is not inside the output root {self.root}")
        if not target.is_file():
            raise RegisterError(f"output file {file_name} is not in place in {self.root}: "
                                f"record a run only after its outputs are written")
        if sha256_file(target) != sha256:
            raise RegisterError(f"output file {file_name} in {self.root} is not the one this run wrote "
                                f"(its SHA-256 differs)")
        size = target.stat().st_size
        run_id = self.begin(run, payouts, sie=file_name, files={file_name: (size, sha256)}, manifest=file_name,
                            seen=seen)
        self.finish(run_id)
        return run_id

    # -- machinery -----------------------------------------------------------------

    def _writable(self) -> None:
        if self._lock is None:
            raise RegisterError(f"{self.path} was opened read-only: nothing can be recorded")

    @contextmanager
    def _transaction(self, what: str) -> Iterator[None]:
        with _errors(self.path, what):
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield
                fs_step("commit", self.path)
                self._db.execute("COMMIT")
            except BaseException:
                if self._db.in_transaction:
                    self._db.execute("ROLLBACK")
                raise

    def claim(self, owner: Owner) -> None:
        """Refuse a register of another company, creditor or purpose; a new register takes this owner."""
        self._check_owner(owner, adopt=self._lock is not None)

    def _check_owner(self, owner: Owner | None, *, adopt: bool) -> None:
        if owner is None:
            return
        held = self.owner()
        for key, want in (("creditor", owner.creditor), ("orgnr", owner.orgnr), ("purpose", owner.purpose)):
            have = held.get(key)
            if have is None or (have == "" and want):
                if adopt:
                    with self._transaction("note whose register it is"):
                        self._db.execute("INSERT OR REPLACE INTO register_info (key, value) VALUES (?, ?)",
                                         (key, want))
                continue
            if have != want and not (key == "orgnr" and same_orgnr(have, want)):
                raise RegisterError(_foreign(self.path, key, have, want))

    def _settle(self) -> tuple[Settled, ...]:
        return tuple(self.settle(run.id) for run in self.runs() if run.status == PENDING)

    def settle(self, run_id: int) -> Settled:
        """Decide a pending run from the disk: its manifest (published last) in place, or take it back."""
        self._writable()
        [run] = [r for r in self.runs() if r.id == run_id]
        files = self.run_files(run.id)
        name = run.manifest or ""
        manifest = files.get(name)
        if manifest is not None and file_matches(self.root / name, *manifest):
            self.finish(run.id)
            return Settled(run, EXPORTED)
        removed = undo_files(self.root, files)
        with _errors(self.path, "read"):
            held = holds_run(self._db, run.id)
        if held:  # never abandoned: what it posted to Fortnox is booked
            return Settled(run, PENDING, removed)
        self.abandon(run.id)
        return Settled(run, ABANDONED, removed)

    def _latest_exports(self, ids: Sequence[str]) -> dict[str, Export]:
        latest: dict[str, Export] = {}
        for chunk in _chunks(ids):
            marks = ", ".join("?" * len(chunk))
            with _errors(self.path, "read"):
                rows = self._db.execute(
                    f"SELECT {_SELECT_EXPORTS} {_FROM_EXPORTS} "
                    f"WHERE payout_id IN ({marks}) AND status IN ('exported', 'pending') ORDER BY run_id",
                    tuple(chunk)).fetchall()
            for row in rows:  # ascending run_id: the last one wins
                latest[row[0]] = _export(row)
        return latest

    def _exported_ids(self, ids: Sequence[str], *, pending: bool = False) -> set[str]:
        statuses = "('exported', 'pending')" if pending else "('exported')"
        found: set[str] = set()
        for chunk in _chunks(ids):
            marks = ", ".join("?" * len(chunk))
            with _errors(self.path, "read"):
                found.update(r[0] for r in self._db.execute(
                    f"SELECT DISTINCT e.payout_id {_FROM_EXPORTS} "
                    f"WHERE e.payout_id IN ({marks}) AND r.status IN {statuses}", tuple(chunk)))
        return found


_EXPORT_COLUMNS = ("payout_id, etag, payout_date, payout_reference, total_amount, period, file_name, "
                   "sha256, run_id, exported_at")
# The same columns read through a join with runs (which has a period and exported_at of its own).
_SELECT_EXPORTS = ", ".join(f"e.{c.strip()}" for c in _EXPORT_COLUMNS.split(","))
_FROM_EXPORTS = "FROM exported_payouts e JOIN runs r ON r.id = e.run_id"


def _foreign(path: Path, key: str, have: str, want: str) -> str:
    if key == "purpose":
        if have == "demo":
            return (f"{path} is the demo's register (sample company): use another output folder "
                    f"for real books")
        return (f"{path} holds real books: the demo writes only into a folder of its own "
                f"(ledger-export demo --out DIR)")
    setting = "[amili] creditor" if key == "creditor" else "[company] orgnr"
    return (f"{path} belongs to {key} {have or '(none)'}, not {want or '(none)'} ({setting} of this "
            f"configuration): each company and creditor needs its own output folder")


def _refuse_missing(root: Path, path: Path) -> None:
    if path.is_symlink():
        raise RegisterError(f"{path} is a symbolic link: the register must be a real file in the output folder")
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        size = None
    except OSError as exc:
        raise RegisterError(f"cannot read {path}: {exc.strerror or exc}") from exc
    if size:
        return
    periods = exported_periods(root)
    if periods:
        raise RegisterMissingError(path, "is empty" if size == 0 else "is missing", periods)


def _export(row: tuple[Any, ...]) -> Export:
    pid, etag, day, reference, total, period, file_name, sha, run_id, at = row
    return Export(pid, etag, date.fromisoformat(day) if day else None, reference, Decimal(total), period,
                  file_name, sha, run_id, _moment(at))


def _run_row(row: tuple[Any, ...]) -> RunRow:
    i, period, mode, status, at, mark, manifest = row
    return RunRow(i, period, mode, status, _moment(at), _moment(mark) if mark else None, manifest)


def _row_id(cursor: sqlite3.Cursor) -> int:
    """The id SQLite gave the row the cursor just inserted (lastrowid is None only before an INSERT)."""
    row_id = cursor.lastrowid
    assert row_id is not None
    return row_id


def _moment(text: str) -> datetime:
    return datetime.fromisoformat(text)


def _iso(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).isoformat()


def _unique(payouts: Sequence[Payout]) -> tuple[Payout, ...]:
    """De-duplicated by ``_id`` (Amili's idempotency rule); one id with two etags is not one picture."""
    by_id: dict[str, Payout] = {}
    for p in payouts:
        other = by_id.setdefault(p.id, p)
        if other.etag != p.etag:
            raise InconsistentPagingError(f"payout {p.id} came twice with different _etag while the period "
                                          f"was read: run again")
    return tuple(by_id.values())


@contextmanager
def _errors(path: Path, what: str) -> Iterator[None]:
    """SQLite and OS errors as one line that says what could not be done to which register."""
    try:
        yield
    except sqlite3.Error as exc:
        raise RegisterError(f"cannot {what} in {path}: {exc}; nothing more was recorded") from exc
    except OSError as exc:
        raise RegisterError(f"cannot {what} in {path}: {exc.strerror or exc}") from exc


def _connect(target: str, path: Path, *, create: bool) -> sqlite3.Connection:
    damaged = (f"{path} is damaged or is not a ledger-export register; restore it from a backup "
               f"(do not delete it: it is what stops payouts being booked twice)")
    try:
        # isolation_level=None: transactions are ours (BEGIN IMMEDIATE), not the module's.
        db = sqlite3.connect(target, isolation_level=None, uri=target.startswith("file:"))
    except sqlite3.Error as exc:
        raise RegisterError(f"cannot open {path}: {exc}") from exc
    try:
        db.execute("PRAGMA synchronous = FULL")
        if db.execute("PRAGMA quick_check").fetchone()[0] != "ok":
            raise RegisterError(damaged)
        version = db.execute("PRAGMA user_version").fetchone()[0]
        tables = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        if version == 0 and not tables and create:
            # One script, one transaction: the file is either a whole register or still empty.
            fs_step("commit", path)
            db.executescript(f"BEGIN IMMEDIATE;\n{SCHEMA}\nPRAGMA user_version = {SCHEMA_VERSION};\nCOMMIT;")
        elif version > SCHEMA_VERSION:
            raise RegisterError(f"{path} was written by a newer ledger-export (register version {version}, "
                                f"this one knows {SCHEMA_VERSION}): upgrade ledger-export")
        elif version == 2 and create and not target.endswith("mode=ro") and "fortnox_actions" not in tables:
            fs_step("commit", path)
            db.executescript(f"BEGIN IMMEDIATE;\n{MIGRATE_FROM_2}\nPRAGMA user_version = {SCHEMA_VERSION};\nCOMMIT;")
        elif version == 1 and {"runs", "exported_payouts"} <= tables and create and not target.endswith("mode=ro"):
            fs_step("commit", path)
            db.executescript(f"BEGIN IMMEDIATE;\n{_MIGRATE_FROM_1}\nPRAGMA user_version = {SCHEMA_VERSION};\nCOMMIT;")
        elif version == 1 and {"runs", "exported_payouts"} <= tables:
            raise RegisterError(f"{path} is a register of an older ledger-export (version 1): run an export "
                                f"or `ledger-export register show` once to bring it up to date")
        # Version 2 read-only (dry runs, reports): read as it is, with nothing posted to Fortnox.
        elif version not in (2, SCHEMA_VERSION) or not {"runs", "exported_payouts", "run_files", "register_info"} <= tables:
            raise RegisterError(damaged)
        db.execute("PRAGMA foreign_keys = ON")
    except sqlite3.OperationalError as exc:
        # The disk (full, read-only, failing), not the file: "damaged, restore it" would send the
        # bookkeeper after a backup for nothing.
        db.close()
        raise RegisterError(f"cannot open {path}: {exc}") from exc
    except sqlite3.DatabaseError as exc:
        db.close()
        raise RegisterError(f"{damaged} ({exc})") from exc
    except OSError as exc:
        db.close()
        raise RegisterError(f"cannot open {path}: {exc.strerror or exc}") from exc
    except BaseException:
        db.close()
        raise
    return db


def register_exists(root: Path) -> bool:
    return os.path.isfile(Path(root) / REGISTER_FILE)
