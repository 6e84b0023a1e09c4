"""The sandbox's own routes under ``/_sandbox/`` (no Fortnox counterpart, no token needed).

- ``GET /_sandbox/state``: everything the company holds (vouchers with
  rows and Comments, files with size and SHA-256, connections, invoices,
  payments, next voucher numbers) plus what was served: requests by status,
  429s, the busiest 5-second window of any token, tokens issued, faults
  still armed. Tests assert "posted exactly once" on it.
- ``GET /_sandbox/files/<id>``: a stored file's bytes, connected or not.
- ``POST /_sandbox/faults``: arm faults (faults.py names), and
  ``{"expire_access_tokens": true}`` / ``{"revoke_refresh_tokens": true}``.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from flask import Flask, Response, request

from ledger_export.sandbox.fortnox.context import api_url, ctx
from ledger_export.sandbox.fortnox.errors import FILE_NOT_FOUND, FortnoxError, not_found


def state() -> dict[str, Any]:
    context = ctx()
    statuses = Counter(str(s.status) for s in context.served if s.path.startswith("/3/"))
    return {**context.company.state(api_url()),
            "Served": {"api_requests": sum(statuses.values()), "by_status": dict(statuses),
                       "rate_limited": context.limiter.refused, "busiest_window": context.limiter.busiest},
            "Tokens": {"issued": context.tokens.issued_count, "refresh_tokens_used": len(context.tokens.used_refresh)},
            "Faults": context.faults.pending()}


def file_bytes(file_id: str) -> Response:
    stored = ctx().company.documents.file(file_id)
    if stored is None:
        raise not_found(FILE_NOT_FOUND, "Kan inte hitta filen.")
    return Response(stored.content, mimetype="application/octet-stream")


def faults() -> dict[str, Any]:
    context = ctx()
    body = request.get_json(silent=True)
    try:
        context.faults.arm_from_json(body)
    except (TypeError, ValueError) as exc:
        raise FortnoxError(400, 0, f"sandbox faults: {exc}") from None
    assert isinstance(body, dict)  # arm_from_json refused anything else
    if body.get("expire_access_tokens"):
        context.tokens.expire_access_tokens()
    if body.get("revoke_refresh_tokens"):
        context.tokens.revoke_refresh_tokens()
    return {"Faults": context.faults.pending()}


def register(app: Flask) -> None:
    app.add_url_rule("/_sandbox/state", view_func=state)
    app.add_url_rule("/_sandbox/files/<file_id>", view_func=file_bytes)
    app.add_url_rule("/_sandbox/faults", view_func=faults, methods=["POST"])
