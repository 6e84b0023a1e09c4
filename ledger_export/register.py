"""The export register: which payout went into which file, so none is booked twice.

``<output root>/ledger-export-register.sqlite``, one per output root, next to
the period folders it describes. Two tables:

- ``runs``: one row per run whose outputs are in place (id 1, 2, 3 ...,
  period, mode, status, when the caller says it finished, and the
  ``--since-last`` mark that run set for its period, if any);
- ``exported_payouts``: one row per payout per run (id, ``_etag``, and the
  ``payout_date``, ``payout_reference`` and ``total_amount`` it was booked
  with, the file it went into with that file's SHA-256). ``--force`` adds
  rows; nothing is ever updated or deleted, so the file is an audit trail.

Rows are written only by ``record``, in one transaction, after the outputs
are written: a run that fails or crashes before that leaves no trace here,
and its payouts count as new next time. ``Register.open`` takes the output
root's lock (ledger_export/lock.py) and holds it until ``close``, so
check-write-record is one step for any other run.

Journal: SQLite's default rollback journal (``DELETE``), not WAL. WAL buys
concurrent readers, which the lock rules out anyway, and costs ``-wal`` and
``-shm`` side files and trouble on network shares; with the rollback
journal the register is one file at rest, easy to back up and to attach to
an audit pack. ``synchronous=FULL`` makes a committed record survive a
power cut. ``PRAGMA user_version`` holds the schema version, so a later
version can migrate the file and an older one refuses a newer file.
"""

from __future__ import annotations

import hashlib
import sqlite3
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timezone
from decimal import Decimal
from pathlib import Path

from .amili.models import Payout
from .errors import InconsistentPagingError
from .incremental import Seen, next_mark
from .lock import OutputLock
from .money import format_amount
from .register_check import Check, Export, RegisterError, Run, compare

REGISTER_FILE = "ledger-export-register.sqlite"
SCHEMA_VERSION = 1
# SQLite allows 32766 parameters per statement since 3.32, 999 before; stay below both.
CHUNK = 500

SCHEMA = """
CREATE TABLE runs (
    id           INTEGER PRIMARY KEY,
    period       TEXT NOT NULL,
    mode         TEXT NOT NULL CHECK (mode IN ('normal', 'only-new', 'force')),
    status       TEXT NOT NULL CHECK (status IN ('exported', 'nothing new')),
    exported_at  TEXT NOT NULL,  -- ISO 8601, UTC, from the caller
    created_mark TEXT            -- ISO 8601, UTC: the --since-last mark for period, NULL if not set
);
CREATE TABLE exported_payouts (
    payout_id        TEXT NOT NULL,
    run_id           INTEGER NOT NULL REFERENCES runs (id),
    etag             TEXT NOT NULL,
    payout_date      TEXT,           -- ISO date
    payout_reference TEXT NOT NULL,
    total_amount     TEXT NOT NULL,  -- exact decimal, never a float
    period           TEXT NOT NULL,
    file_name        TEXT NOT NULL,  -- relative to the output root
    sha256           TEXT NOT NULL,
    exported_at      TEXT NOT NULL,
    PRIMARY KEY (payout_id, run_id)
);
CREATE INDEX runs_by_period ON runs (period, id);
"""


@dataclass(frozen=True)
class RunRow:
    id: int
    period: str
    mode: str
    status: str
    exported_at: datetime
    created_mark: datetime | None


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _chunks(items: Sequence, size: int = CHUNK) -> Iterable[Sequence]:
    for start in range(0, len(items), size):
        yield items[start:start + size]


class Register:
    """``with Register.open(root) as register:`` check, write the outputs, then record."""

    def __init__(self, root: Path, connection: sqlite3.Connection, lock: OutputLock | None):
        self.root = Path(root)
        self.path = self.root / REGISTER_FILE
        self._db = connection
        self._lock = lock

    @classmethod
    def open(cls, root: Path, *, read_only: bool = False) -> Register:
        """Lock the output root and open (creating if needed) its register.

        ``read_only`` (dry runs, reports): no lock, nothing created; a root
        without a register reads as an empty one.
        """
        root = Path(root)
        path = root / REGISTER_FILE
        if read_only:
            if not path.exists():
                return cls(root, _connect(":memory:", path, create=True), None)
            return cls(root, _connect(f"{path.resolve().as_uri()}?mode=ro", path, create=False), None)
        lock = OutputLock(root)
        lock.acquire()
        try:
            return cls(root, _connect(str(path), path, create=True), lock)
        except BaseException:
            lock.release()
            raise

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
        rows = self._db.execute(f"SELECT {_EXPORT_COLUMNS} FROM exported_payouts WHERE payout_id = ? "
                                f"ORDER BY run_id", (payout_id,)).fetchall()
        return tuple(_export(row) for row in rows)

    def runs(self) -> tuple[RunRow, ...]:
        rows = self._db.execute("SELECT id, period, mode, status, exported_at, created_mark FROM runs "
                                "ORDER BY id").fetchall()
        return tuple(RunRow(i, period, mode, status, _moment(at), _moment(mark) if mark else None)
                     for i, period, mode, status, at, mark in rows)

    def last_mark(self, period: str) -> datetime | None:
        """The ``--since-last`` mark of the latest run of ``period`` that set one."""
        row = self._db.execute("SELECT created_mark FROM runs WHERE period = ? AND created_mark IS NOT NULL "
                               "ORDER BY id DESC LIMIT 1", (period,)).fetchone()
        return _moment(row[0]) if row else None

    def next_run_id(self) -> int:
        """The id ``record`` will give the next run (stable while the lock is held): for file names."""
        return self._db.execute("SELECT COALESCE(MAX(id), 0) + 1 FROM runs").fetchone()[0]

    # -- writing -------------------------------------------------------------------

    def record(self, run: Run, payouts: Sequence[Payout], file_name: str | None, sha256: str | None, *,
               seen: Sequence[Seen] | None = None) -> int:
        """Record a run whose outputs are in place; returns its id.

        ``file_name`` (relative to the root) must exist with that SHA-256:
        recording before writing would mark payouts booked that no file
        holds. A run that exported nothing (``--only-new`` with nothing new)
        passes no file. ``seen`` (from incremental.fetch_seen) moves the
        period's ``--since-last`` mark, in the same transaction.
        """
        if self._lock is None:
            raise RegisterError(f"{self.path} was opened read-only: nothing can be recorded")
        payouts = _unique(payouts)
        if payouts:
            self._verify_output(file_name, sha256)
        elif file_name is not None:
            raise RegisterError(f"run for {run.period} names {file_name} but exported no payouts")
        at = run.exported_at.astimezone(timezone.utc).isoformat()
        try:
            self._db.execute("BEGIN IMMEDIATE")
            run_id = self._db.execute(
                "INSERT INTO runs (period, mode, status, exported_at) VALUES (?, ?, ?, ?)",
                (run.period, run.mode, "exported" if payouts else "nothing new", at)).lastrowid
            self._db.executemany(
                f"INSERT INTO exported_payouts ({_EXPORT_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [(p.id, p.etag, p.payout_date.isoformat() if p.payout_date else None, p.payout_reference,
                  format_amount(p.total_amount), run.period, file_name, sha256, run_id, at) for p in payouts])
            if seen is not None:
                mark = next_mark(seen, self._exported_ids([s.id for s in seen]), self.last_mark(run.period))
                if mark is not None:
                    self._db.execute("UPDATE runs SET created_mark = ? WHERE id = ?", (mark.isoformat(), run_id))
            self._db.execute("COMMIT")
        except BaseException:
            if self._db.in_transaction:
                self._db.execute("ROLLBACK")
            raise
        return run_id

    # -- machinery -----------------------------------------------------------------

    def _verify_output(self, file_name: str | None, sha256: str | None) -> None:
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

    def _latest_exports(self, ids: Sequence[str]) -> dict[str, Export]:
        latest: dict[str, Export] = {}
        for chunk in _chunks(ids):
            marks = ", ".join("?" * len(chunk))
            rows = self._db.execute(f"SELECT {_EXPORT_COLUMNS} FROM exported_payouts WHERE payout_id IN "
                                    f"({marks}) ORDER BY run_id", tuple(chunk)).fetchall()
            for row in rows:  # ascending run_id: the last one wins
                latest[row[0]] = _export(row)
        return latest

    def _exported_ids(self, ids: Sequence[str]) -> set[str]:
        found: set[str] = set()
        for chunk in _chunks(ids):
            marks = ", ".join("?" * len(chunk))
            found.update(r[0] for r in self._db.execute(
                f"SELECT DISTINCT payout_id FROM exported_payouts WHERE payout_id IN ({marks})", tuple(chunk)))
        return found


_EXPORT_COLUMNS = ("payout_id, etag, payout_date, payout_reference, total_amount, period, file_name, "
                   "sha256, run_id, exported_at")


def _export(row: tuple) -> Export:
    pid, etag, day, reference, total, period, file_name, sha, run_id, at = row
    return Export(pid, etag, date.fromisoformat(day) if day else None, reference, Decimal(total), period,
                  file_name, sha, run_id, _moment(at))


def _moment(text: str) -> datetime:
    return datetime.fromisoformat(text)


def _unique(payouts: Sequence[Payout]) -> tuple[Payout, ...]:
    """De-duplicated by ``_id`` (Amili's idempotency rule); one id with two etags is not one picture."""
    by_id: dict[str, Payout] = {}
    for p in payouts:
        other = by_id.setdefault(p.id, p)
        if other.etag != p.etag:
            raise InconsistentPagingError(f"payout {p.id} came twice with different _etag while the period "
                                          f"was read: run again")
    return tuple(by_id.values())


def _connect(target: str, path: Path, *, create: bool) -> sqlite3.Connection:
    damaged = (f"{path} is damaged or is not a ledger-export register; restore it from a backup "
               f"(do not delete it: it is what stops payouts being booked twice)")
    try:
        # isolation_level=None: transactions are ours (BEGIN IMMEDIATE in record), not the module's.
        db = sqlite3.connect(target, isolation_level=None, uri=target.startswith("file:"))
    except sqlite3.Error as exc:
        raise RegisterError(f"cannot open {path}: {exc}") from exc
    try:
        db.execute("PRAGMA synchronous = FULL")
        db.execute("PRAGMA foreign_keys = ON")
        if db.execute("PRAGMA quick_check").fetchone()[0] != "ok":
            raise RegisterError(damaged)
        version = db.execute("PRAGMA user_version").fetchone()[0]
        tables = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        if version == 0 and not tables and create:
            # One script, one transaction: the file is either a whole register or still empty.
            db.executescript(f"BEGIN IMMEDIATE;\n{SCHEMA}\nPRAGMA user_version = {SCHEMA_VERSION};\nCOMMIT;")
        elif version > SCHEMA_VERSION:
            raise RegisterError(f"{path} was written by a newer ledger-export (register version {version}, "
                                f"this one knows {SCHEMA_VERSION}): upgrade ledger-export")
        elif version != SCHEMA_VERSION or not {"runs", "exported_payouts"} <= tables:
            raise RegisterError(damaged)
    except sqlite3.DatabaseError as exc:
        db.close()
        raise RegisterError(f"{damaged} ({exc})") from exc
    except BaseException:
        db.close()
        raise
    return db
