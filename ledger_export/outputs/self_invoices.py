"""The self-invoice PDFs in the period folder: which name each gets, which are kept, and the output.

Downloading and checking them is the Amili side's (amili/documents.py);
what depends on the period folder is decided here.

Names: a self-invoice's name is unique in ``self-invoices/`` across runs. A
file already there is this payout's only when a manifest of the period
says so (payout id and SHA-256) and it still passes the checks of a fresh
download (size equals ``length``, ``%PDF-`` header, ``%%EOF`` trailer);
then it is kept, not downloaded again. Any other file there is someone
else's, and the payout gets another name (document_names): nothing is
ever written over.

A document that is missing or not the PDF Amili described becomes a
warning finding (the CLI makes it an error under --strict), and never a
file in the period folder: the PDFs this run downloaded wait in its staging
folder, and are published with the SIE file, workbook and manifest once
every check has passed.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from ledger_export.amili.document_names import document_file_names
from ledger_export.amili.documents import DocumentRecord, pdf_problem
from ledger_export.amili.models import Document, Payout
from ledger_export.core.errors import OutputError
from ledger_export.core.files import Output, refuse_links
from ledger_export.ledger.model import WARNING, Finding
from ledger_export.outputs.base import RunData

FOLDER = "self-invoices"
CHECK = "self-invoice"


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def document_path(record: DocumentRecord) -> str | None:
    """Where the file is, relative to the period folder (as the workbook links it); None when it is not."""
    return f"{FOLDER}/{record.file_name}" if record.in_place and record.file_name else None


def document_finding(record: DocumentRecord) -> Finding | None:
    if record.problem is None:
        return None
    what = f"self-invoice {record.file_name}" if record.file_name else "self-invoice"
    return Finding(check=CHECK, severity=WARNING, payout_id=record.payout_id,
                   message=f"payout {record.payout_id}: {what} {record.problem}")


def document_findings(records: Sequence[DocumentRecord]) -> tuple[Finding, ...]:
    """The warnings to add to the ledger's findings (the run summary, workbook and manifest show them)."""
    return tuple(f for f in (document_finding(r) for r in records) if f is not None)


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
    recorded them (outputs.manifest.period_document_owners).
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
            found = None
            if owner is not None and owner[0] == name and owner[1] == payout.id and payout.document is not None:
                found = _present(self.folder / name, payout.document, owner[2])
            self._kept[key] = found
        return self._kept[key]

    def taken(self, name: str, payout: Payout) -> bool:
        """``name`` is in the folder and is not this payout's document: another name is needed."""
        return name.casefold() in self.names and self.kept(name, payout) is None

    def file_names(self, payouts: Sequence[Payout]) -> dict[str, str]:
        return document_file_names(payouts, taken=self.taken)


def check_folder(root: Path, period_folder: Path) -> None:
    """The self-invoices folder must be a real folder: a link there would send PDFs elsewhere."""
    refuse_links(root, Path(period_folder) / FOLDER)


class SelfInvoices:
    """The PDFs this run downloaded, as ``self-invoices/<name>``; those kept from earlier runs stay as they are."""

    name = FOLDER

    def render(self, run: RunData) -> Mapping[str, Output]:
        return {f"{FOLDER}/{d.file_name}": d.staged for d in run.documents
                if d.staged is not None and d.file_name is not None}
