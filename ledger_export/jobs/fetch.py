"""The jobs the CLI runs, as plain functions over a Config: fetch, and (later) export.

Nothing here parses arguments or prints; results describe themselves.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ledger_export.amili.auth import TokenProvider, token_provider
from ledger_export.amili.client import AmiliClient
from ledger_export.amili.documents import media_url_for, missing_documents
from ledger_export.amili.fetch import DocumentUrls, RawPeriod, fetch_period
from ledger_export.amili.models import Payout
from ledger_export.amili.snapshot import stage_snapshot
from ledger_export.jobs.config import Config
from ledger_export.core.errors import ConfigError, RecordError
from ledger_export.core.period import Period
from ledger_export.core.progress import NoProgress, Progress
from ledger_export.core.files import publish, remove_stale_staging, staging_folder
from ledger_export.core.lock import OutputLock
from ledger_export.outputs.self_invoices import FOLDER as DOCUMENTS, OnDisk
from ledger_export.outputs.manifest import period_document_owners


def period_folder(config: Config, period: Period) -> Path:
    return Path(config.output.folder) / period.label


@dataclass(frozen=True)
class FetchResult:
    folder: Path
    raw: RawPeriod
    requests: int

    def describe(self) -> str:
        return (f"Fetched {len(self.raw.payouts)} payouts, {len(self.raw.specifications)} specification "
                f"lines and {len(self.raw.payments)} creditor payments for {self.raw.period.label} "
                f"in {self.requests} requests.\nRaw snapshot: {self.folder}")


def open_client(config: Config, *, tokens: TokenProvider | None = None,
                progress: Progress | None = None) -> AmiliClient:
    """A client for the configured creditor; the token from the environment unless given."""
    if not config.amili.creditor:
        raise ConfigError("no creditor given: set [amili] creditor or pass --creditor", key="amili.creditor")
    tokens = tokens or token_provider(config.amili)
    return AmiliClient.from_settings(config.amili, tokens, progress=progress or NoProgress())


def documents_to_download(config: Config, period: Period) -> DocumentUrls:
    """The self-invoices an export of ``period`` will download, named from the payouts as fetched.

    For fetch_period's ``documents``: they then download with the lines.
    """
    folder = period_folder(config, period)
    url_for = media_url_for(config.amili)

    def urls(items: Sequence[dict[str, Any]]) -> list[str]:
        payouts = []
        for item in items:
            try:
                payouts.append(Payout.from_api(item))
            except RecordError:
                continue  # refused by name when the period is read, right after the fetch
        on_disk = OnDisk(folder / DOCUMENTS, period_document_owners(folder))
        return missing_documents(payouts, on_disk.file_names(payouts), on_disk.kept, url_for)

    return urls


def fetch_raw(config: Config, period: Period, *, tokens: TokenProvider | None = None,
              progress: Progress | None = None) -> tuple[RawPeriod, int]:
    """Fetch a period from Amili; returns what came back and how many requests it took."""
    with open_client(config, tokens=tokens, progress=progress) as client:
        return fetch_period(client, config.amili.creditor, period).raw, client.requests_made


def fetch_snapshot(config: Config, period: Period, *, tokens: TokenProvider | None = None,
                   progress: Progress | None = None) -> FetchResult:
    """``ledger-export fetch``: the raw snapshot only, as a new folder ``<out>/<period>/raw[-N]``.

    Under the output root's lock, and never over anything: a period already
    fetched or exported keeps its files, and the new snapshot gets the next
    free name (``raw-2``, ``raw-3`` ...).
    """
    progress = progress or NoProgress()
    root = Path(config.output.folder)
    folder = period_folder(config, period)
    with OutputLock(root), staging_folder(root) as staging:
        remove_stale_staging(root, keep=staging)
        try:
            raw, requests = fetch_raw(config, period, tokens=tokens, progress=progress)
        finally:
            progress.done()
        staged = stage_snapshot(raw, staging / "snapshot")
        names = itertools.chain(["raw"], (f"raw-{i}" for i in itertools.count(2)))
        name = next(n for n in names if not os.path.lexists(folder / n))
        publish(folder, {f"{name}/{file}": f for file, f in staged.items()}, staging=staging, root=root)
    return FetchResult(folder=folder / name, raw=raw, requests=requests)
