"""``ledger-export export``: fetch (or read a raw snapshot), book, check, write.

Order matters for trust: everything is computed and checked in memory first
(records read strictly, vouchers balanced, reconciliation, our own SIE file
validated by the reader), and only then written, each file atomically.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from pathlib import Path

from . import __version__
from .amili.auth import TokenProvider
from .amili.fetch import RawPeriod
from .amili.models import PeriodData
from .amili.snapshot import load_snapshot, period_data, save_snapshot
from .config import Config
from .errors import LedgerExportError, OutputError, PeriodError
from .files import write_atomic
from .jobs import fetch_raw, period_folder
from .ledger import reconcile
from .ledger.chart import Chart
from .ledger.model import Finding, Ledger
from .ledger.settings import from_config as ledger_settings
from .ledger.summary import render_summary
from .ledger.vouchers import build_ledger
from .period import Period
from .progress import NoProgress, Progress
from .sie.validate import validate as validate_sie
from .sie.writer import render_sie


class ReconciliationFailed(LedgerExportError):
    """The books do not reconcile (errors, or warnings under --strict): nothing is written."""

    exit_code = 3

    def __init__(self, failures: tuple[Finding, ...], strict: bool, summary: str = ""):
        first = failures[0]
        more = f" (and {len(failures) - 1} more, see the summary above)" if len(failures) > 1 else ""
        rule = " under --strict" if strict and first.severity == "warning" else ""
        super().__init__(f"reconciliation failed{rule}: {first.check}: {first.message}{more}")
        self.failures = failures
        self.summary = summary


@dataclass(frozen=True)
class ExportOptions:
    detail: str | None = None          # "account" or "invoice"; None: the configuration's
    chart: Path | None = None          # the target ledger's own SIE export (#KONTO)
    strict: bool = False
    # #GEN and the workbook's run time: "input" (newest record fetched; the
    # default, so the same input gives the same bytes), "today" (the clock),
    # or a fixed date.
    generated: str | date = "input"
    from_raw: Path | None = None
    dry_run: bool = False


@dataclass(frozen=True)
class ExportResult:
    period: Period
    folder: Path
    data: PeriodData
    ledger: Ledger
    summary: str
    files: tuple[Path, ...] = ()
    requests: int | None = None
    dry_run: bool = False
    notes: tuple[str, ...] = field(default=())

    def describe(self) -> str:
        lines = [self.summary.rstrip("\n"), ""]
        if self.dry_run:
            lines.append("Dry run: nothing was written.")
        else:
            lines.append(f"Outputs in {self.folder}:")
            lines += [f"  {path.relative_to(self.folder)}" for path in self.files]
        return "\n".join(lines + list(self.notes))


def generation_moment(choice: str | date, data: PeriodData) -> datetime:
    """When the outputs say they were made; only "today" reads the clock."""
    if isinstance(choice, date):
        return datetime(choice.year, choice.month, choice.day, tzinfo=timezone.utc)
    if choice == "today":
        return datetime.now(timezone.utc).replace(microsecond=0)
    moments = [r.created for r in (*data.payouts, *data.specifications, *data.payments)]
    if moments:
        return max(moments)
    end = data.period.end
    return datetime(end.year, end.month, end.day, tzinfo=timezone.utc)


def sie_file_name(period: Period) -> str:
    return f"ledger-{period.label}.si"


def _source(config: Config, period: Period | None, options: ExportOptions, tokens: TokenProvider | None,
            progress: Progress) -> tuple[RawPeriod, int | None]:
    if options.from_raw is not None:
        raw = load_snapshot(options.from_raw)
        if period is not None and period != raw.period:
            raise PeriodError(f"the raw snapshot in {options.from_raw} is for {raw.period.label}, "
                              f"not {period.label}")
        return raw, None
    if period is None:
        raise PeriodError("give a period (--period, --quarter or --from/--to) or --from-raw DIR")
    return fetch_raw(config, period, tokens=tokens, progress=progress)


def export(config: Config, period: Period | None, options: ExportOptions = ExportOptions(), *,
           tokens: TokenProvider | None = None, progress: Progress | None = None) -> ExportResult:
    progress = progress or NoProgress()
    try:
        raw, requests = _source(config, period, options, tokens, progress)
    finally:
        progress.done()
    data = period_data(raw)
    chart = Chart.from_sie_file(options.chart) if options.chart else None
    ledger = build_ledger(data, ledger_settings(config), detail=options.detail, chart=chart)
    summary = render_summary(ledger, data)
    failures = reconcile.failures(ledger, strict=options.strict)
    if failures:
        raise ReconciliationFailed(failures, options.strict, summary)

    generated = generation_moment(options.generated, data)
    sie_name = sie_file_name(data.period)
    sie_bytes = render_sie(ledger, config.company, generated=generated.date(), program_version=__version__,
                           ksumma=bool(config.sie and config.sie.ksumma))
    problems = [f for f in validate_sie(sie_bytes, sie_name) if f.severity == "error"]
    if problems:  # our own file failed our own reader: a bug, but never hand it to the bookkeeper
        first = problems[0]
        raise OutputError(f"the SIE file we made does not validate, so it was not written: "
                          f"line {first.line}: {first.message}")

    folder = period_folder(config, data.period)
    if options.dry_run:
        return ExportResult(data.period, folder, data, ledger, summary, requests=requests, dry_run=True)
    if options.from_raw is None:
        save_snapshot(raw, folder / "raw")
    write_atomic(folder / sie_name, sie_bytes)
    progress.add("lines written", sum(len(v.lines) for v in ledger.vouchers))
    progress.done()
    files = (folder / sie_name, folder / "raw")
    return ExportResult(data.period, folder, data, ledger, summary, files=files, requests=requests)
