"""The register's record of what a run did in Fortnox: one row per action, written before it is asked for.

Table ``fortnox_actions`` (register schema version 3). An action is one
write in Fortnox for one payout: its ``voucher``, the upload of its
self-invoice (``document``), the ``connection`` of that file to the voucher,
and each invoice ``payment``. Its status moves

    planned  -> pending -> confirmed        (payments are planned with their voucher)
                pending -> absent           (the request failed, or Fortnox holds nothing)
                absent  -> pending -> ...   (asked for again)

``pending`` is written and committed *before* the request goes out, and
``confirmed`` (with what Fortnox answered: series/number/year, file id,
payment number) right after the answer, each in its own transaction. A
pending row found later is an answer lost: the engine settles it by looking
in Fortnox, never by asking again. Rows are found by payout id, whichever
run wrote them, so a run that takes over one stopped half-way carries on
where it stopped.

A Fortnox run is a row of ``runs`` like any other; its payouts are
recorded as booked into ``fortnox:<series>`` (``exported_payouts.file_name``)
instead of an SIE file. Its outputs (workbook, PDFs, snapshot, manifest)
are noted in ``run_files`` only after the posting, since the manifest
records what Fortnox answered.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Iterable, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, replace
from datetime import date, datetime, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal

from ledger_export.amili.models import Payout
from ledger_export.core.money import format_amount
from ledger_export.jobs.fortnox_books import VoucherRef
from ledger_export.jobs.register_check import RegisterError, Run

FORTNOX_PREFIX = "fortnox:"
ActionKind = Literal["voucher", "document", "connection", "payment"]
ActionStatus = Literal["planned", "pending", "confirmed", "absent"]

FORTNOX_TABLE = """
CREATE TABLE fortnox_actions (
    id             INTEGER PRIMARY KEY,
    run_id         INTEGER NOT NULL REFERENCES runs (id),  -- the run that asked for it
    payout_id      TEXT NOT NULL,
    etag           TEXT NOT NULL,   -- the payout's _etag when the action was planned
    kind           TEXT NOT NULL CHECK (kind IN ('voucher', 'document', 'connection', 'payment')),
    status         TEXT NOT NULL CHECK (status IN ('planned', 'pending', 'confirmed', 'absent')),
    day            TEXT,            -- ISO date: the voucher's, or the payment's
    series         TEXT,            -- voucher, connection: the voucher in Fortnox
    number         INTEGER,
    year           INTEGER,
    file_name      TEXT,            -- document: the self-invoice as uploaded
    size           INTEGER,
    file_id        TEXT,            -- document (once confirmed), connection
    invoice        TEXT,            -- payment: the invoice's DocumentNumber
    amount         TEXT,            -- payment: exact decimal
    payment_number INTEGER,
    bookkept       INTEGER NOT NULL DEFAULT 0,
    voucher_action INTEGER,         -- payment: the voucher row it was planned with (they agree)
    match_key      TEXT,            -- payment: the Amili value the invoice was found by
    lines          TEXT,            -- payment: the specification lines it settles, JSON [[id, "amount"], ...]
    updated_at     TEXT NOT NULL
);
CREATE INDEX fortnox_actions_by_payout ON fortnox_actions (payout_id, kind, id);
"""
# Version 2 -> 3: only the new table; nothing of version 2 changes.
MIGRATE_FROM_2 = FORTNOX_TABLE

_COLUMNS = ("id, run_id, payout_id, etag, kind, status, day, series, number, year, file_name, size, file_id, "
            "invoice, amount, payment_number, bookkept, voucher_action, match_key, lines")


@dataclass(frozen=True)
class Action:
    id: int
    run_id: int
    payout_id: str
    etag: str
    kind: ActionKind
    status: ActionStatus
    day: date | None = None
    series: str | None = None
    number: int | None = None
    year: int | None = None
    file_name: str | None = None
    size: int | None = None
    file_id: str | None = None
    invoice: str | None = None
    amount: Decimal | None = None
    payment_number: int | None = None
    bookkept: bool = False
    voucher_action: int | None = None
    # payment: what it settles, so a resumed run rebuilds the voucher as it was posted
    match_key: str | None = None
    lines: tuple[tuple[str, Decimal], ...] = ()

    @property
    def voucher(self) -> VoucherRef | None:
        if self.series is None or self.number is None or self.year is None:
            return None
        return VoucherRef(self.series, self.number, self.year)

    def describe(self) -> str:
        what = {"voucher": f"voucher for payout {self.payout_id} (series {self.series}, {self.day})",
                "document": f"self-invoice {self.file_name} of payout {self.payout_id}",
                "connection": f"connection of file {self.file_id} to voucher {self.voucher}",
                "payment": f"payment of {format_amount(self.amount) if self.amount is not None else '?'} "
                           f"on invoice {self.invoice} ({self.day}) for payout {self.payout_id}"}
        return what[self.kind]


@dataclass(frozen=True)
class PayoutActions:
    """The latest row of each of a payout's actions; payments: those planned with that voucher row."""

    voucher: Action | None = None
    document: Action | None = None
    connection: Action | None = None
    payments: tuple[Action, ...] = ()

    def all(self) -> tuple[Action, ...]:
        return tuple(a for a in (self.voucher, self.document, self.connection) if a) + self.payments


# invoice, amount, day, the Amili key it was matched by, its specification lines (id, amount)
PlannedPayment = tuple[str, Decimal, date, str, tuple[tuple[str, Decimal], ...]]


def _lines_json(lines: Sequence[tuple[str, Decimal]]) -> str:
    return json.dumps([[spec_id, format_amount(amount)] for spec_id, amount in lines])


def _lines_read(text: str | None) -> tuple[tuple[str, Decimal], ...]:
    return tuple((str(spec_id), Decimal(amount)) for spec_id, amount in json.loads(text)) if text else ()


def _action(row: tuple[Any, ...]) -> Action:
    (i, run_id, pid, etag, kind, status, day, series, number, year, file_name, size, file_id, invoice, amount,
     payment_number, bookkept, voucher_action, match_key, lines) = row
    return Action(i, run_id, pid, etag, kind, status, date.fromisoformat(day) if day else None, series, number,
                  year, file_name, size, file_id, invoice, Decimal(amount) if amount is not None else None,
                  payment_number, bool(bookkept), voucher_action, match_key, _lines_read(lines))


def _now() -> str:
    return datetime.now(timezone.utc).replace(microsecond=0).isoformat()


def has_table(db: sqlite3.Connection) -> bool:
    return db.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'fortnox_actions'").fetchone() \
        is not None


def holds_run(db: sqlite3.Connection, run_id: int) -> bool:
    """Whether a pending run has anything in Fortnox (pending or confirmed): then it is never abandoned.

    By payout, whichever run wrote the action: a run that took over another
    holds what that one posted.
    """
    if not has_table(db):
        return False
    return db.execute(
        "SELECT 1 FROM fortnox_actions a JOIN exported_payouts e ON e.payout_id = a.payout_id "
        "WHERE e.run_id = ? AND a.status IN ('pending', 'confirmed') LIMIT 1", (run_id,)).fetchone() is not None


class FortnoxRegister:
    """The Fortnox side of one open register (``Register.fortnox``)."""

    def __init__(self, db: sqlite3.Connection, path: Path,
                 transaction: Callable[[str], AbstractContextManager[None]], writable: bool):
        self._db = db
        self.path = path
        self._transaction = transaction
        self._writable = writable

    # -- reading -------------------------------------------------------------------

    def _rows(self, sql: str, params: Sequence[Any] = ()) -> list[Action]:
        if not has_table(self._db):  # a version-2 register opened read-only: nothing posted yet
            return []
        try:
            return [_action(r) for r in self._db.execute(f"SELECT {_COLUMNS} FROM fortnox_actions {sql}", params)]
        except sqlite3.Error as exc:
            raise RegisterError(f"cannot read {self.path}: {exc}") from exc

    def actions_of(self, payout_ids: Iterable[str]) -> dict[str, PayoutActions]:
        """Payout id -> the latest row of each of its actions (payments: one per invoice)."""
        wanted = sorted(set(payout_ids))
        rows: list[Action] = []
        for start in range(0, len(wanted), 500):
            chunk = wanted[start:start + 500]
            rows += self._rows(f"WHERE payout_id IN ({', '.join('?' * len(chunk))}) ORDER BY id", chunk)
        latest: dict[tuple[str, str], Action] = {}
        for a in rows:  # ascending id: the last one wins
            if a.kind != "payment":
                latest[(a.payout_id, a.kind)] = a
        found: dict[str, PayoutActions] = {}
        for (pid, kind), a in latest.items():
            held = found.get(pid, PayoutActions())
            found[pid] = (replace(held, voucher=a) if kind == "voucher" else
                          replace(held, document=a) if kind == "document" else replace(held, connection=a))
        for a in rows:
            owner = found.get(a.payout_id)
            if a.kind == "payment" and owner is not None and owner.voucher is not None \
                    and a.voucher_action == owner.voucher.id:
                found[a.payout_id] = replace(owner, payments=owner.payments + (a,))
        return found

    def unknown(self) -> tuple[Action, ...]:
        """Every action whose answer never arrived (pending), oldest first."""
        return tuple(self._rows("WHERE status = 'pending' ORDER BY id"))

    def confirmed(self) -> tuple[Action, ...]:
        return tuple(self._rows("WHERE status = 'confirmed' ORDER BY id"))

    def resumable_runs(self, period: str) -> tuple[int, ...]:
        """Pending Fortnox runs of ``period`` (stopped while posting): the next Fortnox run takes them over."""
        rows = self._db.execute(
            "SELECT DISTINCT r.id FROM runs r JOIN exported_payouts e ON e.run_id = r.id "
            "WHERE r.period = ? AND r.status = 'pending' AND e.file_name LIKE 'fortnox:%' ORDER BY r.id",
            (period,)).fetchall()
        return tuple(r[0] for r in rows)

    def payouts_of_runs(self, run_ids: Sequence[int]) -> set[str]:
        found: set[str] = set()
        for run_id in run_ids:
            found.update(r[0] for r in self._db.execute(
                "SELECT payout_id FROM exported_payouts WHERE run_id = ?", (run_id,)))
        return found

    # -- writing -------------------------------------------------------------------

    def _write(self, what: str) -> AbstractContextManager[None]:
        if not self._writable:
            raise RegisterError(f"{self.path} was opened read-only: nothing can be recorded")
        return self._transaction(what)

    def begin_run(self, run: Run, payouts: Sequence[Payout], *, series: str, manifest: str,
                  takes_over: Sequence[int] = ()) -> int:
        """Record a Fortnox run as pending before anything is posted; it takes over ``takes_over``.

        In the same transaction the runs it takes over are marked abandoned:
        their payouts are this run's now, so they are booked throughout.
        """
        target = f"{FORTNOX_PREFIX}{series}"
        at = run.exported_at.astimezone(timezone.utc).isoformat()
        with self._write("note the Fortnox run as pending"):
            cursor = self._db.execute(
                "INSERT INTO runs (period, mode, status, exported_at, manifest) VALUES (?, ?, 'pending', ?, ?)",
                (run.period, run.mode, at, manifest))
            run_id = cursor.lastrowid
            assert run_id is not None
            self._db.executemany(
                "INSERT INTO exported_payouts (payout_id, etag, payout_date, payout_reference, total_amount, "
                "period, file_name, sha256, run_id, exported_at) VALUES (?, ?, ?, ?, ?, ?, ?, '', ?, ?)",
                [(p.id, p.etag, p.payout_date.isoformat() if p.payout_date else None, p.payout_reference,
                  format_amount(p.total_amount), run.period, target, run_id, at) for p in payouts])
            for old in takes_over:
                self._db.execute("UPDATE runs SET status = 'abandoned' WHERE id = ? AND status = 'pending'", (old,))
        return run_id

    def note_files(self, run_id: int, files: Mapping[str, tuple[int, str]]) -> None:
        """The outputs a Fortnox run is about to publish (known only once it has posted)."""
        with self._write("note the run's files"):
            self._db.execute("DELETE FROM run_files WHERE run_id = ?", (run_id,))
            self._db.executemany("INSERT INTO run_files (run_id, name, size, sha256) VALUES (?, ?, ?, ?)",
                                 [(run_id, name, size, sha) for name, (size, sha) in sorted(files.items())])

    def start_voucher(self, run_id: int, payout: Payout, series: str, day: date,
                      payments: Sequence[PlannedPayment]) -> int:
        """The voucher as pending and its invoice payments as planned, in one transaction: they agree."""
        now = _now()
        with self._write("note the voucher as asked for"):
            self._db.execute("UPDATE fortnox_actions SET status = 'absent', updated_at = ? "
                             "WHERE payout_id = ? AND kind = 'payment' AND status = 'planned'", (now, payout.id))
            cursor = self._db.execute(
                "INSERT INTO fortnox_actions (run_id, payout_id, etag, kind, status, day, series, updated_at) "
                "VALUES (?, ?, ?, 'voucher', 'pending', ?, ?, ?)",
                (run_id, payout.id, payout.etag, day.isoformat(), series, now))
            action_id = cursor.lastrowid
            for invoice, amount, paid, key, lines in payments:
                self._db.execute(
                    "INSERT INTO fortnox_actions (run_id, payout_id, etag, kind, status, day, invoice, amount, "
                    "voucher_action, match_key, lines, updated_at) "
                    "VALUES (?, ?, ?, 'payment', 'planned', ?, ?, ?, ?, ?, ?, ?)",
                    (run_id, payout.id, payout.etag, paid.isoformat(), invoice, format_amount(amount), action_id,
                     key, _lines_json(lines), now))
        assert action_id is not None
        return action_id

    def start(self, run_id: int, payout_id: str, etag: str, kind: ActionKind, **fields: Any) -> int:
        """A document or connection, as pending, before it is asked for."""
        names = ", ".join(fields)
        values = list(fields.values())
        with self._write(f"note the {kind} as asked for"):
            cursor = self._db.execute(
                f"INSERT INTO fortnox_actions (run_id, payout_id, etag, kind, status, updated_at"
                f"{', ' + names if names else ''}) VALUES (?, ?, ?, ?, 'pending', ?{', ?' * len(fields)})",
                (run_id, payout_id, etag, kind, _now(), *values))
            action_id = cursor.lastrowid
        assert action_id is not None
        return action_id

    def set(self, action_id: int, status: ActionStatus, **fields: Any) -> None:
        """Move one action on (pending, confirmed or absent), with what Fortnox answered."""
        assignments = "".join(f", {name} = ?" for name in fields)
        values = [int(v) if isinstance(v, bool) else v for v in fields.values()]
        with self._write(f"note the action as {status}"):
            self._db.execute(f"UPDATE fortnox_actions SET status = ?, updated_at = ?{assignments} WHERE id = ?",
                             (status, _now(), *values, action_id))

    def confirm_voucher(self, action_id: int, ref: VoucherRef) -> None:
        self.set(action_id, "confirmed", series=ref.series, number=ref.number, year=ref.year)
