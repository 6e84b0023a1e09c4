"""The raw snapshot: everything fetched, saved as JSON so a run can be repeated offline.

Layout of ``<out>/<period>/raw/``:

    finance--payouts.json                 the payout items, as Amili sent them
    finance--payout-specifications.json   the specification lines of those payouts
    creditor--payments.json               direct creditor payments booked in the period
    snapshot.json                         what was asked (creditor, period, base URL),
                                          counts and the SHA-256 of each file above

Amounts are written back digit for digit (simplejson with use_decimal), keys
sorted, so the same fetch gives the same bytes. Nothing here holds a secret.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Sequence
from datetime import date
from pathlib import Path
from typing import Any

import simplejson

from ..errors import RecordError, SnapshotError
from ..files import StagedFile, publish, stage_file, staging_folder
from ..period import Period
from .fetch import RawPeriod
from .models import CreditorPayment, PeriodData, Payout, Specification, stable_order

FORMAT = 1
RESOURCES = {
    "payouts": "finance--payouts.json",
    "specifications": "finance--payout-specifications.json",
    "payments": "creditor--payments.json",
}
INDEX = "snapshot.json"


def _encode(value: Any) -> str:
    return simplejson.dumps(value, use_decimal=True, sort_keys=True, indent=1, ensure_ascii=False)


def _utf8(text: str) -> bytes:
    # A lone surrogate (valid JSON, "\ud800") has no UTF-8; written as that same
    # JSON escape it reads back unchanged. Only strings can hold one.
    return text.encode("utf-8", errors="backslashreplace")


def dumps(value: Any) -> bytes:
    """Deterministic JSON with exact Decimal amounts."""
    return _utf8(_encode(value) + "\n")


def list_chunks(items: Sequence[Any]) -> Iterator[bytes]:
    """``dumps(list(items))``, byte for byte, one item at a time.

    simplejson's C encoder cannot indent, so indent=1 runs its pure-Python
    encoder, which holds every chunk of the whole document before joining:
    about ten million small strings for 100,000 lines. One item at a time
    holds one item's.
    """
    if not items:
        yield dumps([])
        return
    for n, item in enumerate(items):
        # One level deeper than alone; a JSON string holds no raw newline, so this only re-indents.
        yield (b"[\n " if n == 0 else b",\n ") + _utf8(_encode(item).replace("\n", "\n "))
    yield b"\n]\n"


def loads(data: bytes) -> Any:
    return simplejson.loads(data.decode("utf-8"), use_decimal=True)


def _index(raw: RawPeriod, sha256: dict[str, str]) -> bytes:
    return dumps({
        "format": FORMAT,
        "creditor": raw.creditor,
        "base_url": raw.base_url,
        "period": {"label": raw.period.label, "start": raw.period.start.isoformat(),
                   "end": raw.period.end.isoformat()},
        "counts": {attr: len(getattr(raw, attr)) for attr in RESOURCES},
        "sha256": dict(sorted(sha256.items())),
    })


def stage_snapshot(raw: RawPeriod, folder: Path) -> dict[str, StagedFile]:
    """The snapshot's files, written into ``folder`` (a staging folder) one item at a time."""
    files = {name: stage_file(folder / name, list_chunks(getattr(raw, attr))) for attr, name in RESOURCES.items()}
    files[INDEX] = stage_file(folder / INDEX, [_index(raw, {name: f.sha256 for name, f in files.items()})])
    return files


def save_snapshot(raw: RawPeriod, folder: Path) -> None:
    """Publish the snapshot as the new folder ``folder``; an existing one is never replaced."""
    folder = Path(folder)
    with staging_folder(folder.parent) as staging:
        staged = stage_snapshot(raw, staging / "snapshot")
        publish(folder.parent, {f"{folder.name}/{name}": f for name, f in staged.items()}, staging=staging)


def find_snapshot(path: Path) -> Path:
    """Accept the raw folder itself or the period folder that holds ``raw/``."""
    path = Path(path)
    for candidate in (path, path / "raw"):
        if (candidate / INDEX).is_file():
            return candidate
    raise SnapshotError(f"{path} holds no raw snapshot (no {INDEX} in it or in {path / 'raw'})")


def load_snapshot(path: Path) -> RawPeriod:
    folder = find_snapshot(path)
    try:
        index = loads((folder / INDEX).read_bytes())
        if index.get("format") != FORMAT:
            raise SnapshotError(f"{folder / INDEX}: format {index.get('format')!r} is not {FORMAT}")
        contents: dict[str, tuple] = {}
        for attr, name in RESOURCES.items():
            data = (folder / name).read_bytes()
            if hashlib.sha256(data).hexdigest() != index["sha256"][name]:
                raise SnapshotError(f"{folder / name} was changed after it was fetched (SHA-256 differs)")
            items = loads(data)
            if not isinstance(items, list):
                raise SnapshotError(f"{folder / name} is not a JSON list")
            contents[attr] = tuple(items)
        p = index["period"]
        period = Period(date.fromisoformat(p["start"]), date.fromisoformat(p["end"]), p["label"])
        return RawPeriod(creditor=index["creditor"], period=period, base_url=index["base_url"],
                         **contents)
    except FileNotFoundError as exc:
        raise SnapshotError(f"raw snapshot {folder} is incomplete: {exc.filename} is missing") from None
    except (KeyError, TypeError, ValueError) as exc:
        raise SnapshotError(f"raw snapshot {folder} is damaged: {exc}") from None


def period_data(raw: RawPeriod) -> PeriodData:
    """Read every raw item strictly into records; the first bad one stops the run, named."""
    payouts = tuple(sorted((Payout.from_api(i) for i in raw.payouts), key=stable_order))
    lines = tuple(sorted((Specification.from_api(i) for i in raw.specifications), key=stable_order))
    payments = tuple(sorted((CreditorPayment.from_api(i) for i in raw.payments), key=stable_order))
    for kind, records in (("payout", payouts), ("specification", lines), ("creditor payment", payments)):
        seen: set[str] = set()
        for record in records:
            if record.id in seen:
                raise RecordError(kind, record.id, "_id", "appears twice in the fetched data")
            seen.add(record.id)
    return PeriodData(creditor=raw.creditor, period=raw.period, payouts=payouts,
                      specifications=lines, payments=payments)
