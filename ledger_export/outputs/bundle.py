"""A run's output files, rendered in memory: names, bytes, and what they vouch for.

Nothing here writes; ``files.publish`` puts the whole set in place at once.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from ledger_export.core.version import __version__
from ledger_export.amili.models import PeriodData
from ledger_export.core.settings import Company
from ledger_export.core.errors import OutputError
from ledger_export.core.files import Output
from ledger_export.ledger.model import Ledger
from ledger_export.core.period import Period
from ledger_export.sie.validate import validate as validate_sie
from ledger_export.sie.writer import render_sie
from ledger_export.outputs.self_invoices import FOLDER, DocumentRecord, sha256_hex
from ledger_export.outputs.manifest import render_manifest
from ledger_export.outputs.workbook import render_workbook


@dataclass(frozen=True)
class OutputNames:
    """File names inside the period folder, all of this run's own.

    A period's first export is ``ledger-2025-06.si``; every later run of the
    period (``--only-new``, ``--since-last``, ``--force``) gets ``-run<N>``
    names (N: its run in the register), so a file already imported into
    Fortnox/Visma is never overwritten.
    """

    period: Period
    suffix: str = ""

    @property
    def sie(self) -> str:
        return f"ledger-{self.period.label}{self.suffix}.si"

    @property
    def workbook(self) -> str:
        return f"ledger-{self.period.label}{self.suffix}.xlsx"

    @property
    def manifest(self) -> str:
        return f"manifest{self.suffix}.json"

    @property
    def raw(self) -> str:
        return f"raw{self.suffix}"

    def free_in(self, folder: Path) -> bool:
        return not any(os.path.lexists(Path(folder) / name) for name in (self.sie, self.workbook, self.manifest,
                                                                         self.raw))


def choose_names(folder: Path, period: Period, run_id: int) -> OutputNames:
    """The first set of names no file in ``folder`` holds: the plain ones, then ``-run<N>``, then counted."""
    suffixes = itertools.chain(["", f"-run{run_id}"], (f"-run{run_id}-{n}" for n in itertools.count(2)))
    return next(names for names in (OutputNames(period, s) for s in suffixes) if names.free_in(folder))


@dataclass(frozen=True)
class RunSettings:
    """What the outputs need of the configuration, as data: the company, SIE options, the settings shown."""

    company: Company
    ksumma: bool
    mapping_rows: tuple[tuple[str, str], ...]  # (setting, value) for the workbook's Mapping sheet
    config_sha256: str  # of the settings that decided the bookkeeping (manifest)


def render_outputs(settings: RunSettings, data: PeriodData, ledger: Ledger, snapshot: Mapping[str, Output],
                   documents: tuple[DocumentRecord, ...], generated: datetime,
                   names: OutputNames, *, run_id: int | None = None, mode: str | None = None) -> dict[str, Output]:
    """Every file this run publishes, keyed by name in the period folder.

    ``snapshot``: the raw snapshot's files (as ``stage_snapshot`` staged them);
    the self-invoices this run downloaded are in ``documents`` (staged); those
    an earlier run published stay where they are and are only listed.
    """
    sie = render_sie(ledger, settings.company, generated=generated.date(), program_version=__version__,
                     ksumma=settings.ksumma)
    problems = [f for f in validate_sie(sie, names.sie) if f.severity == "error"]
    if problems:  # our own file failed our own reader: a bug, but never hand it to the bookkeeper
        first = problems[0]
        raise OutputError(f"the SIE file we made does not validate, so nothing was written: "
                          f"line {first.line}: {first.message}")
    workbook = render_workbook(ledger=ledger, data=data, company=settings.company, creditor=data.creditor,
                               generated=generated, tool_version=__version__, documents=documents,
                               checksums={names.sie: sha256_hex(sie)}, mapping_rows=settings.mapping_rows)
    outputs: dict[str, Output] = {f"{names.raw}/{name}": content for name, content in snapshot.items()}
    outputs.update({f"{FOLDER}/{d.file_name}": d.staged for d in documents if d.staged is not None})
    outputs[names.sie] = sie
    outputs[names.workbook] = workbook
    outputs[names.manifest] = render_manifest(data=data, ledger=ledger, creditor=data.creditor,
                                              config_sha256=settings.config_sha256, generated=generated,
                                              tool_version=__version__, documents=documents,
                                              outputs=dict(outputs), orgnr=settings.company.orgnr,
                                              run_id=run_id, mode=mode)
    return outputs
