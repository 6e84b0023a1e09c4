"""The self-invoice PDFs: downloaded from Amili, checked, and staged for the run to publish.

Every payout with a ``document`` (and every commission payout, which should
have one) ends in exactly one DocumentRecord. A document that is missing or
not the PDF Amili described is recorded with its problem, never silently
skipped, and never written anywhere but the run's staging folder: the
caller publishes what was staged with the rest of its files once every
check has passed (core.files.publish).

Which file name a payout's PDF gets, and whether a file already in the
period folder is this payout's (so it is kept, not downloaded again), are
the caller's to decide (outputs/self_invoices.py): this side only asks
``kept(name, payout)``.

Downloads wait on Amili, not on each other: they run through the client's
pool (``run_all``), and those the fetch already made in its own round
(``missing_documents`` names them, ``prefetched`` holds what came back) are
not made again.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final, Literal, Protocol, TypeVar
from urllib.parse import quote

from ledger_export.amili.models import Document, Payout
from ledger_export.amili.settings import AmiliSettings
from ledger_export.core.errors import LedgerExportError, NotFoundError, OutputError
from ledger_export.core.files import StagedFile, stage_file

DOWNLOAD_ATTEMPTS = 2
COMMISSION = "creditor_commission"

# What became of a self-invoice, as the workbook and the manifest write it.
DocumentStatus = Literal["ok", "missing", "rejected", "failed"]
IN_PLACE: Final = "ok"
MISSING: Final = "missing"
REJECTED: Final = "rejected"
FAILED: Final = "failed"
# PDF readers accept the end-of-file marker anywhere in the last kilobyte.
_TRAILER_WINDOW = 1024

T = TypeVar("T")
R = TypeVar("R")


class RunAll(Protocol):
    """``run_all(fn, items)`` is ``[fn(i) for i in items]``, maybe concurrently (AmiliClient.map)."""

    def __call__(self, fn: Callable[[T], R], items: Iterable[T], /) -> list[R]: ...

# ``kept(name, payout)``: (size, SHA-256) when the file ``name`` already in the period folder is
# exactly this payout's self-invoice (then it is not downloaded again), else None.
Kept = Callable[[str, Payout], tuple[int, str] | None]


def _one_by_one(fn: Callable[[T], R], items: Iterable[T]) -> list[R]:
    return [fn(item) for item in items]


def _nothing_kept(name: str, payout: Payout) -> tuple[int, str] | None:
    return None


@dataclass(frozen=True)
class DocumentRecord:
    """What became of one payout's self-invoice. ``size``/``sha256`` only when the file is in place.

    ``fetched`` says whether this run downloaded it (False: kept from an
    earlier run); the workbook and manifest leave it out, so a re-run that
    downloads nothing writes the same bytes.
    """

    payout_id: str
    file_name: str | None
    size: int | None
    sha256: str | None
    status: DocumentStatus
    problem: str | None = None
    fetched: bool = False
    # A PDF downloaded by this run, waiting in the staging folder to be published.
    staged: StagedFile | None = field(default=None, compare=False, repr=False)

    @property
    def in_place(self) -> bool:
        return self.status == IN_PLACE


def media_url(template: str, base_url: str) -> Callable[[Document], str]:
    """``url_for`` from the ``[amili] media_url`` template (``{base_url}/media/{file}``)."""
    base = base_url.rstrip("/")

    def url_for(document: Document) -> str:
        return template.replace("{base_url}", base).replace("{file}", quote(document.file, safe=""))

    return url_for


def media_url_for(settings: AmiliSettings) -> Callable[[Document], str]:
    return media_url(settings.media_url, settings.base_url)


def pdf_problem(data: bytes, length: int) -> str | None:
    """Why ``data`` is not the ``length``-byte PDF Amili described, or None."""
    problems = []
    if not data.startswith(b"%PDF-"):
        problems.append(f"is not a PDF (starts with {data[:8]!r})")
    if len(data) < length:
        problems.append(f"is truncated: {len(data)} of {length} bytes")
    elif len(data) > length:
        problems.append(f"is {len(data)} bytes, Amili's length says {length}")
    # Catches a file cut short at the source, whose length Amili then reports as cut too.
    if not problems and b"%%EOF" not in data[-_TRAILER_WINDOW:]:
        problems.append("has no %%EOF marker at its end (truncated PDF)")
    return "; ".join(problems) or None


def missing_documents(payouts: Sequence[Payout], names: Mapping[str, str], kept: Kept,
                      url_for: Callable[[Document], str]) -> list[str]:
    """URLs of the self-invoices collect_documents will download: those not already in place."""
    return [url_for(p.document) for p in payouts if p.document is not None and kept(names[p.id], p) is None]


def _download(url: str, fetch: Callable[[str], bytes], prefetched: Mapping[str, bytes | LedgerExportError],
              attempt: int) -> bytes:
    # Only the first attempt may use the fetch's download: a second one is
    # made because that body was not the PDF.
    got = prefetched.get(url) if attempt == 0 else None
    if got is None:
        return fetch(url)
    if isinstance(got, LedgerExportError):
        raise got
    return got


def _collect_one(payout: Payout, document: Document, name: str, kept: Kept, stage_in: Path,
                 fetch: Callable[[str], bytes], url_for: Callable[[Document], str],
                 prefetched: Mapping[str, bytes | LedgerExportError]) -> DocumentRecord:
    # document_file_names already strips directories; this guards the invariant.
    if Path(name).name != name or name in ("", ".", ".."):
        raise OutputError(f"payout {payout.id}: refusing document file name {name!r}")
    in_place = kept(name, payout)
    if in_place is not None:
        return DocumentRecord(payout.id, name, *in_place, IN_PLACE)
    url = url_for(document)
    problem: str | None
    status: DocumentStatus
    # A body that is not the PDF (a proxy's error page, a cut transfer the
    # client could not see) gets one more try: the GET is safe to repeat.
    for attempt in range(DOWNLOAD_ATTEMPTS):
        try:
            data = _download(url, fetch, prefetched, attempt)
        except NotFoundError:
            status, problem = MISSING, f"is missing: Amili has no file {document.file} ({url})"
            break
        except LedgerExportError as exc:
            status, problem = FAILED, f"could not be downloaded: {exc}"
            break
        status, problem = REJECTED, pdf_problem(data, document.length)
        if problem is None:
            staged = stage_file(stage_in / name, [data])
            return DocumentRecord(payout.id, name, staged.size, staged.sha256, IN_PLACE, fetched=True,
                                  staged=staged)
    return DocumentRecord(payout.id, name, None, None, status, problem)


def collect_documents(payouts: Sequence[Payout], fetch: Callable[[str], bytes],
                      url_for: Callable[[Document], str], *, names: Mapping[str, str], stage_in: Path,
                      kept: Kept = _nothing_kept,
                      prefetched: Mapping[str, bytes | LedgerExportError] | None = None,
                      run_all: RunAll | None = None) -> tuple[DocumentRecord, ...]:
    """Every payout's self-invoice: kept where ``kept`` says so, or downloaded into ``stage_in``; in payout order.

    ``fetch(url) -> bytes`` raises a LedgerExportError (NotFoundError for 404)
    when the download fails. ``names``: payout id -> file name, as the
    voucher texts name them. A record's ``staged`` file is ``stage_in/<name>``,
    for the caller to publish. ``prefetched``: URL -> bytes, or the error, of
    downloads already made (fetch_period's ``downloads``); looked up before
    ``fetch``. ``run_all``: how the payouts' documents are collected, e.g.
    ``client.map`` to download several at once (each writes only its own
    file); None: one by one. A creditor_commission payout without a
    ``document`` is recorded as missing.
    """
    prefetched = prefetched or {}

    def collect(payout: Payout) -> DocumentRecord:
        if payout.document is None:
            return DocumentRecord(payout.id, None, None, None, MISSING,
                                  "is missing: Amili gives no document for this commission payout")
        return _collect_one(payout, payout.document, names[payout.id], kept, stage_in, fetch, url_for,
                            prefetched)

    wanted = [p for p in payouts if p.document is not None or p.finance_category == COMMISSION]
    return tuple((run_all or _one_by_one)(collect, wanted))
