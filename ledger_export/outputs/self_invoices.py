"""The self-invoice PDFs: downloaded into the run's staging folder, checked, hashed, published with the rest.

Every payout with a ``document`` ends in exactly one DocumentRecord; a
document that is missing or not the PDF Amili described becomes a warning
finding (the CLI makes it an error under --strict), never a silent skip,
and never a file in the period folder: a new PDF is written only into the
run's staging folder, and ``files.publish`` puts it in place with the SIE
file, workbook and manifest once every check has passed.

Names: a self-invoice's name is unique in ``self-invoices/`` across runs. A
file already there is this payout's only when a manifest of the period
says so (payout id and SHA-256) and it still passes the checks of a fresh
download (size equals ``length``, ``%PDF-`` header, ``%%EOF`` trailer);
then it is kept, not downloaded again. Any other file there is someone
else's, and the payout gets another name (document_names): nothing is
ever written over.

Downloads wait on Amili, not on each other: they run through the client's
pool (``run_all``), and those the fetch already made in its own round
(``missing_documents`` names them, ``prefetched`` holds what came back) are
not made again.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final, Literal, Protocol, TypeVar
from urllib.parse import quote

from ledger_export.amili.models import Document, Payout
from ledger_export.amili.settings import AmiliSettings
from ledger_export.amili.document_names import document_file_names
from ledger_export.core.errors import LedgerExportError, NotFoundError, OutputError
from ledger_export.core.files import StagedFile, refuse_links, stage_file
from ledger_export.ledger.model import WARNING, Finding

FOLDER = "self-invoices"
DOWNLOAD_ATTEMPTS = 2
CHECK = "self-invoice"
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


def _one_by_one(fn: Callable[[T], R], items: Iterable[T]) -> list[R]:
    return [fn(item) for item in items]


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

    @property
    def path(self) -> str | None:
        """Where the file is, relative to the period folder (as the workbook links it)."""
        return f"{FOLDER}/{self.file_name}" if self.in_place and self.file_name else None

    def finding(self) -> Finding | None:
        if self.problem is None:
            return None
        what = f"self-invoice {self.file_name}" if self.file_name else "self-invoice"
        return Finding(check=CHECK, severity=WARNING, payout_id=self.payout_id,
                       message=f"payout {self.payout_id}: {what} {self.problem}")


def document_findings(records: Sequence[DocumentRecord]) -> tuple[Finding, ...]:
    """The warnings to add to the ledger's findings (the run summary, workbook and manifest show them)."""
    return tuple(f for f in (r.finding() for r in records) if f is not None)


def media_url(template: str, base_url: str) -> Callable[[Document], str]:
    """``url_for`` from the ``[amili] media_url`` template (``{base_url}/media/{file}``)."""
    base = base_url.rstrip("/")

    def url_for(document: Document) -> str:
        return template.replace("{base_url}", base).replace("{file}", quote(document.file, safe=""))

    return url_for


def media_url_for(settings: AmiliSettings) -> Callable[[Document], str]:
    return media_url(settings.media_url, settings.base_url)


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


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


def _present(path: Path, document: Document, known: str) -> tuple[int, str] | None:
    """(size, SHA-256) of a file already in place that is exactly ``known`` and still the PDF Amili describes."""
    try:
        if path.is_symlink():
            return None
        data = path.read_bytes()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise OutputError(f"cannot read {path}: {exc.strerror or exc}") from None
    digest = sha256_hex(data)
    if pdf_problem(data, document.length) or known != digest:
        return None
    return len(data), digest


@dataclass
class OnDisk:
    """The ``self-invoices/`` folder as a run finds it, and whose each file is.

    ``owners``: file name -> (payout id, SHA-256), as the period's manifests
    recorded them (writers.manifest.document_owners).
    """

    folder: Path
    owners: Mapping[str, tuple[str, str]]

    def __post_init__(self) -> None:
        self.folder = Path(self.folder)
        try:
            self.names = {p.name.casefold() for p in self.folder.iterdir()} if self.folder.is_dir() else set()
        except OSError as exc:
            raise OutputError(f"cannot read {self.folder}: {exc.strerror or exc}") from None
        self._owners = {name.casefold(): (name, *owner) for name, owner in self.owners.items()}
        self._kept: dict[tuple[str, str], tuple[int, str] | None] = {}

    def kept(self, name: str, payout: Payout) -> tuple[int, str] | None:
        """(size, SHA-256) when ``name`` holds exactly this payout's document already, else None."""
        key = (name, payout.id)
        if key not in self._kept:
            owner = self._owners.get(name.casefold())
            if owner is not None and owner[0] == name and owner[1] == payout.id and payout.document is not None:
                self._kept[key] = _present(self.folder / name, payout.document, owner[2])
            else:
                self._kept[key] = None
        return self._kept[key]

    def taken(self, name: str, payout: Payout) -> bool:
        """``name`` is in the folder and is not this payout's document: another name is needed."""
        return name.casefold() in self.names and self.kept(name, payout) is None

    def file_names(self, payouts: Sequence[Payout]) -> dict[str, str]:
        return document_file_names(payouts, taken=self.taken)


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


def missing_documents(payouts: Sequence[Payout], on_disk: OnDisk, url_for: Callable[[Document], str]) -> list[str]:
    """URLs of the self-invoices collect_documents will download: those not already in place."""
    names = on_disk.file_names(payouts)
    return [url_for(p.document) for p in payouts
            if p.document is not None and on_disk.kept(names[p.id], p) is None]


def _collect_one(payout: Payout, document: Document, on_disk: OnDisk, staging: Path, name: str,
                 fetch: Callable[[str], bytes], url_for: Callable[[Document], str],
                 prefetched: Mapping[str, bytes | LedgerExportError]) -> DocumentRecord:
    # document_file_names already strips directories; this guards the invariant.
    if Path(name).name != name or name in ("", ".", ".."):
        raise OutputError(f"payout {payout.id}: refusing document file name {name!r}")
    kept = on_disk.kept(name, payout)
    if kept is not None:
        return DocumentRecord(payout.id, name, *kept, IN_PLACE)
    url = url_for(document)
    # A body that is not the PDF (a proxy's error page, a cut transfer the
    # client could not see) gets one more try: the GET is safe to repeat.
    status: DocumentStatus
    problem: str | None
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
            staged = stage_file(staging / FOLDER / name, [data])
            return DocumentRecord(payout.id, name, staged.size, staged.sha256, IN_PLACE, fetched=True,
                                  staged=staged)
    return DocumentRecord(payout.id, name, None, None, status, problem)


def collect_documents(payouts: Sequence[Payout], on_disk: OnDisk, fetch: Callable[[str], bytes],
                      url_for: Callable[[Document], str], *, staging: Path,
                      names: Mapping[str, str] | None = None,
                      prefetched: Mapping[str, bytes | LedgerExportError] | None = None,
                      run_all: RunAll | None = None) -> tuple[DocumentRecord, ...]:
    """Every payout's self-invoice: kept from ``on_disk``, or downloaded into ``staging``; in payout order.

    ``fetch(url) -> bytes`` raises a LedgerExportError (NotFoundError for 404)
    when the download fails. ``names``: payout id -> file name, as the
    voucher texts name them (default: ``on_disk.file_names``). A record's
    ``staged`` file is what ``publish`` puts at ``self-invoices/<name>``.
    ``prefetched``: URL -> bytes, or the error, of downloads already made
    (fetch_period's ``documents``); looked up before ``fetch``. ``run_all``:
    how the payouts' documents are collected, e.g. ``client.map`` to download
    several at once (each writes only its own file); None: one by one.
    A creditor_commission payout without a ``document`` is recorded as missing.
    """
    names = names if names is not None else on_disk.file_names(payouts)
    prefetched = prefetched or {}

    def collect(payout: Payout) -> DocumentRecord:
        if payout.document is None:
            return DocumentRecord(payout.id, None, None, None, MISSING,
                                  "is missing: Amili gives no document for this commission payout")
        return _collect_one(payout, payout.document, on_disk, staging, names[payout.id], fetch, url_for,
                            prefetched)

    wanted = [p for p in payouts if p.document is not None or p.finance_category == COMMISSION]
    return tuple((run_all or _one_by_one)(collect, wanted))


def check_folder(root: Path, period_folder: Path) -> None:
    """The self-invoices folder must be a real folder: a link there would send PDFs elsewhere."""
    refuse_links(root, Path(period_folder) / FOLDER)
