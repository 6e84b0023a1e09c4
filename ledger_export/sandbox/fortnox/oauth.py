"""The authorization page and the token endpoint: ``/oauth-v1/auth`` and ``/oauth-v1/token``.

Fortnox: Authorization > Get Authorization-Code (GET ``/oauth-v1/auth``
with client_id, redirect_uri, scope (space separated), state (required),
access_type=offline, response_type=code, account_type=service; answered
with a redirect carrying ``code`` and ``state``), Get Access-Token (POST
``/oauth-v1/token``, ``Authorization: Basic base64(client id:secret)``,
form body ``grant_type=authorization_code&code=..&redirect_uri=..``), Get
Refresh-Token (``grant_type=refresh_token&refresh_token=..``), Get
Access-Token using Client-Credentials (``grant_type=client_credentials``
with the ``TenantId`` header; needs a service account's consent). Answers
``{access_token, refresh_token, scope, expires_in, token_type}``; the
client-credentials answer has no refresh token. Errors as recorded:
401 ``invalid_client`` "The client credentials are invalid" (text/plain),
400 ``invalid_grant`` "Invalid refresh token" (text/html). The sandbox's
consent page is skipped: the user always approves, at once.
"""

from __future__ import annotations

import base64
import binascii
from urllib.parse import urlencode, urlsplit

import simplejson
from flask import Flask, Response, redirect, request
from werkzeug.wrappers import Response as BaseResponse

from ledger_export.sandbox.fortnox.context import ctx
from ledger_export.sandbox.fortnox.errors import oauth_error
from ledger_export.sandbox.fortnox.tokens import SCOPES


def loopback_redirect(uri: str) -> bool:
    """The sandbox's registered redirect URIs: any http URL on this machine (Fortnox wants an exact match)."""
    parts = urlsplit(uri)
    return parts.scheme == "http" and parts.hostname in ("127.0.0.1", "localhost")


def _json(body: object, status: int, mimetype: str = "application/json") -> Response:
    return Response(simplejson.dumps(body), status=status, mimetype=mimetype,
                    headers={"Cache-Control": "no-store"})


def authorize() -> BaseResponse:
    context = ctx()
    args = request.args
    client_id, redirect_uri, state = args.get("client_id", ""), args.get("redirect_uri"), args.get("state")
    if client_id != context.tokens.client_id:
        return Response("Auth code or ClientID supplied is invalid", status=400, mimetype="text/plain")
    if redirect_uri is not None and not context.redirect_ok(redirect_uri):
        return Response("redirect_uri does not match the app's", status=400, mimetype="text/plain")
    if redirect_uri is None:
        return Response("this sandbox app has no default redirect_uri: give one", status=400, mimetype="text/plain")
    if not state:
        return Response("state is required", status=400, mimetype="text/plain")

    def back(**params: str) -> BaseResponse:
        separator = "&" if urlsplit(redirect_uri).query else "?"
        return redirect(f"{redirect_uri}{separator}{urlencode({**params, 'state': state})}", code=302)

    if args.get("response_type") != "code":
        return back(error="unsupported_response_type")
    scopes = frozenset(args.get("scope", "").split())
    if not scopes or not scopes <= SCOPES or not scopes <= context.app_scopes:
        return back(error="invalid_scope")
    service = args.get("account_type") is not None
    if service and (args["account_type"] != "service" or not context.service_accounts):
        return back(error="invalid_request", error_description="Client does not allow service account")
    return back(code=context.tokens.new_code(scopes, redirect_uri, service))


def _client() -> bool:
    header = request.headers.get("Authorization", "")
    if not header.startswith("Basic "):
        return False
    try:
        client_id, _, secret = base64.b64decode(header[6:], validate=True).decode("utf-8").partition(":")
    except (binascii.Error, UnicodeDecodeError):
        return False
    return ctx().tokens.client_ok(client_id, secret)


def token() -> Response:
    if not _client():
        return _json(oauth_error("invalid_client", "The client credentials are invalid"), 401, "text/plain")
    if request.mimetype != "application/x-www-form-urlencoded":
        return _json(oauth_error("invalid_request", "Content-Type must be application/x-www-form-urlencoded"), 400)
    tokens, form = ctx().tokens, request.form
    grant = form.get("grant_type")
    if grant == "authorization_code":
        code = tokens.take_code(form.get("code", ""))
        if code is None or (code.redirect_uri is not None and form.get("redirect_uri") != code.redirect_uri):
            return _json(oauth_error("invalid_grant", "Invalid authorization code"), 400, "text/html")
        return _json(tokens.issue(code.grant.scopes, service=code.grant.service).body(), 200)
    if grant == "refresh_token":
        issued = tokens.rotate(form.get("refresh_token", ""))
        if issued is None:
            return _json(oauth_error("invalid_grant", "Invalid refresh token"), 400, "text/html")
        return _json(issued.body(), 200)
    if grant == "client_credentials":
        tenant = request.headers.get("TenantId", "")
        if tenant != str(tokens.tenant_id) or not tokens.service_scopes:
            return _json(oauth_error("invalid_grant", "No consent for this client and tenant"), 400)
        scopes = frozenset(form.get("scope", "").split()) or tokens.service_scopes
        if not scopes <= tokens.service_scopes:
            return _json(oauth_error("invalid_scope", "Scope not covered by the consent"), 400)
        return _json(tokens.issue(scopes, refresh=False, service=True).body(), 200)
    return _json(oauth_error("unsupported_grant_type", f"Unsupported grant type: {grant}"), 400)


def register(app: Flask) -> None:
    app.add_url_rule("/oauth-v1/auth", view_func=authorize)
    app.add_url_rule("/oauth-v1/token", view_func=token, methods=["POST"])
