"""A run's output files: the names they get in the period folder, and the settings they are made with.

Nothing here renders or writes: each output (outputs/base.py) turns the
run's data into named bytes, and ``files.publish`` puts the whole set in
place at once.
"""

from __future__ import annotations

import itertools
import os
from dataclasses import dataclass
from pathlib import Path

from ledger_export.core.period import Period
from ledger_export.core.settings import Company


@dataclass(frozen=True)
class OutputNames:
    """File names inside the period folder, all of this run's own.

    A period's first export is ``ledger-2025-06.si``; every later run of the
    period (``--only-new``, ``--since-last``, ``--force``) gets ``-run<N>``
    names (N: its run in the register), so a file already imported into
    Fortnox/Visma is never overwritten. An output with a file of its own
    names it from ``stem`` (``ledger-2025-06-run3-vouchers.txt``): the
    manifest, written by every run, keeps the stem of each run its own.
    """

    period: Period
    suffix: str = ""

    @property
    def stem(self) -> str:
        return f"ledger-{self.period.label}{self.suffix}"

    @property
    def sie(self) -> str:
        return f"{self.stem}.si"

    @property
    def workbook(self) -> str:
        return f"{self.stem}.xlsx"

    @property
    def invoice_payments(self) -> str:
        # Named by what it is, first: the bookkeeper looks for it beside the customer ledger's work.
        return f"invoice-payments-{self.period.label}{self.suffix}.csv"

    @property
    def manifest(self) -> str:
        return f"manifest{self.suffix}.json"

    @property
    def raw(self) -> str:
        return f"raw{self.suffix}"

    def free_in(self, folder: Path) -> bool:
        return not any(os.path.lexists(Path(folder) / name) for name in (self.sie, self.workbook, self.manifest,
                                                                         self.invoice_payments, self.raw))


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
