"""``ledger-export register rebuild`` and ``register show``: the register reconstructed, and read out.

Rebuild is for a register that was lost (deleted, or truncated to nothing by
a failed copy): every export leaves a manifest in its period folder naming
the payouts it booked (id, ``_etag``, date, reference, amount) and every file
with its SHA-256, so the register's record of what was booked can be
written again from them. It refuses to touch a register that still holds
anything, and builds the new file beside it before moving it into place.
``--since-last`` marks are not in the manifests; the next incremental run
starts from the beginning of the period, and the register skips what was booked.
"""

from __future__ import annotations

import json
import os
import sqlite3
import tempfile
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from ledger_export.core.files import fs_step
from ledger_export.core.lock import OutputLock
from ledger_export.core.money import ZERO, format_amount
from ledger_export.core.orgnr import canonical as canonical_orgnr, same as same_orgnr
from ledger_export.jobs.register import EXPORTED, REGISTER_FILE, Owner, Register, RegisterError, _connect
from ledger_export.jobs.register_files import exported_periods, file_matches, sha256_file
from ledger_export.outputs.manifest import period_manifests


@dataclass(frozen=True)
class _Manifest:
    path: Path
    period: str  # the folder's name: where the files are
    doc: dict[str, Any]

    @property
    def generated(self) -> str:
        return str(self.doc.get("generated") or "")

    def field(self, *keys: str) -> Any:
        value: Any = self.doc
        for key in keys:
            value = value.get(key) if isinstance(value, dict) else None
        return value


@dataclass(frozen=True)
class RebuildResult:
    path: Path
    runs: int
    payouts: int
    periods: tuple[str, ...]
    notes: tuple[str, ...]

    def describe(self) -> str:
        lines = [f"Rebuilt {self.path} from {self.runs} manifest(s) in {len(self.periods)} period folder(s) "
                 f"({', '.join(self.periods)}): {self.payouts} exported payout record(s)."]
        lines += [f"  note: {note}" for note in self.notes]
        return "\n".join(lines)


def _read(path: Path, period: str) -> _Manifest:
    try:
        doc = json.loads(path.read_bytes().decode("utf-8"))
    except OSError as exc:
        raise RegisterError(f"cannot read {path}: {exc.strerror or exc}") from exc
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise RegisterError(f"{path} is not a readable manifest ({exc.__class__.__name__}): restore it from "
                            f"a backup before rebuilding") from exc
    if not isinstance(doc, dict) or not isinstance(doc.get("payouts"), list) or not isinstance(
            doc.get("outputs"), list):
        raise RegisterError(f"{path} is not a ledger-export manifest (no payouts and outputs lists)")
    return _Manifest(path, period, doc)


def _text(manifest: _Manifest, item: Any, key: str, *, optional: bool = False) -> str | None:
    value = item.get(key) if isinstance(item, dict) else None
    if value is None and optional:
        return None
    if not isinstance(value, str) or not value:
        raise RegisterError(f"{manifest.path}: a payout entry has no '{key}' (got {value!r:.40})")
    return value


def rebuild(root: Path, owner: Owner | None = None) -> RebuildResult:
    """Write ``<root>/ledger-export-register.sqlite`` again from the period folders' manifests."""
    root = Path(root)
    path = root / REGISTER_FILE
    with OutputLock(root):
        if path.is_symlink() or (path.exists() and path.stat().st_size > 0):
            raise RegisterError(f"{path} exists and is not empty: rebuild only replaces a missing or empty "
                                f"register (if it is damaged, move it aside first and keep it)")
        manifests = sorted((_read(m, period) for period in exported_periods(root)
                            for m in period_manifests(root / period)),
                           key=lambda m: (m.generated, m.field("run", "id") or 0, str(m.path)))
        if not manifests:
            raise RegisterError(f"{root} holds no exported periods (no manifest in any period folder): "
                                f"there is nothing to rebuild the register from")
        creditors = {m.field("inputs", "creditor") for m in manifests}
        # Compared normalised: a manifest of an older version may hold "5566778899".
        orgnrs = {canonical_orgnr(str(o)) for m in manifests if (o := m.field("inputs", "orgnr"))}
        if len(creditors) != 1 or len(orgnrs) > 1:
            raise RegisterError(f"the manifests in {root} are of more than one creditor or company "
                                f"({', '.join(sorted(map(str, creditors | orgnrs)))}): each needs its own folder")
        creditor, orgnr = str(creditors.pop()), (orgnrs.pop() if orgnrs else (owner.orgnr if owner else ""))
        if owner is not None and (owner.creditor and owner.creditor != creditor or orgnr and owner.orgnr
                                  and not same_orgnr(owner.orgnr, orgnr)):
            raise RegisterError(f"the manifests in {root} are of creditor {creditor} (orgnr {orgnr or 'not given'}), "
                                f"not of this configuration's {owner.creditor} ({owner.orgnr or 'not given'})")
        fd, tmp = tempfile.mkstemp(prefix=".register-rebuild-", suffix=".sqlite", dir=root)
        os.close(fd)
        try:
            payouts, notes = _write(Path(tmp), root, manifests, Owner(creditor, orgnr,
                                                                      owner.purpose if owner else "books"))
            fs_step("rename", path)
            os.replace(tmp, path)
        except sqlite3.Error as exc:
            raise RegisterError(f"cannot write the rebuilt register in {root}: {exc}") from exc
        except OSError as exc:
            raise RegisterError(f"cannot write the rebuilt register in {root}: {exc.strerror or exc}") from exc
        finally:
            Path(tmp).unlink(missing_ok=True)
    return RebuildResult(path, len(manifests), payouts, tuple(sorted({m.period for m in manifests})), notes)


def _write(tmp: Path, root: Path, manifests: list[_Manifest], owner: Owner) -> tuple[int, tuple[str, ...]]:
    db = _connect(str(tmp), tmp, create=True)
    notes: list[str] = []
    count = 0
    try:
        db.execute("BEGIN IMMEDIATE")
        db.executemany("INSERT INTO register_info (key, value) VALUES (?, ?)",
                       [("creditor", owner.creditor), ("orgnr", owner.orgnr), ("purpose", owner.purpose)])
        for m in manifests:
            outputs = {f"{m.period}/{e['name']}": (e["size"], e["sha256"]) for e in m.doc["outputs"]
                       if isinstance(e, dict) and isinstance(e.get("name"), str)
                       and isinstance(e.get("size"), int) and isinstance(e.get("sha256"), str)}
            sies = sorted(name for name in outputs if name.endswith(".si"))
            if len(sies) > 1:
                raise RegisterError(f"{m.path} names {len(sies)} SIE files, not one: it cannot be rebuilt from")
            at = m.generated or datetime.fromtimestamp(m.path.stat().st_mtime).astimezone().isoformat()
            manifest_name = f"{m.period}/{m.path.name}"
            if sies:
                sie = sies[0]
                if not file_matches(root / sie, *outputs[sie]):
                    notes.append(f"{sie} is missing or not the file its manifest describes")
                outputs.setdefault(manifest_name, (m.path.stat().st_size, ""))
            else:  # a run without an SIE file (export --outputs): its payouts were recorded against the manifest
                sie = manifest_name
                outputs[manifest_name] = (m.path.stat().st_size, sha256_file(m.path))
            run_id = db.execute("INSERT INTO runs (period, mode, status, exported_at, manifest) VALUES (?, ?, ?, ?, ?)",
                                (m.period, "rebuilt", EXPORTED, at, manifest_name)).lastrowid
            db.executemany("INSERT INTO run_files (run_id, name, size, sha256) VALUES (?, ?, ?, ?)",
                           [(run_id, name, size, sha) for name, (size, sha) in sorted(outputs.items())])
            for p in m.doc["payouts"]:
                amount = _text(m, p, "total_amount")
                db.execute("INSERT INTO exported_payouts (payout_id, etag, payout_date, payout_reference, "
                           "total_amount, period, file_name, sha256, run_id, exported_at) "
                           "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                           (_text(m, p, "id"), _text(m, p, "etag"), _text(m, p, "payout_date", optional=True),
                            _text(m, p, "payout_reference", optional=True) or "",
                            format_amount(_amount(m, amount)), m.period, sie, outputs[sie][1], run_id, at))
                count += 1
        fs_step("commit", tmp)
        db.execute("COMMIT")
    finally:
        db.close()
    fd = os.open(tmp, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
    return count, tuple(notes)


def _amount(m: _Manifest, text: str | None) -> Decimal:
    try:
        return Decimal(text or "")
    except InvalidOperation:
        raise RegisterError(f"{m.path}: a payout's total_amount {text!r:.20} is not an amount") from None


def show(register: Register, *, payouts: bool = False, period: str | None = None) -> str:
    """The register as a bookkeeper reads it: whose it is, each run, its files and payouts."""
    owner = register.owner()
    lines = [f"Register {register.path}",
             f"  creditor {owner.get('creditor') or '(not yet known)'}, orgnr {owner.get('orgnr') or '(not given)'}"
             + (" (the demo's)" if owner.get("purpose") == "demo" else "")]
    runs = [r for r in register.runs() if period is None or r.period == period]
    if not runs:
        lines.append("  no runs" + (f" for {period}" if period else ""))
    for run in runs:
        booked = register.payouts_of(run.id)
        total = sum((e.total_amount for e in booked), start=ZERO)
        lines.append(f"run {run.id}  {run.period}  {run.mode}  {run.status}  started "
                     f"{run.exported_at:%Y-%m-%d %H:%M} UTC  {len(booked)} payout(s)  {format_amount(total)} SEK")
        files = register.run_files(run.id) or {e.file_name: (0, e.sha256) for e in booked}
        lines += [f"    file {name}" for name in files]
        if payouts:
            lines += [f"    payout {e.payout_id}  ref {e.payout_reference or '-'}  {e.payout_date or '-'}  "
                      f"{format_amount(e.total_amount)}" for e in booked]
    return "\n".join(lines)
