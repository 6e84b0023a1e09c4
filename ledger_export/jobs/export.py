"""``ledger-export export``: fetch (or read a raw snapshot), book, check, write, register.

Order matters for trust. The output root's register is opened first (it
holds the lock, so two runs never book the same payout, and it settles any
run that was stopped half-way); payouts booked before are set aside (or
refused) before booking, and any that changed at Amili since are named;
everything is computed and checked in memory or in the run's staging folder
(records read strictly, vouchers balanced, reconciliation, our own SIE file
validated by the reader, every self-invoice downloaded and checked); only
then is the run noted in the register as pending, with every file it will
publish, the whole set published at once under names of its own, and the
run marked exported.

``--to fortnox`` (jobs/fortnox_export.py): the same run up to its checks;
then, instead of the ``.si``, the vouchers go into Fortnox, and the audit
pack records what Fortnox answered.

Which files a run writes is ``--outputs``' choice (outputs/registry.py; the
raw snapshot and the manifest always). The register records the payouts as
booked into the SIE file; a run without one records them against its
manifest, which lists every file the run wrote.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Literal

from ledger_export.sie.chart import read_chart
from ledger_export.amili.auth import TokenProvider
from ledger_export.amili.documents import DocumentRecord, RunAll, collect_documents, media_url_for
from ledger_export.amili.fetch import Download, RawPeriod, check_raw, fetch_period
from ledger_export.amili.models import Payout, PeriodData
from ledger_export.amili.snapshot import find_snapshot, load_snapshot, period_data, stage_snapshot
from ledger_export.jobs.config import Config
from ledger_export.amili.document_names import document_file_names
from ledger_export.core.errors import ConfigError, LedgerExportError, NotFoundError, PeriodError, printable
from ledger_export.core.files import Output, output_digest, publish, staging_folder
from ledger_export.core.input_files import MB, read_regular_file
from ledger_export.jobs.incremental import Seen, fetch_seen, since_moment
from ledger_export.jobs.fetch import documents_to_download, open_client, period_folder
from ledger_export.ledger import reconcile
from ledger_export.ledger.fiscal_years import fiscal_year_findings, require_chart_years
from ledger_export.ledger.model import WARNING, Finding, Ledger
from ledger_export.ledger.settings import Detail
from ledger_export.jobs.register_check import RunMode
from ledger_export.jobs.config_dump import run_settings
from ledger_export.ledger.summary import render_summary
from ledger_export.ledger.vouchers import build_ledger
from ledger_export.outputs.base import RunData
from ledger_export.outputs.bundle import choose_names
from ledger_export.outputs.registry import choose, render_outputs
from ledger_export.core.period import Period
from ledger_export.core.progress import NoProgress, Progress
from ledger_export.jobs.register import Owner, Register, Settled
from ledger_export.jobs.register_check import DRIFT, RegisterError, Run
from ledger_export.outputs.self_invoices import FOLDER as DOCUMENTS, OnDisk, SelfInvoices, check_folder
from ledger_export.outputs.self_invoices import document_findings
from ledger_export.outputs.listing import voucher_listing
from ledger_export.outputs.manifest import period_document_owners
from ledger_export.outputs.sie_file import SieFile
from ledger_export.jobs.fortnox_books import FortnoxBooks
from ledger_export.jobs.fortnox_export import NotConnectedError, document_source, resumed
from ledger_export.jobs.fortnox_post import Prepared, post, postings, prepare, would_post
from ledger_export.jobs.register_fortnox import FORTNOX_PREFIX


PDF_LIMIT = 256 * MB  # a self-invoice is tens of kilobytes


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


# When the outputs say they were made (ExportOptions.generated, --gen-date).
GenerationChoice = Literal["input", "today"] | date
# Where the vouchers go: an SIE file, or straight into Fortnox.
Target = Literal["sie", "fortnox"]


@dataclass(frozen=True)
class ExportOptions:
    detail: Detail | None = None       # "account" or "invoice"; None: the configuration's
    chart: Path | None = None          # the target ledger's own SIE export (#KONTO)
    strict: bool = False
    # #GEN and the workbook's run time: "input" (newest record fetched; the
    # default, so the same input gives the same bytes), "today" (the clock),
    # or a fixed date.
    generated: GenerationChoice = "input"
    from_raw: Path | None = None
    dry_run: bool = False
    only_new: bool = False             # skip payouts the register has; book the rest
    force: bool = False                # book them again, in files of their own; the register keeps both
    since_last: bool = False           # fetch only payouts created since the last such run
    # "books", or "demo": the register must be of the same kind (the demo never touches real books).
    purpose: str = "books"
    # The outputs to write, by name (outputs/registry.py); None: all. The raw snapshot and the
    # manifest are always written; without the self-invoices, no PDF is downloaded or checked.
    outputs: tuple[str, ...] | None = None
    to: Target = "sie"

    def __post_init__(self) -> None:
        if self.only_new and self.force:
            raise PeriodError("--only-new and --force exclude each other")
        if self.to == "fortnox" and self.force:
            raise PeriodError("--force cannot post to Fortnox: a voucher there is corrected by a reversal "
                              "voucher in Fortnox, never by posting it again")
        if self.to == "fortnox" and self.since_last:
            raise PeriodError("--since-last is not supported with --to fortnox: give the period")
        if self.since_last and self.from_raw:
            raise PeriodError("--since-last fetches from Amili; it cannot be combined with --from-raw")

    @property
    def mode(self) -> RunMode:
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
    drift: tuple[Finding, ...] = ()    # exported before and changed at Amili since
    settled: tuple[Settled, ...] = ()  # runs stopped half-way, settled as this one started
    run_id: int | None = None
    booked_in: Path | None = None  # the file the register records the payouts as booked into
    fortnox: tuple[str, ...] = ()  # --to fortnox: what was done there (or would be, on a dry run)

    def describe(self) -> str:
        lines = [f"Note: {s.describe()}." for s in self.settled]
        lines += [self.summary.rstrip("\n"), ""] if self.summary else []
        if self.drift and self.ledger is None:  # with a ledger, the summary lists them
            lines += [f"{f.severity.upper()}: {f.message}" for f in self.drift]
        if self.skipped:
            lines.append(f"{len(self.skipped)} payout(s) of {self.period.label} were exported before "
                         f"and were skipped (see the export register).")
        if self.ledger is None:
            lines.append(f"Nothing new to export for {self.period.label}: nothing was written.")
        elif self.dry_run:
            lines += [voucher_listing(self.ledger), "", *self.fortnox, "Dry run: nothing was written."]
        else:
            lines.append(f"Outputs in {self.folder}:")
            lines += [f"  {path.relative_to(self.folder)}" for path in self.files]
            fetched = sum(1 for d in self.documents if d.fetched)
            if self.documents:
                lines.append(f"  {DOCUMENTS}/ ({len(self.documents)} self-invoice(s), {fetched} downloaded now)")
            lines += list(self.fortnox)
            if self.booked_in is not None and self.booked_in.suffix not in (".si", ""):
                lines.append(f"No SIE file was asked for (--outputs): the export register records these "
                             f"payouts as exported in {self.booked_in.relative_to(self.folder)}.")
        return "\n".join(lines)


def generation_moment(choice: GenerationChoice, data: PeriodData) -> datetime:
    """When the outputs say they were made; only "today" reads the clock."""
    if isinstance(choice, date):
        return datetime(choice.year, choice.month, choice.day, tzinfo=timezone.utc)
    if choice == "today":
        return datetime.now(timezone.utc).replace(microsecond=0)
    moments = ([p.created for p in data.payouts] + [s.created for s in data.specifications]
               + [c.created for c in data.payments])
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
    """Self-invoices for ``--from-raw``: the files the snapshot's own period folder holds."""
    folder = snapshot.parent
    names = document_file_names(data.payouts)
    # The names that folder's runs really used (a later run may have had to pick another).
    for name, (payout_id, _) in period_document_owners(folder).items():
        names[payout_id] = name
    url_for = media_url_for(config.amili)
    where = {url_for(p.document): folder / DOCUMENTS / names[p.id]
             for p in data.payouts if p.document is not None}

    def fetch(url: str) -> bytes:
        path = where.get(url)
        if path is None or path.is_symlink() or not path.is_file():
            raise NotFoundError(f"{url}: not downloaded before, and this run is offline (--from-raw)", url=url)
        return read_regular_file(path, PDF_LIMIT, "self-invoice", NotFoundError)

    return fetch


def _read(raw: RawPeriod, staging: Path | None) -> tuple[PeriodData, Mapping[str, Output] | None]:
    """The records, and the raw snapshot staged in ``staging`` (None: a dry run, which writes nothing)."""
    return period_data(raw), (stage_snapshot(raw, staging) if staging is not None else None)


@contextmanager
def _source(config: Config, period: Period | None, options: ExportOptions, tokens: TokenProvider | None,
            progress: Progress, since: datetime | None, staging: Path | None,
            documents_wanted: bool) -> Iterator[_Source]:
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
    documents = documents_to_download(config, period) if documents_wanted and not options.dry_run else None
    with open_client(config, tokens=tokens, progress=progress) as client:
        fetched = fetch_period(client, config.amili.creditor, period, created_since=since, documents=documents)
        seen = fetch_seen(client, config.amili.creditor, period, since) if options.since_last else None
        progress.done()
        data, snapshot = _read(fetched.raw, staging)
        downloads = fetched.downloads
        del fetched
        yield _Source(data, snapshot, client.requests_made, client.download, seen,
                      downloads=downloads, run_all=client.map)


def _only(data: PeriodData, chosen: tuple[Payout, ...]) -> PeriodData:
    """The period narrowed to the payouts this run books (the direct payments stay)."""
    if len(chosen) == len(data.payouts):
        return data
    ids = {p.id for p in chosen}
    return replace(data, payouts=tuple(p for p in data.payouts if p.id in ids),
                   specifications=tuple(s for s in data.specifications if s.payout in ids))


def _now() -> datetime:
    return datetime.now(timezone.utc)


def require_orgnr(config: Config) -> None:
    """Refuse to book without the company's organisation number (an empty one; a wrong one never loads)."""
    if not config.company.orgnr:
        raise ConfigError("is empty: every export books into a company's ledger, and Fortnox compares the "
                          "file's #ORGNR with the company's; write orgnr = \"nnnnnn-nnnn\" under [company]",
                          key="company.orgnr", path=config.source)


def _owner(config: Config, creditor: str, purpose: str) -> Owner:
    return Owner(creditor=creditor, orgnr=config.company.orgnr, purpose=purpose)


def export(config: Config, period: Period | None, options: ExportOptions = ExportOptions(), *,
           tokens: TokenProvider | None = None, progress: Progress | None = None,
           clock: Callable[[], datetime] = _now, books: FortnoxBooks | None = None) -> ExportResult:
    """Book ``period`` (or the raw snapshot in ``options.from_raw``) into ``config.output.folder``.

    ``clock`` dates the register's entries only; no output reads it.
    ``books``: the Fortnox company ``options.to == "fortnox"`` posts into.
    """
    if period is None and options.from_raw is None:
        raise PeriodError("give a period (--period, --quarter or --from/--to) or --from-raw DIR")
    require_orgnr(config)  # before the chart is read, the register opened or Amili asked
    to_fortnox = options.to == "fortnox"
    if to_fortnox and books is None:
        raise NotConnectedError("--to fortnox: ledger-export is not connected to Fortnox yet "
                                "(run `ledger-export fortnox login`)", key="fortnox")
    progress = progress or NoProgress()
    outputs_chosen = choose(options.outputs)  # an unknown name fails here, before anything is asked or read
    if to_fortnox:  # the vouchers go into Fortnox instead of an .si
        outputs_chosen = tuple(o for o in outputs_chosen if o.name != SieFile.name)
    documents_wanted = any(o.name == SelfInvoices.name for o in outputs_chosen)
    chart = read_chart(options.chart) if options.chart else None
    root = Path(config.output.folder)
    # The register settles runs stopped half-way and clears their staging before this run stages
    # anything; the raw snapshot is staged in the output root as soon as it is read, and moved
    # into place by publish; whatever a failed run staged goes with it.
    with (Register.open(root, read_only=options.dry_run) as register,
          nullcontext() if options.dry_run else staging_folder(root) as staging):
        if config.amili.creditor and options.from_raw is None:
            register.claim(_owner(config, config.amili.creditor, options.purpose))  # before any request
        # --since-last reads from Amili, so a period was given (ExportOptions refuses it with --from-raw).
        since = since_moment(register.last_mark(period.label)) if options.since_last and period is not None else None
        with _source(config, period, options, tokens, progress, since, staging, documents_wanted) as source:
            register.claim(_owner(config, source.data.creditor, options.purpose))
            check = register.check(source.data.payouts)
            taken_over: tuple[int, ...] = ()
            if to_fortnox:
                check, taken_over = resumed(register, check, source.data.period.label)
            drift = check.drift_findings()
            chosen = check.to_export(options.mode)  # refuses here, naming any drift, before anything is written
            data = _only(source.data, chosen)
            skipped = tuple(p for p in source.data.payouts if p not in chosen)
            folder = period_folder(config, data.period)
            run = Run(data.period.label, options.mode, clock())
            if not chosen:
                if not options.dry_run:
                    register.nothing_new(run, seen=source.seen)
                return ExportResult(data.period, folder, data, None, "", requests=source.requests,
                                    dry_run=options.dry_run, skipped=skipped, drift=drift,
                                    settled=register.settled)
            check_folder(root, folder)
            on_disk = OnDisk(folder / DOCUMENTS, period_document_owners(folder))
            document_names = on_disk.file_names(data.payouts)
            ledger = build_ledger(data, config.ledger, detail=options.detail, chart=chart,
                                  document_names=document_names)
            if chart is not None:
                require_chart_years(ledger.vouchers, chart)  # before any self-invoice is downloaded
            years = fiscal_year_findings(ledger.vouchers, config.company.fiscal_year_start_month, chart)
            documents: tuple[DocumentRecord, ...] = ()
            if documents_wanted and not options.dry_run:
                assert staging is not None  # staged: this is no dry run
                # Downloaded into staging before anything is decided, because a missing or broken
                # self-invoice is a finding that --strict must be able to fail on.
                documents = collect_documents(data.payouts, source.fetch, media_url_for(config.amili),
                                              names=document_names, stage_in=staging / DOCUMENTS,
                                              kept=on_disk.kept, prefetched=source.downloads,
                                              run_all=source.run_all)
            ledger = replace(ledger, findings=ledger.findings + years + drift + document_findings(documents))
        prepared: Prepared | None = None
        if books is not None and to_fortnox:
            # Every check in Fortnox before the first write; then the vouchers as they will be posted.
            prepared = prepare(books, config.fortnox, config.ledger, register.fortnox,
                               orgnr=config.company.orgnr, data=data, ledger=ledger, payouts=chosen,
                               documents=documents_wanted, settle=not options.dry_run)
            ledger = prepared.ledger
        summary = render_summary(ledger, data)
        failures = tuple(f for f in reconcile.failures(ledger, strict=options.strict) if f.check != DRIFT)
        if failures:
            raise ReconciliationFailed(failures, options.strict, summary)
        if options.dry_run:
            return ExportResult(data.period, folder, data, ledger, summary, requests=source.requests,
                                dry_run=True, skipped=skipped, drift=drift,
                                fortnox=tuple(would_post(prepared)) if prepared else ())

        assert source.snapshot is not None and staging is not None  # staged: this is no dry run
        run_id = register.next_run_id()
        names = choose_names(folder, data.period, run_id)
        label = data.period.label
        done: tuple[str, ...] = ()
        posted = None
        if prepared is not None and books is not None:
            # Booked (pending) before the first write; each action is noted before it is asked for.
            if register.fortnox.begin_run(run, chosen, series=prepared.series, manifest=f"{label}/{names.manifest}",
                                          takes_over=taken_over) != run_id:
                raise RegisterError(f"{register.path} gave run {label} another number than it announced")
            try:
                done = prepared.notes + post(books, register.fortnox, run_id, prepared, chosen,
                                             document_source(documents, folder),
                                             mode_of_payment=config.fortnox.mode_of_payment, progress=progress)
            except BaseException:
                _abandon(register, run_id)  # kept pending (booked) if anything reached Fortnox
                raise
            posted = postings(register.fortnox, [p.id for p in chosen])
        run_data = RunData(settings=run_settings(config), data=data, ledger=ledger, documents=documents,
                           snapshot=source.snapshot, generated=generation_moment(options.generated, data),
                           names=names, run_id=run_id, mode=options.mode, chart=chart, fortnox=posted)
        outputs = render_outputs(run_data, outputs_chosen)
        # The file the register says the payouts went into: the SIE file, or (without one) the manifest.
        booked_in = names.sie if names.sie in outputs else names.manifest
        files = {f"{label}/{name}": output_digest(content) for name, content in outputs.items()}
        if prepared is not None:
            register.fortnox.note_files(run_id, files)
        elif register.begin(run, chosen, sie=f"{label}/{booked_in}", files=files,
                            manifest=f"{label}/{names.manifest}", seen=source.seen) != run_id:
            raise RegisterError(f"{register.path} gave run {label} another number than it announced")
        try:
            publish(folder, outputs, staging=staging, last=names.manifest, root=root)
        except BaseException:
            _abandon(register, run_id)
            raise
        progress.add("lines written", sum(len(v.lines) for v in ledger.vouchers))
        progress.done()
        try:
            register.finish(run_id)
        except LedgerExportError as exc:
            raise RegisterError(f"the outputs are in place in {folder}, but the register could not note run "
                                f"{run_id} as exported ({exc}); the next run of ledger-export settles it from "
                                f"the files, so nothing will be booked twice") from exc
    # The self-invoices are described on their own line (kept and new ones alike).
    placed = tuple(folder / name for name in sorted({n.split("/")[0] for n in outputs} - {DOCUMENTS}))
    fortnox = ((f"Posted to Fortnox (series {prepared.series}): {len(done)} action(s) now"
                + ("" if done else ", nothing new") + ".", *(f"  {line}" for line in done))
               if prepared is not None else ())
    return ExportResult(data.period, folder, data, ledger, summary, files=placed, requests=source.requests,
                        documents=documents, skipped=skipped, drift=drift, settled=register.settled,
                        run_id=run_id, booked_in=folder / (f"{FORTNOX_PREFIX}{prepared.series}"
                                                           if prepared is not None else booked_in),
                        fortnox=fortnox)


def _abandon(register: Register, run_id: int) -> None:
    """Publish failed: settle the pending run now, as the next start would (take back what it left)."""
    try:
        register.settle(run_id)
    except LedgerExportError:
        pass  # still pending: the next start settles it
