"""The parts of ``export --to fortnox`` that differ from writing an SIE file.

The run is today's run up to its checks; then, instead of the ``.si``, its
vouchers go into Fortnox (jobs/fortnox_post.py) and the audit pack records
what Fortnox answered. A Fortnox run of the same period that stopped
half-way is taken over: its payouts are this run's, and what it posted is
never posted again.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from ledger_export.amili.documents import DocumentRecord
from ledger_export.core.errors import ConfigError, LedgerExportError
from ledger_export.core.input_files import MB, read_regular_file
from ledger_export.jobs.fortnox_post import DocumentSource
from ledger_export.jobs.register import Register
from ledger_export.jobs.register_check import Check
from ledger_export.outputs.self_invoices import FOLDER as DOCUMENTS

PDF_LIMIT = 256 * MB


class NotConnectedError(ConfigError):
    """``--to fortnox`` without a way to reach Fortnox."""


def resumed(register: Register, check: Check, period: str) -> tuple[Check, tuple[int, ...]]:
    """``check`` with the payouts of this period's stopped Fortnox runs counted as this run's, and those runs.

    Any other run's payouts stay booked (refused or skipped as always), so a
    payout posted to Fortnox is never written into an ``.si`` as well.
    """
    runs = register.fortnox.resumable_runs(period)
    if not runs:
        return check, ()
    theirs = register.fortnox.payouts_of_runs(runs)
    mine = {p.id for p in check.payouts}
    missing = sorted(theirs - mine)
    if missing:
        raise LedgerExportError(
            f"run(s) {', '.join(map(str, runs))} of {period} stopped while posting to Fortnox, and "
            f"{len(missing)} of their payouts ({', '.join(missing[:5])}) are not in this run: run "
            f"`ledger-export export --to fortnox --period {period}` for the whole period to finish them")
    exported = tuple(e for e in check.exported if e.previous.run_id not in runs)
    again = {e.payout.id for e in check.exported if e.previous.run_id in runs}
    new = tuple(p for p in check.payouts if p.id in again or p in check.new)
    return Check(check.payouts, new, exported), runs


def document_source(documents: Sequence[DocumentRecord], folder: Path) -> DocumentSource:
    """Each payout's self-invoice as uploaded: downloaded by this run (staged), or kept from an earlier one."""
    by_payout = {d.payout_id: d for d in documents if d.in_place and d.file_name}

    def source(payout_id: str) -> tuple[str, bytes] | None:
        record = by_payout.get(payout_id)
        if record is None or record.file_name is None:
            return None
        path = record.staged.path if record.staged is not None else folder / DOCUMENTS / record.file_name
        return record.file_name, read_regular_file(path, PDF_LIMIT, "self-invoice", LedgerExportError)

    return source
