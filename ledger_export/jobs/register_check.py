"""What the export register says about a run's payouts: new, exported before, or drifted since.

Pure records and decisions; the SQLite file is jobs/register.py.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Literal, get_args

from ledger_export.amili.models import Payout
from ledger_export.core.errors import LedgerExportError
from ledger_export.ledger.model import ERROR, WARNING, Finding
from ledger_export.core.money import format_amount

# How a run treats payouts exported before; written as they are into the register.
RunMode = Literal["normal", "only-new", "force"]
MODES: tuple[RunMode, ...] = get_args(RunMode)
# Drift findings describe vouchers of earlier runs, which this run cannot change: they are shown
# in every mode (the amount as an error) and never stop the run that finds them.
DRIFT = "drift"
# How many payout ids one error line lists before it says "and N more".
LISTED = 10


class RegisterError(LedgerExportError):
    """The register file is damaged, foreign, newer than this version, or used wrongly."""


class AlreadyExportedError(LedgerExportError):
    """The run would book payouts that are in the register already; its own exit code for scripts."""

    exit_code = 4

    def __init__(self, exported: Sequence[Exported]):
        self.exported = tuple(exported)
        by_file: dict[tuple[str, int, datetime], list[Exported]] = {}
        for e in self.exported:
            p = e.previous
            by_file.setdefault((p.file_name, p.run_id, p.exported_at), []).append(e)
        parts, listed = [], 0
        for (file_name, run_id, at), items in by_file.items():
            shown = items[: max(LISTED - listed, 0)]
            listed += len(shown)
            if shown:
                names = ", ".join(label(e.payout) for e in shown)
                parts.append(f"to {file_name} (run {run_id}, {at:%Y-%m-%d %H:%M} UTC): {names}")
        more = len(self.exported) - listed
        tail = f", and {more} more" if more > 0 else ""
        count = len(self.exported)
        # Drift is never silent: a booked payout that changed at Amili is named here too, one line each.
        changed = [f"{'ERROR' if e.amount_changed else 'warning'}: {e.describe_drift()}"
                   for e in self.exported if e.drifted]
        super().__init__("\n".join([f"{count} payout{'s' if count != 1 else ''} of this run "
                                    f"{'were' if count != 1 else 'was'} exported before, "
                                    f"{'; '.join(parts)}{tail}; use --only-new to export just the rest, "
                                    f"or --force to export them again", *changed]))


@dataclass(frozen=True)
class Run:
    """One export run as the caller describes it; the register numbers it when it records it."""

    period: str
    mode: RunMode
    exported_at: datetime  # the caller's clock: the library reads none

    def __post_init__(self) -> None:
        if self.mode not in MODES:
            raise ValueError(f"mode must be one of {', '.join(MODES)}, got {self.mode!r}")
        if self.exported_at.tzinfo is None:
            raise ValueError("exported_at must be timezone-aware")


@dataclass(frozen=True)
class Export:
    """One earlier export of one payout, as the register keeps it."""

    payout_id: str
    etag: str
    payout_date: date | None
    payout_reference: str
    total_amount: Decimal
    period: str
    file_name: str
    sha256: str
    run_id: int
    exported_at: datetime


@dataclass(frozen=True)
class Change:
    field: str
    before: str
    after: str


def label(payout: Payout) -> str:
    """How a bookkeeper finds a payout: its id, and the reference on the bank statement."""
    return f"{payout.id} (ref {payout.payout_reference})" if payout.payout_reference else payout.id


def _show(value: object) -> str:
    if value is None or value == "":
        return "(none)"
    return format_amount(value) if isinstance(value, Decimal) else str(value)


@dataclass(frozen=True)
class Exported:
    """A payout of this run that an earlier run exported; ``changes`` is empty unless it drifted."""

    payout: Payout
    previous: Export
    changes: tuple[Change, ...] = ()

    @property
    def drifted(self) -> bool:
        return bool(self.changes)

    @property
    def amount_changed(self) -> bool:
        """The booked voucher's amount is no longer Amili's: the ledger is wrong until corrected."""
        return any(c.field == "total_amount" for c in self.changes)

    def finding(self) -> Finding:
        """Drift as the run summary, workbook and manifest show it: an error when the amount moved."""
        return Finding(DRIFT, ERROR if self.amount_changed else WARNING, self.describe_drift(), self.payout.id)

    def describe_drift(self) -> str:
        p, prev = self.payout, self.previous
        if [c.field for c in self.changes] == ["_etag"]:
            what = "changed at Amili, but not in payout_date, payout_reference or total_amount (only its _etag)"
        else:
            what = "changed at Amili: " + ", ".join(
                f"{c.field} {c.before} -> {c.after}" for c in self.changes if c.field != "_etag")
        return (f"payout {label(p)} {what}, since it was exported to {prev.file_name} "
                f"(run {prev.run_id}, {prev.exported_at:%Y-%m-%d}); check that voucher in the ledger")


def compare(payout: Payout, previous: Export) -> Exported:
    """The fields a bookkeeper's voucher depends on, compared to what was exported."""
    if payout.etag == previous.etag:
        return Exported(payout, previous)
    pairs = [("payout_date", previous.payout_date, payout.payout_date),
             ("payout_reference", previous.payout_reference, payout.payout_reference),
             ("total_amount", previous.total_amount, payout.total_amount)]
    changes = [Change(name, _show(old), _show(new)) for name, old, new in pairs if old != new]
    # The etag changes whenever Amili rewrites the record; say so even when
    # none of the booked fields moved, so the bookkeeper knows it was looked at.
    changes.append(Change("_etag", previous.etag, payout.etag))
    return Exported(payout, previous, tuple(changes))


@dataclass(frozen=True)
class Check:
    """A run's payouts sorted by what the register knows, each list in the run's order."""

    payouts: tuple[Payout, ...]  # all of them, in the run's order
    new: tuple[Payout, ...]
    exported: tuple[Exported, ...]

    @property
    def drifted(self) -> tuple[Exported, ...]:
        return tuple(e for e in self.exported if e.drifted)

    def to_export(self, mode: RunMode) -> tuple[Payout, ...]:
        """The payouts this run may book: raises AlreadyExportedError in normal mode if any was booked."""
        if mode not in MODES:
            raise ValueError(f"mode must be one of {', '.join(MODES)}, got {mode!r}")
        if mode == "force":
            return self.payouts
        if mode == "normal" and self.exported:
            raise AlreadyExportedError(self.exported)
        return self.new

    def warnings(self) -> tuple[str, ...]:
        """One line per drifted payout, for the run summary and the workbook."""
        return tuple(e.describe_drift() for e in self.drifted)

    def drift_findings(self) -> tuple[Finding, ...]:
        return tuple(e.finding() for e in self.drifted)
