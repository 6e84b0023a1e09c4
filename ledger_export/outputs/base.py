"""What an output is: something that turns the run's data into named files.

Every output (SIE file, workbook, voucher listing, self-invoices, raw
snapshot, manifest, and any a plugin adds) gets the same ``RunData`` and
answers with its files, named relative to the period folder: bytes it made,
or files already staged (the raw snapshot, the self-invoice PDFs). No output
reads the network or writes a file; the export publishes the whole set at
once (core.files.publish). Outputs run one after another (outputs/registry.py),
and each sees in ``produced`` what the ones before it made: the workbook
shows the SIE file's SHA-256, the manifest lists every file's size and hash.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from ledger_export.amili.documents import DocumentRecord
from ledger_export.amili.models import PeriodData
from ledger_export.core.files import Output
from ledger_export.ledger.chart import Chart
from ledger_export.ledger.model import Ledger
from ledger_export.outputs.bundle import OutputNames, RunSettings


@dataclass(frozen=True)
class RunData:
    """Everything a run's outputs are made from, read-only."""

    settings: RunSettings
    data: PeriodData
    ledger: Ledger
    # Every payout's self-invoice: downloaded and staged by this run, kept from an earlier one, or its problem.
    documents: tuple[DocumentRecord, ...]
    # The raw snapshot's files, by name, as amili.snapshot.stage_snapshot staged them.
    snapshot: Mapping[str, Output]
    generated: datetime  # when the outputs say they were made (never the clock unless asked)
    names: OutputNames
    run_id: int | None = None  # the register's run, and its mode (the manifest records both)
    mode: str | None = None
    # What the outputs before this one made: file name in the period folder -> bytes or staged file.
    produced: Mapping[str, Output] = field(default_factory=dict)
    # The target ledger's chart (--chart): its fiscal years and chart type go into the SIE file.
    chart: Chart | None = None
    # A run posted to Fortnox: payout id -> its voucher (series/number/year), document (file id) and
    # invoice payments there, as plain JSON values (jobs/fortnox_post.postings); None: not posted.
    fortnox: Mapping[str, Mapping[str, Any]] | None = None


class RunOutput(Protocol):
    """One output. ``name`` is what ``export --outputs`` calls it."""

    name: str

    def render(self, run: RunData) -> Mapping[str, Output]:
        """This output's files: name relative to the period folder -> bytes, or a file already staged."""
        ...
