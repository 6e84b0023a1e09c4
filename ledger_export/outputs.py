"""A run's output files, rendered in memory: names, bytes, and what they vouch for.

Nothing here writes; ``files.publish`` puts the whole set in place at once.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from . import __version__
from .amili.models import PeriodData
from .config import Config
from .errors import OutputError
from .files import Output
from .ledger.model import Ledger
from .period import Period
from .sie.validate import validate as validate_sie
from .sie.writer import render_sie
from .writers.config_dump import config_hash, config_rows
from .writers.documents import DocumentRecord, sha256_hex
from .writers.manifest import previous_document_hashes, render_manifest
from .writers.workbook import render_workbook


@dataclass(frozen=True)
class OutputNames:
    """File names inside the period folder.

    A period's first export is ``ledger-2025-06.si``; a later ``--only-new``
    or ``--since-last`` run that books more payouts gets ``-run<N>`` names,
    so a file already imported into Fortnox/Visma is never overwritten.
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


def previous_hashes(folder: Path, names: OutputNames) -> dict[str, str]:
    """Self-invoice hashes the last run of this period recorded, to skip re-downloads."""
    try:
        return previous_document_hashes((folder / names.manifest).read_bytes())
    except FileNotFoundError:
        return {}


def render_outputs(config: Config, data: PeriodData, ledger: Ledger, snapshot: Mapping[str, Output],
                   documents: tuple[DocumentRecord, ...], generated: datetime,
                   names: OutputNames) -> dict[str, Output]:
    """Every file of the run but the PDFs (already in place), keyed by name in the period folder.

    ``snapshot``: the raw snapshot's files (as ``stage_snapshot`` staged them).
    """
    sie = render_sie(ledger, config.company, generated=generated.date(), program_version=__version__,
                     ksumma=bool(config.sie and config.sie.ksumma))
    problems = [f for f in validate_sie(sie, names.sie) if f.severity == "error"]
    if problems:  # our own file failed our own reader: a bug, but never hand it to the bookkeeper
        first = problems[0]
        raise OutputError(f"the SIE file we made does not validate, so nothing was written: "
                          f"line {first.line}: {first.message}")
    workbook = render_workbook(ledger=ledger, data=data, company=config.company, creditor=data.creditor,
                               generated=generated, tool_version=__version__, documents=documents,
                               checksums={names.sie: sha256_hex(sie)}, mapping_rows=config_rows(config))
    outputs: dict[str, Output] = {f"{names.raw}/{name}": content for name, content in snapshot.items()}
    outputs[names.sie] = sie
    outputs[names.workbook] = workbook
    outputs[names.manifest] = render_manifest(data=data, ledger=ledger, creditor=data.creditor,
                                              config_sha256=config_hash(config), generated=generated,
                                              tool_version=__version__, documents=documents,
                                              outputs=dict(outputs))
    return outputs
