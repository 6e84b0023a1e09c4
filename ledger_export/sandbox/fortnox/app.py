"""The Flask application: every /3/ request passes Fortnox's gate before its view.

The gate, in the order a request meets it: an injected server error; the
``Authorization: Bearer`` header (absent: 401 ErrorInformation 2000311,
as for a legacy Access-Token/Client-Secret pair, retired 2025-04-30;
unknown or expired: 401 ``{"message": "unauthorized"}``, recorded); the
rate limit (429); the token's scopes (403 ErrorInformation 2000663).
"""

from __future__ import annotations

from typing import Any

import simplejson
from flask import Flask, Response, request
from flask.json.provider import JSONProvider
from werkzeug.exceptions import HTTPException

from ledger_export.sandbox.fortnox import api_books, api_files, api_sales, control, oauth
from ledger_export.sandbox.fortnox.context import EXTENSION, Context, ctx
from ledger_export.sandbox.fortnox.errors import (
    LOGIN_MISSING, NO_SCOPE, NOT_FOUND, SYSTEM_EXCEPTION, FortnoxError, oauth_error)

# Fortnox's Scopes table: the scope each resource needs.
SCOPE_OF = {"companyinformation": "companyinformation", "financialyears": "bookkeeping",
            "accounts": "bookkeeping", "voucherseries": "bookkeeping", "vouchers": "bookkeeping",
            "inbox": "inbox", "archive": "archive", "voucherfileconnections": "connectfile",
            "invoices": "invoice", "invoicepayments": "payment", "modesofpayments": "settings"}


class DecimalJSON(JSONProvider):
    """Amounts leave as JSON numbers with their digits (Flask's default writes Decimal as a string)."""

    def dumps(self, obj: Any, **kwargs: Any) -> str:
        return simplejson.dumps(obj, use_decimal=True, ensure_ascii=False)

    def loads(self, s: str | bytes, **kwargs: Any) -> Any:
        return simplejson.loads(s, use_decimal=True)


def _json(body: object, status: int, headers: dict[str, str] | None = None) -> Response:
    return Response(simplejson.dumps(body, use_decimal=True, ensure_ascii=False), status=status,
                    mimetype="application/json", headers=headers)


def gate() -> Response | None:
    context = ctx()
    parts = request.path.split("/")
    if request.path == "/oauth-v1/token" and context.faults.take_server_error("token"):
        return _json(oauth_error("server_error", "Service unavailable"), context.faults.server_error_status)
    if len(parts) < 3 or parts[1] != "3":
        return None
    endpoint = parts[2]
    if context.faults.take_server_error(endpoint):
        raise FortnoxError(context.faults.server_error_status, SYSTEM_EXCEPTION, "System exception")
    header = request.headers.get("Authorization", "")
    if not header.startswith("Bearer "):
        raise FortnoxError(401, LOGIN_MISSING, "Kan inte logga in, access-token eller client-secret saknas(2).")
    token = header[len("Bearer "):].strip()
    grant = context.tokens.grant_for(token)
    if grant is None:
        return _json({"message": "unauthorized"}, 401)
    if context.faults.take_rate_limit() or not context.limiter.allow(token):
        retry = context.faults.retry_after
        return _json({"message": "Too many requests"}, 429, {"Retry-After": str(retry)} if retry else None)
    scope = SCOPE_OF.get(endpoint)
    if scope is None:
        raise FortnoxError(404, NOT_FOUND, "Resursen finns inte.")
    if scope not in grant.scopes:
        raise FortnoxError(403, NO_SCOPE, "Har inte behörighet för scope.")
    return None


def fortnox_error(error: FortnoxError) -> Response:
    return _json(error.body(), error.status)


def http_error(error: HTTPException) -> Response:
    code = error.code or 500
    if code == 404:
        return fortnox_error(FortnoxError(404, NOT_FOUND, "Resursen finns inte."))
    return fortnox_error(FortnoxError(code, SYSTEM_EXCEPTION if code >= 500 else NOT_FOUND, error.name))


def create_app(context: Context) -> Flask:
    app = Flask("ledger_export.sandbox.fortnox")
    app.json = DecimalJSON(app)
    app.extensions[EXTENSION] = context
    app.before_request(gate)
    app.register_error_handler(FortnoxError, fortnox_error)
    app.register_error_handler(HTTPException, http_error)
    for module in (oauth, api_books, api_files, api_sales, control):
        module.register(app)
    return app
