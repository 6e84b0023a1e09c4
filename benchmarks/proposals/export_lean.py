"""Proposal (monkeypatch, for the benchmark only): hold less at once during an export.

1. Repeated text values (creditor, payout id, dates, article, invoice number ...)
   share one str per distinct value as pages are read (read_page), instead of
   one per line. (The real change: a memo per fetch in the client, not a module dict.)
2. Right after the fetch, the raw snapshot is written to a staging folder
   beside the outputs (item by item, hashed on the way), the records are read,
   and the raw JSON items are let go: only the records live on.
3. publish moves the staged snapshot files into place; the manifest takes
   their size and SHA-256 from the staging step.
Use with snapshot_per_item.py (its per-item dumps) (same bytes as snapshot_files).
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path

import simplejson

from ledger_export import export, files
from ledger_export import outputs as outputs_module
from ledger_export.amili import paging, snapshot
from ledger_export.jobs import open_client
from ledger_export.writers import manifest

# -- 1. one str per repeated value ------------------------------------------------------
REPEATED = ("creditor", "currency", "payout", "payout_reference", "payout_interval", "payout_date",
            "booking_date", "_updated", "article", "finance_category", "state",
            # per invoice: about three lines each
            "invoice_number", "reference_number")
_memo: dict[str, str] = {}
_read_page = paging.read_page


def read_page(body, resource, number, url):
    page = _read_page(body, resource, number, url)
    for item in page.items:
        for key in REPEATED:
            value = item.get(key)
            if type(value) is str:
                item[key] = _memo.setdefault(value, value)
        refs = item.get("references")
        if type(refs) is dict and type(refs.get("case")) is str:
            refs["case"] = _memo.setdefault(refs["case"], refs["case"])
    return page


paging.read_page = read_page


# -- 2. the snapshot staged on disk, raw items dropped -------------------------------------
@dataclass(frozen=True)
class Staged:
    path: Path
    size: int
    sha256: str


def _write_json_list(path: Path, items) -> Staged:
    digest = hashlib.sha256()
    size = 0
    with open(path, "wb") as fh:
        def put(data: bytes) -> None:
            nonlocal size
            fh.write(data)
            digest.update(data)
            size += len(data)

        if not items:
            put(snapshot.dumps([]))
        else:
            for n, item in enumerate(items):
                text = simplejson.dumps(item, use_decimal=True, sort_keys=True, indent=1, ensure_ascii=False)
                indented = text.replace("\n", "\n ").encode("utf-8", errors="backslashreplace")
                put((b"[\n " if n == 0 else b",\n ") + indented)
            put(b"\n]\n")
    return Staged(path, size, digest.hexdigest())


def stage_snapshot(raw, root: Path) -> dict:
    root.mkdir(parents=True, exist_ok=True)
    where = Path(tempfile.mkdtemp(prefix=".raw-staged-", dir=root))
    staged = {name: _write_json_list(where / name, getattr(raw, attr)) for attr, name in snapshot.RESOURCES.items()}
    index = {
        "format": snapshot.FORMAT, "creditor": raw.creditor, "base_url": raw.base_url,
        "period": {"label": raw.period.label, "start": raw.period.start.isoformat(),
                   "end": raw.period.end.isoformat()},
        "counts": {attr: len(getattr(raw, attr)) for attr in snapshot.RESOURCES},
        "sha256": {name: s.sha256 for name, s in sorted(staged.items())},
    }
    result: dict = dict(staged)
    result[snapshot.INDEX] = snapshot.dumps(index)
    return result


_snapshot_files = snapshot.snapshot_files


def snapshot_files(raw):
    staged = getattr(raw, "_staged", None)
    return staged if staged is not None else _snapshot_files(raw)


snapshot.snapshot_files = snapshot_files
outputs_module.snapshot_files = snapshot_files
_original_source = export._source


@contextmanager
def _source(config, period, options, tokens, progress, since):
    if options.from_raw is not None:
        with _original_source(config, period, options, tokens, progress, since) as source:
            yield source
        return
    with open_client(config, tokens=tokens, progress=progress) as client:
        raw = export.fetch_period(client, config.amili.creditor, period, created_since=since)
        seen = export.fetch_seen(client, config.amili.creditor, period, since) if options.since_last else None
        progress.done()
        staged = stage_snapshot(raw, Path(config.output.folder))
        data = export.period_data(raw)
        light = replace(raw, payouts=(), specifications=(), payments=())
        object.__setattr__(light, "_staged", staged)  # scratch: the real change would carry it properly
        del raw
        yield export._Source(light, data, client.requests_made, client.download, seen)


export._source = _source

# -- 3. publish and manifest take staged files ---------------------------------------------
_outputs = manifest._outputs


def manifest_outputs(outputs, documents):
    plain = {k: v for k, v in outputs.items() if not isinstance(v, Staged)}
    listed = {e["name"]: e for e in _outputs(plain, documents)}
    for name, value in outputs.items():
        if isinstance(value, Staged):
            listed[name] = {"name": name, "size": value.size, "sha256": value.sha256}
    return [listed[k] for k in sorted(listed)]


manifest._outputs = manifest_outputs
_publish = files.publish


def publish(folder, outputs, *, last=None):
    staged = {k: v for k, v in outputs.items() if isinstance(v, Staged)}
    if not staged:
        return _publish(folder, outputs, last=last)
    # Written as empty placeholders by the real publish, then replaced by the staged files
    # (the experiment's shortcut; the real change would move them inside publish's staging).
    _publish(folder, {k: (b"" if k in staged else v) for k, v in outputs.items()}, last=last)
    for name, value in staged.items():
        os.replace(value.path, Path(folder) / name)


files.publish = publish
export.publish = publish
