"""Seed data for the sandbox: Amili's JSON, turned into what MongoDB would hold.

The sample files are written exactly as the API returns them (ids and dates
as strings). Eve serves what the database holds, so ids become ObjectIds and
dates become datetimes again here, and Eve turns them back on the way out.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from functools import lru_cache
from pathlib import Path
from typing import Any

from bson import ObjectId

from ledger_export.amili import timestamps
from ledger_export.core.errors import SnapshotError
from ledger_export.core.resources import SAMPLES

RESOURCES = ("finance--payouts", "finance--payout-specifications", "creditor--payments")
DEFAULT_FOLDER = SAMPLES / "amili"
# Field names that hold ids or dates wherever they appear (also inside
# references, document and banking_transaction).
ID_FIELDS = frozenset({"_id", "creditor", "payout", "bank_payout_request", "banking_account", "account",
                       "case", "file", "file_import_report"})
DATE_FIELDS = frozenset({"_created", "_updated", "payout_date", "booking_date", "bank_transaction_date",
                         "client_registration_date", "finance_period_start_date", "finance_period_end_date"})
AMOUNT_FIELDS = frozenset({"amount", "vat_amount", "total_amount", "settled_amount"})
OBJECT_ID = re.compile(r"[0-9a-f]{24}")


class SandboxDataError(SnapshotError):
    """A sandbox seed folder that is missing or holds something other than Amili's JSON."""


@dataclass(frozen=True)
class SeedData:
    """Documents per collection, ready to insert (insert copies, never these)."""

    collections: Mapping[str, tuple[dict[str, Any], ...]]
    media: Mapping[str, bytes]

    def documents(self, resource: str) -> list[dict[str, Any]]:
        return copy.deepcopy(list(self.collections[resource]))

    def field_names(self) -> dict[str, set[str]]:
        """Top-level field names per resource, as found in the seed."""
        return {r: {name for doc in docs for name in doc} for r, docs in self.collections.items()}


def resolve_folder(data_dir: Path | None) -> Path:
    """The folder holding ``<resource>.json``; a samples folder with an ``amili/`` inside also works."""
    folder = Path(data_dir) if data_dir is not None else DEFAULT_FOLDER
    if (folder / "amili").is_dir() and not any((folder / f"{r}.json").exists() for r in RESOURCES):
        folder = folder / "amili"
    if not folder.is_dir():
        raise SandboxDataError(f"sandbox data folder {folder} does not exist")
    return folder.resolve()


def to_mongo(value: Any, name: str = "") -> Any:
    """One JSON value as the database holds it; ``name`` is the field it sits in."""
    if isinstance(value, dict):
        return {k: to_mongo(v, k) for k, v in value.items()}
    if isinstance(value, list):
        return [to_mongo(v, name) for v in value]
    if name in ID_FIELDS and isinstance(value, str) and OBJECT_ID.fullmatch(value):
        return ObjectId(value)
    if name in DATE_FIELDS and isinstance(value, str):
        # Eve keeps naive UTC datetimes in MongoDB and compares queries with them.
        return timestamps.parse(value).replace(tzinfo=None)
    if name in AMOUNT_FIELDS and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    return value


def _read_items(path: Path) -> tuple[dict[str, Any], ...]:
    try:
        items = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise SandboxDataError(f"{path}: not readable JSON: {exc}") from None
    if isinstance(items, dict) and "_items" in items:  # a saved API page works too
        items = items["_items"]
    if not isinstance(items, list) or not all(isinstance(i, dict) and "_id" in i for i in items):
        raise SandboxDataError(f"{path}: must be a JSON list of Amili items, each with an _id")
    return tuple(to_mongo(item) for item in items)


def _signature(folder: Path) -> tuple[tuple[str, int, int], ...]:
    files = [folder / f"{r}.json" for r in RESOURCES] + sorted((folder / "media").glob("*"))
    return tuple((str(f), f.stat().st_mtime_ns, f.stat().st_size) for f in files if f.exists())


@lru_cache(maxsize=8)
def _load_cached(folder: Path, signature: tuple[tuple[str, int, int], ...]) -> SeedData:
    collections = {}
    for resource in RESOURCES:
        path = folder / f"{resource}.json"
        # A folder may hold only some resources (a test seeding just payouts).
        collections[resource] = _read_items(path) if path.exists() else ()
    media = {}
    if (folder / "media").is_dir():
        for path in sorted((folder / "media").iterdir()):
            if path.is_file() and OBJECT_ID.fullmatch(path.stem):
                media[path.stem] = path.read_bytes()
    return SeedData(collections, media)


def load(data_dir: Path | None = None) -> SeedData:
    """The seed data of ``data_dir`` (default: the bundled June 2025 samples).

    Parsed once per process and folder state: every test starts its own
    sandbox, and re-reading 600 lines each time would dominate start-up.
    """
    folder = resolve_folder(data_dir)
    return _load_cached(folder, _signature(folder))


def now() -> datetime:
    """Eve's clock for documents the sandbox creates: naive UTC, whole seconds."""
    return datetime.now(timezone.utc).replace(tzinfo=None, microsecond=0)
