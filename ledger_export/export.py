"""``ledger-export export``: fetch (or read a raw snapshot), book, check, write.

Order matters for trust: everything is computed and checked in memory first
(records read strictly, vouchers balanced, reconciliation, our own SIE file
validated by the reader), and only then written, each file atomically.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timezone
from pathlib import Path

from . import __version__
from .amili.auth import TokenProvider
from .amili.fetch import RawPeriod, fetch_period
from .amili.models import PeriodData
from .amili.snapshot import find_snapshot, load_snapshot, period_data, snapshot_files
from .config import Config
from .document_names import document_file_names
from .errors import LedgerExportError, NotFoundError, OutputError, PeriodError
from .files import publish
from .jobs import open_client, period_folder
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
from .writers.config_dump import config_hash, config_rows
from .writers.documents import FOLDER as DOCUMENTS, DocumentRecord, collect_documents, document_findings
from .writers.documents import media_url_for, sha256_hex
from .writers.manifest import previous_document_hashes, render_manifest
from .writers.workbook import render_workbook

MANIFEST = "manifest.json"


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
    documents: tuple[DocumentRecord, ...] = field(default=())

    def describe(self) -> str:
        lines = [self.summary.rstrip("\n"), ""]
        if self.dry_run:
            lines.append("Dry run: nothing was written.")
        else:
            lines.append(f"Outputs in {self.folder}:")
            lines += [f"  {path.relative_to(self.folder)}" for path in self.files]
            fetched = sum(1 for d in self.documents if d.fetched)
            if self.documents:
                lines.append(f"  {DOCUMENTS}/ ({len(self.documents)} self-invoice(s), {fetched} downloaded now)")
        return "\n".join(lines)


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


def output_names(period: Period) -> tuple[str, str]:
    """The SIE file and the workbook of a period, as named in its folder."""
    return f"ledger-{period.label}.si", f"ledger-{period.label}.xlsx"


@dataclass(frozen=True)
class _Source:
    raw: RawPeriod
    data: PeriodData
    requests: int | None
    # Gets a self-invoice PDF by URL: from Amili, or (offline) from the raw
    # snapshot's own period folder.
    fetch: Callable[[str], bytes]


def _offline_fetch(data: PeriodData, snapshot: Path, config: Config) -> Callable[[str], bytes]:
    names = document_file_names(data.payouts)
    url_for = media_url_for(config.amili)
    where = {url_for(p.document): snapshot.parent / DOCUMENTS / names[p.id]
             for p in data.payouts if p.document is not None}

    def fetch(url: str) -> bytes:
        path = where.get(url)
        if path is None or not path.is_file():
            raise NotFoundError(f"{url}: not downloaded before, and this run is offline (--from-raw)", url=url)
        return path.read_bytes()

    return fetch


@contextmanager
def _source(config: Config, period: Period | None, options: ExportOptions, tokens: TokenProvider | None,
            progress: Progress) -> Iterator[_Source]:
    if options.from_raw is not None:
        raw = load_snapshot(options.from_raw)
        if period is not None and period != raw.period:
            raise PeriodError(f"the raw snapshot in {options.from_raw} is for {raw.period.label}, "
                              f"not {period.label}")
        data = period_data(raw)
        yield _Source(raw, data, None, _offline_fetch(data, find_snapshot(options.from_raw), config))
        return
    if period is None:
        raise PeriodError("give a period (--period, --quarter or --from/--to) or --from-raw DIR")
    with open_client(config, tokens=tokens, progress=progress) as client:
        raw = fetch_period(client, config.amili.creditor, period)
        progress.done()
        yield _Source(raw, period_data(raw), client.requests_made, client.download)


def export(config: Config, period: Period | None, options: ExportOptions = ExportOptions(), *,
           tokens: TokenProvider | None = None, progress: Progress | None = None) -> ExportResult:
    progress = progress or NoProgress()
    chart = Chart.from_sie_file(options.chart) if options.chart else None
    with _source(config, period, options, tokens, progress) as source:
        data = source.data
        ledger = build_ledger(data, ledger_settings(config), detail=options.detail, chart=chart)
        folder = period_folder(config, data.period)
        documents: tuple[DocumentRecord, ...] = ()
        if not options.dry_run:
            # Downloaded before anything is decided, because a missing or broken
            # self-invoice is a finding that --strict must be able to fail on.
            documents = collect_documents(data.payouts, folder / DOCUMENTS, source.fetch,
                                          media_url_for(config.amili), _previous_hashes(folder))
            ledger = replace(ledger, findings=ledger.findings + document_findings(documents))
    summary = render_summary(ledger, data)
    failures = reconcile.failures(ledger, strict=options.strict)
    if failures:
        raise ReconciliationFailed(failures, options.strict, summary)
    if options.dry_run:
        return ExportResult(data.period, folder, data, ledger, summary, requests=source.requests, dry_run=True)

    generated = generation_moment(options.generated, data)
    outputs = render_outputs(config, data, ledger, source.raw, documents, generated)
    publish(folder, outputs, last=MANIFEST)
    progress.add("lines written", sum(len(v.lines) for v in ledger.vouchers))
    progress.done()
    files = tuple(folder / name for name in sorted({n.split("/")[0] for n in outputs}))
    return ExportResult(data.period, folder, data, ledger, summary, files=files, requests=source.requests,
                        documents=documents)


def _previous_hashes(folder: Path) -> dict[str, str]:
    try:
        return previous_document_hashes((folder / MANIFEST).read_bytes())
    except FileNotFoundError:
        return {}


def render_outputs(config: Config, data: PeriodData, ledger: Ledger, raw: RawPeriod,
                   documents: tuple[DocumentRecord, ...], generated: datetime) -> dict[str, bytes]:
    """Every file of the period folder but the PDFs, as bytes: nothing is written here."""
    sie_name, xlsx_name = output_names(data.period)
    sie = render_sie(ledger, config.company, generated=generated.date(), program_version=__version__,
                     ksumma=bool(config.sie and config.sie.ksumma))
    problems = [f for f in validate_sie(sie, sie_name) if f.severity == "error"]
    if problems:  # our own file failed our own reader: a bug, but never hand it to the bookkeeper
        first = problems[0]
        raise OutputError(f"the SIE file we made does not validate, so nothing was written: "
                          f"line {first.line}: {first.message}")
    workbook = render_workbook(ledger=ledger, data=data, company=config.company, creditor=data.creditor,
                               generated=generated, tool_version=__version__, documents=documents,
                               checksums={sie_name: sha256_hex(sie)}, mapping_rows=config_rows(config))
    outputs = {f"raw/{name}": content for name, content in snapshot_files(raw).items()}
    outputs[sie_name] = sie
    outputs[xlsx_name] = workbook
    outputs[MANIFEST] = render_manifest(data=data, ledger=ledger, creditor=data.creditor,
                                        config_sha256=config_hash(config), generated=generated,
                                        tool_version=__version__, documents=documents,
                                        outputs=dict(outputs))
    return outputs
