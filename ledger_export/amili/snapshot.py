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
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import simplejson

from ledger_export.core.errors import PeriodError, RecordError, SnapshotError
from ledger_export.core.files import StagedFile, publish, stage_file, staging_folder
from ledger_export.core.input_files import MB, read_regular_file
from ledger_export.core.period import Period, iso_day
from ledger_export.amili.fetch import RawPeriod
from ledger_export.amili.models import CreditorPayment, PeriodData, Payout, Specification, stable_order

FORMAT = 1
RESOURCES = {
    "payouts": "finance--payouts.json",
    "specifications": "finance--payout-specifications.json",
    "payments": "creditor--payments.json",
}
INDEX = "snapshot.json"
# snapshot.json is a few hundred bytes. The lists of a large creditor's quarter
# are about 240 MB (78 MB for 100,000 lines, BENCHMARKS.md); four times that is
# no snapshot of ours.
INDEX_LIMIT = 1 * MB
RESOURCE_LIMIT = 1024 * MB
_ID = re.compile(r"[0-9a-f]{24}")  # as [amili] creditor
_SHA256 = re.compile(r"[0-9a-f]{64}")  # as hexdigest() writes it


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
    """The snapshot in ``path``, read as strictly as an answer from Amili.

    Nothing in it is taken as given: the index is checked field by field, each
    list against its SHA-256 and its count, and the period is rebuilt from its
    two dates (its label names the output folder, so a label that is not the
    dates' own, such as ``../x``, is refused, never used). The first problem
    is a SnapshotError naming the file and the field.
    """
    folder = find_snapshot(path)
    index = _read_index(folder / INDEX)
    contents: dict[str, tuple[dict[str, Any], ...]] = {}
    for attr, name in RESOURCES.items():
        file = folder / name
        data = _read_bytes(file, RESOURCE_LIMIT)
        if hashlib.sha256(data).hexdigest() != index.sha256[name]:
            raise SnapshotError(f"{file} was changed after it was fetched (SHA-256 differs from {INDEX})")
        items = _json(file, data)
        del data  # the bytes (78 MB for 100,000 lines) go before the items are copied into a tuple
        if not isinstance(items, list):
            raise SnapshotError(f"{file}: is not a JSON list of records but {_kind(items)}")
        for n, item in enumerate(items):
            if not isinstance(item, dict):
                raise SnapshotError(f"{file}: item [{n}] is not a JSON object but {_kind(item)}")
        if len(items) != index.counts[attr]:
            raise SnapshotError(f"{folder / INDEX}: field 'counts.{attr}' is {index.counts[attr]}, "
                                f"but {name} holds {len(items)}")
        contents[attr] = tuple(items)
    return RawPeriod(creditor=index.creditor, period=index.period, base_url=index.base_url, **contents)


@dataclass(frozen=True)
class _Index:
    creditor: str
    base_url: str
    period: Period
    counts: dict[str, int]
    sha256: dict[str, str]


def _read_bytes(file: Path, limit: int) -> bytes:
    return read_regular_file(file, limit, "raw snapshot file", SnapshotError)


def _json(file: Path, data: bytes) -> Any:
    try:
        return loads(data)
    except UnicodeDecodeError as exc:
        raise SnapshotError(f"{file}: is not UTF-8 text (byte {exc.start})") from None
    except RecursionError:
        raise SnapshotError(f"{file}: is nested too deeply to be a snapshot") from None
    except ValueError as exc:  # simplejson's JSONDecodeError, and int() over 4300 digits
        raise SnapshotError(f"{file}: is not valid JSON: {exc}") from None


def _kind(value: Any) -> str:
    names = {dict: "an object", list: "a list", str: "text", bool: "true or false", type(None): "null"}
    return names.get(type(value), "a number")


def _read_index(file: Path) -> _Index:
    index = _json(file, _read_bytes(file, INDEX_LIMIT))

    def fail(field: str, problem: str) -> SnapshotError:
        return SnapshotError(f"{file}: field '{field}' {problem}")

    def get(mapping: Any, field: str, kind: type, what: str) -> Any:
        value = mapping.get(field.rpartition(".")[2])
        if type(value) is not kind:  # bool is no int, Decimal no int
            raise fail(field, f"must be {what}, got {_kind(value)}" if value is not None else "is missing")
        return value

    if not isinstance(index, dict):
        raise SnapshotError(f"{file}: is not a JSON object but {_kind(index)}")
    if index.get("format") != FORMAT or type(index.get("format")) is not int:
        raise fail("format", f"is {index.get('format')!r:.20}, not {FORMAT}: not a snapshot this version can read")
    creditor = get(index, "creditor", str, "a creditor id")
    if not _ID.fullmatch(creditor):
        raise fail("creditor", f"must be a 24-character Amili id, got {creditor!r:.40}")
    base_url = get(index, "base_url", str, "text")
    if not base_url.isprintable():
        raise fail("base_url", f"must be a URL, got {base_url!r:.60}")
    p = get(index, "period", dict, "an object")
    days = {}
    for name in ("start", "end"):
        text = get(p, f"period.{name}", str, "a date written YYYY-MM-DD")
        try:
            days[name] = iso_day(text)
        except ValueError:
            raise fail(f"period.{name}", f"must be a date written YYYY-MM-DD, got {text!r:.40}") from None
    try:
        period = Period(days["start"], days["end"])
    except PeriodError as exc:
        raise fail("period", f"cannot be booked: {exc}") from None
    label = get(p, "period.label", str, "text")
    if label != period.label:
        # The label names the folder the outputs go to: only the dates' own is used.
        raise fail("period.label", f"is {label!r:.40}, but the period {period.start} to {period.end} "
                                   f"is labelled {period.label}")
    counts_field = get(index, "counts", dict, "an object")
    counts = {}
    for attr in RESOURCES:
        count = get(counts_field, f"counts.{attr}", int, "a whole number")
        if count < 0:
            raise fail(f"counts.{attr}", f"must be 0 or more, got {count}")
        counts[attr] = count
    hashes = get(index, "sha256", dict, "an object")
    sha256 = {}
    for name in RESOURCES.values():
        value = hashes.get(name)
        if type(value) is not str or not _SHA256.fullmatch(value):
            problem = "is missing" if value is None else f"must be 64 hex digits, got {value!r:.70}"
            raise SnapshotError(f"{file}: field 'sha256.{name}' {problem}")
        sha256[name] = value
    return _Index(creditor, base_url, period, counts, sha256)


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
