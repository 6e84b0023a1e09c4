"""A fake media server for the self-invoice tests, and collect_documents as an export calls it."""

from __future__ import annotations

from dataclasses import replace

from support.audit_pack import PAYOUTS

from ledger_export.amili.models import Document
from ledger_export.core.errors import NotFoundError
from ledger_export.amili.documents import collect_documents, media_url
from ledger_export.outputs.self_invoices import OnDisk

PDF = b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n"
URL = media_url("{base_url}/media/{file}", "http://127.0.0.1:8765/")


def commission(n: int, name: str = "self_invoice.pdf", length: int = len(PDF)):
    return replace(PAYOUTS[2], id=f"6650000000000000000000a{n}", payout_reference=f"ref{n}",
                   created=PAYOUTS[2].created.replace(hour=n),
                   document=Document(file=f"6650000000000000000000f{n}", name=name, length=length,
                                     content_type="application/pdf"))


class FakeAmili:
    """Serves media by URL; records every download asked for."""

    def __init__(self, files: dict[str, bytes | Exception]):
        self.files = files
        self.calls: list[str] = []

    def __call__(self, url: str) -> bytes:
        self.calls.append(url)
        body = self.files.get(url)
        if body is None:
            raise NotFoundError(f"404 Not Found: {url}", url=url, status=404)
        if isinstance(body, Exception):
            raise body
        return body


def url(n: int) -> str:
    return f"http://127.0.0.1:8765/media/6650000000000000000000f{n}"


def collect(payouts, tmp_path, fetch, *, owners=None, **kwargs):
    """collect_documents as an export calls it: ``self-invoices/`` as found, new PDFs into staging."""
    on_disk = OnDisk(tmp_path / "self-invoices", owners or {})
    return collect_documents(payouts, fetch, URL, names=on_disk.file_names(payouts), kept=on_disk.kept,
                             stage_in=tmp_path / "staging" / "self-invoices", **kwargs)


def staged(tmp_path, name: str):
    return tmp_path / "staging" / "self-invoices" / name


def published(tmp_path) -> list[str]:
    folder = tmp_path / "self-invoices"
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


class FlakyAmili(FakeAmili):
    """Answers each URL with the bodies given, in turn (the last one from then on)."""

    def __init__(self, answers: dict[str, list[bytes]]):
        super().__init__({})
        self.answers = answers

    def __call__(self, url: str) -> bytes:
        self.calls.append(url)
        queue = self.answers[url]
        return queue.pop(0) if len(queue) > 1 else queue[0]
