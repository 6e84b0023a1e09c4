"""``manifest.json``: what one run read, booked and wrote, for machines and auditors.

Deterministic JSON (sorted keys, lists in the ledger's order); amounts are
strings with two decimals ("1234.50") so no reader turns them into floats.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from ledger_export.amili.models import PeriodData
from ledger_export.core.errors import OutputError
from ledger_export.core.files import Output, output_digest
from ledger_export.core.input_files import MB, read_regular_file
from ledger_export.ledger.model import ERROR, OK, WARNING, Ledger
from ledger_export.core.money import ZERO, format_amount
from ledger_export.amili.documents import DocumentRecord
from ledger_export.outputs.self_invoices import document_path

MANIFEST_VERSION = 1
MANIFEST_PREFIX = "manifest"
MANIFEST_LIMIT = 256 * MB  # 100,000 lines' manifest is under 1 MB
_RANK = {OK: 0, WARNING: 1, ERROR: 2}


def worst(severities: Sequence[str]) -> str:
    """The run's (or a payout's) status: its most severe finding; ok when there is none."""
    return max(severities, key=lambda s: _RANK.get(s, 2), default=OK)


def _money(value: Decimal | None) -> str | None:
    return None if value is None else format_amount(value)


def _day(value: date | None) -> str | None:
    return None if value is None else value.isoformat()


def _account_totals(ledger: Ledger) -> dict[str, Any]:
    return {str(account): {"name": ledger.account_names.get(account), "debit": _money(debit),
                           "credit": _money(credit), "net": _money(debit - credit)}
            for account, (debit, credit) in ledger.debit_credit().items()}


def _category_totals(data: PeriodData) -> dict[str, Any]:
    totals: dict[str, dict[str, Any]] = {}
    for p in data.payouts:
        t = totals.setdefault(p.finance_category, {"payouts": 0, "amount": ZERO, "vat_amount": ZERO,
                                                    "total_amount": ZERO})
        t["payouts"] += 1
        for key in ("amount", "vat_amount", "total_amount"):
            t[key] += getattr(p, key)
    return {c: {k: (_money(v) if isinstance(v, Decimal) else v) for k, v in t.items()}
            for c, t in totals.items()}


def _exported_payouts(data: PeriodData, ledger: Ledger) -> list[dict[str, Any]]:
    """The payouts booked in this run, each once, with the _etag they had when read."""
    payouts = {p.id: p for p in data.payouts}
    seen: set[str] = set()
    out = []
    for voucher in ledger.vouchers:
        if voucher.payout_id is None or voucher.payout_id in seen:
            continue
        seen.add(voucher.payout_id)
        p = payouts.get(voucher.payout_id)
        out.append({
            "id": voucher.payout_id,
            "etag": voucher.payout_etag or (p.etag if p else None),
            "category": p.finance_category if p else voucher.category,
            "payout_reference": p.payout_reference if p else voucher.payout_reference,
            "payout_date": _day(p.payout_date if p else voucher.date),
            "total_amount": _money(p.total_amount) if p else None,
        })
    return out


def _outputs(outputs: Mapping[str, Output], documents: Sequence[DocumentRecord]) -> list[dict[str, Any]]:
    files = {name: output_digest(data) for name, data in outputs.items()}
    for record in documents:
        path = document_path(record)
        if path is not None and record.size is not None and record.sha256 is not None:
            files[path] = (record.size, record.sha256)
    return [{"name": name, "size": size, "sha256": digest} for name, (size, digest) in sorted(files.items())]


def render_manifest(*, data: PeriodData, ledger: Ledger, creditor: str, config_sha256: str,
                    generated: datetime, tool_version: str, documents: Sequence[DocumentRecord],
                    outputs: Mapping[str, Output], orgnr: str = "", run_id: int | None = None,
                    mode: str | None = None, fortnox: Mapping[str, Mapping[str, Any]] | None = None) -> bytes:
    """The manifest as UTF-8 JSON bytes.

    ``outputs``: file name relative to the period folder -> the bytes written
    (SIE file, workbook) or the staged file (raw snapshot); the self-invoices
    are listed from ``documents``. ``run_id`` and ``mode``: the register's run
    (``ledger-export register rebuild`` reads them back). ``fortnox``: a run
    posted to Fortnox, payout id -> its voucher, document and payments there
    (the ``fortnox`` section; absent for a run that wrote an SIE file).
    """
    severities = [f.severity for f in ledger.findings]
    doc = {
        "manifest_version": MANIFEST_VERSION,
        "tool": {"name": "ledger-export", "version": tool_version},
        "generated": (generated.isoformat(timespec="seconds") if isinstance(generated, datetime)
                      else generated.isoformat()),
        "inputs": {
            "period": {"label": data.period.label, "start": _day(data.period.start), "end": _day(data.period.end)},
            "creditor": creditor,
            "orgnr": orgnr,
            "config_sha256": config_sha256,
        },
        "run": {"id": run_id, "mode": mode},
        "counts": {
            "payouts": len(data.payouts),
            "specifications": len(data.specifications),
            "creditor_payments": len(data.payments),
            "vouchers": len(ledger.vouchers),
            "ledger_lines": sum(len(v.lines) for v in ledger.vouchers),
            "self_invoices": sum(1 for d in documents if d.in_place),
            "findings": {s: severities.count(s) for s in (OK, WARNING, ERROR)},
        },
        "totals_per_account": _account_totals(ledger),
        "totals_per_category": _category_totals(data),
        "reconciliation": {
            "status": worst(severities),
            "findings": [{"check": f.check, "severity": f.severity, "payout_id": f.payout_id,
                          "message": f.message} for f in ledger.findings],
        },
        "payouts": _exported_payouts(data, ledger),
        "self_invoices": [{"payout_id": d.payout_id, "file_name": d.file_name, "status": d.status,
                           "problem": d.problem, "size": d.size, "sha256": d.sha256} for d in documents],
        "outputs": _outputs(outputs, documents),
    }
    if fortnox is not None:
        doc["fortnox"] = {pid: dict(fortnox[pid]) for pid in sorted(fortnox)}
    return (json.dumps(doc, indent=2, sort_keys=True, ensure_ascii=False) + "\n").encode("utf-8")


def document_owners(manifest: bytes | None) -> dict[str, tuple[str, str]]:
    """File name -> (payout id, SHA-256) of the self-invoices a manifest recorded as in place.

    How a later run knows which PDF in ``self-invoices/`` is whose. A missing
    or unreadable manifest gives nothing: its files then count as someone
    else's, and are never written over.
    """
    if not manifest:
        return {}
    try:
        doc = json.loads(manifest.decode("utf-8"))
        return {e["file_name"]: (e["payout_id"], e["sha256"]) for e in doc["self_invoices"]
                if isinstance(e, dict) and e.get("status") == "ok" and isinstance(e.get("file_name"), str)
                and isinstance(e.get("payout_id"), str) and isinstance(e.get("sha256"), str)}
    except (UnicodeDecodeError, ValueError, KeyError, TypeError, AttributeError, RecursionError):
        return {}


def period_manifests(folder: Path) -> list[Path]:
    """The manifests in one period folder (``manifest.json``, ``manifest-run3.json``), real files only."""
    try:
        entries = list(os.scandir(folder))
    except (FileNotFoundError, NotADirectoryError):
        return []
    except OSError as exc:
        raise OutputError(f"cannot read {folder}: {exc.strerror or exc}") from exc
    return sorted(Path(e.path) for e in entries if e.name.startswith(MANIFEST_PREFIX) and e.name.endswith(".json")
                  and e.is_file(follow_symlinks=False))


def period_document_owners(folder: Path) -> dict[str, tuple[str, str]]:
    """Every self-invoice the period's manifests vouch for: file name -> (payout id, SHA-256)."""
    owners: dict[str, tuple[str, str]] = {}
    for path in period_manifests(folder):
        owners.update(document_owners(read_regular_file(path, MANIFEST_LIMIT, "manifest", OutputError)))
    return owners
