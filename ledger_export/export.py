"""``ledger-export export``: fetch (or read a raw snapshot), book, check, write, register.

Order matters for trust. The output root's register is opened first (it
holds the lock, so two runs never book the same payout); payouts booked
before are set aside (or refused) before booking; everything is computed and
checked in memory (records read strictly, vouchers balanced, reconciliation,
our own SIE file validated by the reader); only then is the whole set of
files published at once, and only after that does the register record the
payouts as exported.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timezone
from pathlib import Path

from .amili.auth import TokenProvider
from .amili.fetch import Download, RawPeriod, check_raw, fetch_period
from .amili.models import Payout, PeriodData
from .amili.snapshot import find_snapshot, load_snapshot, period_data, stage_snapshot
from .config import Config
from .document_names import document_file_names
from .errors import LedgerExportError, NotFoundError, PeriodError, printable
from .files import Output, publish, staging_folder
from .incremental import Seen, fetch_seen, since_moment
from .jobs import documents_to_download, open_client, period_folder
from .ledger import reconcile
from .ledger.chart import Chart
from .ledger.model import WARNING, Finding, Ledger
from .ledger.settings import from_config as ledger_settings
from .ledger.summary import render_summary
from .ledger.vouchers import build_ledger
from .outputs import OutputNames, previous_hashes, render_outputs
from .period import Period
from .progress import NoProgress, Progress
from .register import Register
from .register_check import Run
from .writers.documents import FOLDER as DOCUMENTS, DocumentRecord, collect_documents, document_findings
from .writers.documents import RunAll, media_url_for, sha256_hex
from .writers.listing import voucher_listing


class ReconciliationFailed(LedgerExportError):
    """The books do not reconcile (errors, or warnings under --strict): nothing is written."""

    exit_code = 3

    def __init__(self, failures: tuple[Finding, ...], strict: bool, summary: str = ""):
        first = failures[0]
        more = f" (and {len(failures) - 1} more, see the summary above)" if len(failures) > 1 else ""
        rule = " under --strict" if strict and first.severity == WARNING else ""
        super().__init__(printable(f"reconciliation failed{rule}: {first.check}: {first.message}{more}"))
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
    only_new: bool = False             # skip payouts the register has; book the rest
    force: bool = False                # book them again; the register keeps both
    since_last: bool = False           # fetch only payouts created since the last such run

    def __post_init__(self) -> None:
        if self.only_new and self.force:
            raise PeriodError("--only-new and --force exclude each other")
        if self.since_last and self.from_raw:
            raise PeriodError("--since-last fetches from Amili; it cannot be combined with --from-raw")

    @property
    def mode(self) -> str:
        if self.force:
            return "force"
        return "only-new" if self.only_new or self.since_last else "normal"


@dataclass(frozen=True)
class ExportResult:
    period: Period
    folder: Path
    data: PeriodData
    ledger: Ledger | None
    summary: str
    files: tuple[Path, ...] = ()
    requests: int | None = None
    dry_run: bool = False
    documents: tuple[DocumentRecord, ...] = field(default=())
    skipped: tuple[Payout, ...] = ()   # exported before: set aside by --only-new / --since-last

    def describe(self) -> str:
        lines = [self.summary.rstrip("\n"), ""] if self.summary else []
        if self.skipped:
            lines.append(f"{len(self.skipped)} payout(s) of {self.period.label} were exported before "
                         f"and were skipped (see the export register).")
        if self.ledger is None:
            lines.append(f"Nothing new to export for {self.period.label}: nothing was written.")
        elif self.dry_run:
            lines += [voucher_listing(self.ledger), "", "Dry run: nothing was written."]
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


@dataclass(frozen=True)
class _Source:
    data: PeriodData
    # The raw snapshot's files, staged on disk right after reading (None on a dry run):
    # the decoded JSON items are let go then, not held until the outputs are rendered.
    snapshot: Mapping[str, Output] | None
    requests: int | None
    # Gets a self-invoice PDF by URL: from Amili, or (offline) from the raw
    # snapshot's own period folder.
    fetch: Callable[[str], bytes]
    seen: tuple[Seen, ...] | None = None  # --since-last: what may hold the mark back
    # Self-invoices the fetch downloaded with the lines, by URL (bytes, or the download's error),
    # and how the rest are downloaded: several at once through the client's pool.
    downloads: Mapping[str, Download] = field(default_factory=dict)
    run_all: RunAll | None = None


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


def _read(raw: RawPeriod, staging: Path | None) -> tuple[PeriodData, Mapping[str, Output] | None]:
    """The records, and the raw snapshot staged in ``staging`` (None: a dry run, which writes nothing)."""
    return period_data(raw), (stage_snapshot(raw, staging) if staging is not None else None)


@contextmanager
def _source(config: Config, period: Period | None, options: ExportOptions, tokens: TokenProvider | None,
            progress: Progress, since: datetime | None, staging: Path | None) -> Iterator[_Source]:
    # Each branch drops ``raw`` once it is read: for a large creditor the
    # decoded items are the biggest thing in memory, and nothing needs them after.
    if options.from_raw is not None:
        raw = load_snapshot(options.from_raw)
        if period is not None and period != raw.period:
            raise PeriodError(f"the raw snapshot in {options.from_raw} is for {raw.period.label}, "
                              f"not {period.label}")
        data, snapshot = _read(raw, staging)
        check_raw(raw)  # a snapshot is checked as strictly as an answer from Amili
        del raw
        yield _Source(data, snapshot, None, _offline_fetch(data, find_snapshot(options.from_raw), config))
        return
    assert period is not None
    # The self-invoices not yet in place download with the lines; a dry run downloads none.
    documents = (lambda payouts: ()) if options.dry_run else documents_to_download(config, period)
    with open_client(config, tokens=tokens, progress=progress) as client:
        raw, downloads = fetch_period(client, config.amili.creditor, period, created_since=since,
                                      documents=documents)
        seen = fetch_seen(client, config.amili.creditor, period, since) if options.since_last else None
        progress.done()
        data, snapshot = _read(raw, staging)
        del raw
        yield _Source(data, snapshot, client.requests_made, client.download, seen,
                      downloads=downloads, run_all=client.map)


def _only(data: PeriodData, chosen: tuple[Payout, ...]) -> PeriodData:
    """The period narrowed to the payouts this run books (the direct payments stay)."""
    if len(chosen) == len(data.payouts):
        return data
    ids = {p.id for p in chosen}
    return replace(data, payouts=tuple(p for p in data.payouts if p.id in ids),
                   specifications=tuple(s for s in data.specifications if s.payout in ids))


def _names(register: Register, period: Period, mode: str) -> OutputNames:
    booked_before = any(r.period == period.label and r.status == "exported" for r in register.runs())
    if mode == "force" or not booked_before:
        return OutputNames(period)
    return OutputNames(period, f"-run{register.next_run_id()}")


def _now() -> datetime:
    return datetime.now(timezone.utc)


def export(config: Config, period: Period | None, options: ExportOptions = ExportOptions(), *,
           tokens: TokenProvider | None = None, progress: Progress | None = None,
           clock: Callable[[], datetime] = _now) -> ExportResult:
    """Book ``period`` (or the raw snapshot in ``options.from_raw``) into ``config.output.folder``.

    ``clock`` dates the register's entries only; no output reads it.
    """
    if period is None and options.from_raw is None:
        raise PeriodError("give a period (--period, --quarter or --from/--to) or --from-raw DIR")
    progress = progress or NoProgress()
    chart = Chart.from_sie_file(options.chart) if options.chart else None
    root = Path(config.output.folder)
    # The raw snapshot is staged in the output root as soon as it is read, and
    # moved into place by publish; whatever a failed run staged goes with it.
    with (Register.open(root, read_only=options.dry_run) as register,
          nullcontext() if options.dry_run else staging_folder(root) as staging):
        since = since_moment(register.last_mark(period.label)) if options.since_last else None
        with _source(config, period, options, tokens, progress, since, staging) as source:
            check = register.check(source.data.payouts)
            chosen = check.to_export(options.mode)  # refuses here, before anything is written
            data = _only(source.data, chosen)
            skipped = tuple(p for p in source.data.payouts if p not in chosen)
            folder = period_folder(config, data.period)
            run = Run(data.period.label, options.mode, clock())
            if not chosen:
                if not options.dry_run:
                    register.record(run, (), None, None, seen=source.seen)
                return ExportResult(data.period, folder, data, None, "", requests=source.requests,
                                    dry_run=options.dry_run, skipped=skipped)
            names = _names(register, data.period, options.mode)
            ledger = build_ledger(data, ledger_settings(config), detail=options.detail, chart=chart)
            drift = tuple(Finding("drift", WARNING, e.describe_drift(), e.payout.id) for e in check.drifted)
            documents: tuple[DocumentRecord, ...] = ()
            if not options.dry_run:
                # Downloaded before anything is decided, because a missing or broken
                # self-invoice is a finding that --strict must be able to fail on.
                documents = collect_documents(data.payouts, folder / DOCUMENTS, source.fetch,
                                              media_url_for(config.amili), previous_hashes(folder, names),
                                              prefetched=source.downloads, run_all=source.run_all)
            ledger = replace(ledger, findings=ledger.findings + drift + document_findings(documents))
        summary = render_summary(ledger, data)
        failures = reconcile.failures(ledger, strict=options.strict)
        if failures:
            raise ReconciliationFailed(failures, options.strict, summary)
        if options.dry_run:
            return ExportResult(data.period, folder, data, ledger, summary, requests=source.requests,
                                dry_run=True, skipped=skipped)

        assert source.snapshot is not None  # staged: this is no dry run
        outputs = render_outputs(config, data, ledger, source.snapshot, documents,
                                 generation_moment(options.generated, data), names)
        publish(folder, outputs, last=names.manifest)
        progress.add("lines written", sum(len(v.lines) for v in ledger.vouchers))
        progress.done()
        register.record(run, chosen, f"{data.period.label}/{names.sie}", sha256_hex(outputs[names.sie]),
                        seen=source.seen)
    files = tuple(folder / name for name in sorted({n.split("/")[0] for n in outputs}))
    return ExportResult(data.period, folder, data, ledger, summary, files=files, requests=source.requests,
                        documents=documents, skipped=skipped)
