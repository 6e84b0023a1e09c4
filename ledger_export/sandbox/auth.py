"""Who may call the sandbox: the static key, or a token issued by the API-code flow.

Amili's authentication guide: ``GET /authenticates/api-code`` with
``X-API-Key: <JWT>`` (body ``{"api_code", "exp"}`` signed with the
creditor's private key), or ``POST`` with the API code in the body. The
answer carries an access token for ``X-API-Key``. The real response shape
and token lifetime are not public; the sandbox answers
``{"_status": "OK", "token", "expires"}`` and lets tests choose the lifetime.
"""

from __future__ import annotations

import hmac
import secrets
import threading
import time
from datetime import datetime, timezone
from typing import Any, Protocol, cast

import jwt
from eve.auth import BasicAuth
from flask import abort, current_app, request

from ledger_export.amili import timestamps

ALGORITHMS = ["ES512", "ES384", "ES256", "RS256", "RS384", "RS512"]
CREDENTIALS_MESSAGE = "Please provide proper credentials"


class Tokens:
    """The static key plus the tokens issued so far, each with its expiry (thread-safe)."""

    def __init__(self, static_key: str, ttl: float):
        self.static_key = static_key
        self.ttl = ttl
        self._issued: dict[str, float] = {}
        self._lock = threading.Lock()

    def issue(self) -> tuple[str, float]:
        token = secrets.token_urlsafe(32)
        expires = time.time() + self.ttl
        with self._lock:
            self._issued[token] = expires
        return token, expires

    def valid(self, key: str | None) -> bool:
        if not key:
            return False
        if self.static_key and hmac.compare_digest(key.encode(), self.static_key.encode()):
            return True
        with self._lock:
            expires = self._issued.get(key)
        return expires is not None and time.time() < expires

    def expire_all(self) -> None:
        """Every issued token stops working now (the static key keeps working)."""
        with self._lock:
            self._issued = dict.fromkeys(self._issued, 0.0)


class ApiCode:
    """Checks an API code, given directly or inside a JWT signed with the creditor's key."""

    def __init__(self, code: str, public_key_pem: bytes):
        self.code = code
        self.public_key = public_key_pem

    def matches(self, code: object) -> bool:
        return isinstance(code, str) and hmac.compare_digest(code.encode(), self.code.encode())

    def matches_jwt(self, token: str) -> bool:
        try:
            claims = jwt.decode(token, self.public_key, algorithms=ALGORITHMS,
                                options={"require": ["exp"]})
        except jwt.PyJWTError:
            return False
        return self.matches(claims.get("api_code"))


class SandboxApp(Protocol):
    """What create_app (app.py) keeps on the Eve app for the sandbox's own routes and checks."""

    sandbox_tokens: Tokens
    sandbox_api_code: ApiCode
    sandbox_media: dict[str, bytes]


def sandbox_app() -> SandboxApp:
    """The app handling the current request, with the sandbox's attributes (Flask's type has none)."""
    return cast(SandboxApp, current_app)


class ApiKeyAuth(BasicAuth):
    """Eve's auth hook: every resource request needs a valid ``X-API-Key``."""

    def authorized(self, allowed_roles: list[str], resource: str, method: str) -> bool:
        return sandbox_app().sandbox_tokens.valid(request.headers.get("X-API-Key"))

    def authenticate(self) -> None:
        # Eve renders this as {"_status": "ERR", "_error": {"code": 401, "message": ...}}.
        abort(401, description=CREDENTIALS_MESSAGE)


def require_key() -> None:
    """The same check for the sandbox's own routes (media)."""
    if not sandbox_app().sandbox_tokens.valid(request.headers.get("X-API-Key")):
        abort(401, description=CREDENTIALS_MESSAGE)


def api_code_view() -> dict[str, Any]:
    """``GET``/``POST /authenticates/api-code``: trade the API code for an access token."""
    checker = sandbox_app().sandbox_api_code
    if request.method == "GET":
        ok = checker.matches_jwt(request.headers.get("X-API-Key", ""))
    else:
        body = request.get_json(silent=True)
        ok = isinstance(body, dict) and checker.matches(body.get("api_code"))
    if not ok:
        abort(401, description=CREDENTIALS_MESSAGE)
    token, expires = sandbox_app().sandbox_tokens.issue()
    moment = datetime.fromtimestamp(int(expires), tz=timezone.utc)
    return {"_status": "OK", "token": token, "expires": timestamps.format(moment)}
