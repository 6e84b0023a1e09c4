"""The jobs the CLI runs, as plain functions over a Config: fetch, and (later) export.

Nothing here parses arguments or prints; results describe themselves.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from .amili.auth import TokenProvider, token_provider
from .amili.client import AmiliClient
from .amili.fetch import DocumentUrls, RawPeriod, fetch_period
from .amili.models import Payout
from .amili.snapshot import save_snapshot
from .config import Config
from .errors import ConfigError, RecordError
from .period import Period
from .progress import NoProgress, Progress
from .writers.documents import FOLDER as DOCUMENTS, media_url_for, missing_documents


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
    folder = period_folder(config, period) / DOCUMENTS
    url_for = media_url_for(config.amili)

    def urls(items: Sequence[dict]) -> list[str]:
        payouts = []
        for item in items:
            try:
                payouts.append(Payout.from_api(item))
            except RecordError:
                continue  # refused by name when the period is read, right after the fetch
        return missing_documents(payouts, folder, url_for)

    return urls


def fetch_raw(config: Config, period: Period, *, tokens: TokenProvider | None = None,
              progress: Progress | None = None) -> tuple[RawPeriod, int]:
    """Fetch a period from Amili; returns what came back and how many requests it took."""
    with open_client(config, tokens=tokens, progress=progress) as client:
        raw = fetch_period(client, config.amili.creditor, period)
        return raw, client.requests_made


def fetch_snapshot(config: Config, period: Period, *, tokens: TokenProvider | None = None,
                   progress: Progress | None = None) -> FetchResult:
    """``ledger-export fetch``: the raw snapshot only, in ``<out>/<period>/raw``."""
    progress = progress or NoProgress()
    try:
        raw, requests = fetch_raw(config, period, tokens=tokens, progress=progress)
    finally:
        progress.done()
    folder = period_folder(config, period) / "raw"
    save_snapshot(raw, folder)
    return FetchResult(folder=folder, raw=raw, requests=requests)
