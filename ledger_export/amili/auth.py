"""Where the Amili access token comes from: a ready key, or the API-code flow.

Secrets (token, API code, signed JWT, private key) never reach a repr, a log
line or an exception message: every class here prints redacted.
"""

from __future__ import annotations

import logging
import os
import re
import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from typing import Any

import jwt
import requests
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from ledger_export.amili.settings import AmiliSettings
from ledger_export.core.errors import AmiliError, AuthenticationError, ConfigError, LedgerExportError, ResponseFormatError
from ledger_export.amili.answers import TRANSIENT, decode_json
from ledger_export.amili.bounds import AttemptTooSlow, Bounds
from ledger_export.amili.retry import RETRY_STATUSES, RetryPolicy, retry_after_seconds

log = logging.getLogger("ledger_export.amili")

AUTH_PATH = "/authenticates/api-code"
# Amili's guide: the signed request is valid for ten minutes.
JWT_LIFETIME = 600

# The response shape of the API-code call is not documented publicly; these
# are the names a token has been seen or could plausibly be under, tried in order.
_TOKEN_KEYS = ("token", "access_token", "accesstoken", "api_key", "apikey", "x-api-key",
               "_token", "auth_token", "jwt")
# Visible ASCII: what a JWT or an opaque key is made of, and all a header safely carries.
_TOKEN_SHAPE = re.compile(r"[\x21-\x7e]+")
_LINE_BREAKS = "\r\n\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029"
_CURVES = {"ES256": ec.SECP256R1, "ES384": ec.SECP384R1, "ES512": ec.SECP521R1}


class TokenProvider(ABC):
    """Hands out the current access token; safe to share between fetching threads."""

    #: HTTP requests this provider made itself (the API-code calls).
    requests_made: int = 0

    @abstractmethod
    def token(self) -> str:
        """The current token, obtaining one first if there is none yet."""

    @abstractmethod
    def refresh(self, stale: str | None = None) -> bool:
        """Get a new token; False if this provider cannot.

        ``stale`` is the token the caller saw refused: when another thread has
        already replaced it, the call returns True at once, so a burst of 401s
        from concurrent pages costs one refresh, not one each.
        """


def _flaws(value: str) -> str | None:
    """What in ``value`` an X-API-Key header cannot carry, in words that quote none of it."""
    if _TOKEN_SHAPE.fullmatch(value):
        return None
    kinds = {"line break": any(c in _LINE_BREAKS for c in value),
             "space": any(c.isspace() and c not in _LINE_BREAKS for c in value),
             "control character": any(not c.isprintable() and not c.isspace() for c in value),
             "non-ASCII character": any(ord(c) > 0x7F for c in value)}
    return " and ".join(f"a {kind}" for kind, found in kinds.items() if found)


def checked_token(value: str, source: str, error: type[LedgerExportError]) -> str:
    """``value`` if it can travel as a header; else ``error`` naming ``source``, never showing the value.

    requests would refuse a line break with the header (and so the token) in
    its message, and http.client a non-Latin-1 character with a traceback.
    """
    flaws = _flaws(value)
    if flaws is not None:
        raise error(f"{source} holds {flaws}, which no access token has (tokens are printable ASCII "
                    f"without spaces)")
    return value


class StaticToken(TokenProvider):
    """A ready access token (normally from the AMILI_API_KEY environment variable)."""

    def __init__(self, value: str, *, source: str = "the Amili access token"):
        if not value:
            raise ConfigError(f"{source} is empty")
        self._value = checked_token(value, source, ConfigError)

    def token(self) -> str:
        return self._value

    def refresh(self, stale: str | None = None) -> bool:
        return False

    def __repr__(self) -> str:
        return "StaticToken(<redacted>)"


class ApiCodeToken(TokenProvider):
    """Amili's API-code flow: a JWT signed with the creditor's private key buys an access token."""

    def __init__(self, base_url: str, api_code: str, private_key_pem: bytes, algorithm: str = "ES512",
                 session: requests.Session | None = None, clock: Callable[[], float] = time.time, *,
                 timeout: tuple[float, float] = (10.0, 60.0), retry: RetryPolicy | None = None,
                 bounds: Bounds | None = None):
        if not api_code:
            raise ConfigError("the Amili API code is empty")
        self.base_url = base_url.rstrip("/")
        self.algorithm = algorithm
        self._api_code = api_code
        self._key = load_private_key(private_key_pem, algorithm)
        self._session = session if session is not None else requests.Session()
        self._clock = clock
        self._timeout = timeout
        self._retry = retry or RetryPolicy(max_retries=3, max_wait=30.0)
        self._bounds = bounds or Bounds()
        self._token: str | None = None
        self._lock = threading.Lock()
        self.requests_made = 0

    def __repr__(self) -> str:
        return f"ApiCodeToken(base_url={self.base_url!r}, algorithm={self.algorithm!r}, api_code=<redacted>)"

    def token(self) -> str:
        with self._lock:
            if self._token is None:
                self._token = self._obtain()
            return self._token

    def refresh(self, stale: str | None = None) -> bool:
        with self._lock:
            if stale is not None and self._token is not None and self._token != stale:
                return True
            self._token = self._obtain()
            return True

    def close(self) -> None:
        self._session.close()

    def _signed_request(self) -> str:
        claims = {"api_code": self._api_code, "exp": int(self._clock()) + JWT_LIFETIME}
        return jwt.encode(claims, self._key, algorithm=self.algorithm)

    def _obtain(self) -> str:
        url = self.base_url + AUTH_PATH
        what = f"GET {url}"
        budget = self._retry.budget(what)
        while True:
            # A fresh signature per attempt: a retry after a long Retry-After
            # must not send a JWT that has meanwhile expired.
            headers = {"X-API-Key": self._signed_request(), "Accept": "application/json"}
            self._bounds.check_run(what, url)
            started = time.monotonic()
            self.requests_made += 1
            ends = self._bounds.attempt_ends()
            timeout = (self._timeout[0], self._bounds.read_timeout(self._timeout[1], ends))
            try:
                response = self._session.get(url, headers=headers, timeout=timeout, allow_redirects=False,
                                             stream=True)
                try:
                    content = self._bounds.read_body(response, ends, url)
                finally:
                    response.close()
            except AttemptTooSlow:
                log.debug("%s -> too slow after %d ms (attempt %d)", what, (time.monotonic() - started) * 1000,
                          budget.attempt)
                self._bounds.check_run(what, url)
                budget.wait(f"no whole answer within [amili] request_deadline "
                            f"({self._bounds.request_deadline:g} s)", url=url)
                continue
            except TRANSIENT as exc:
                log.debug("%s -> %s after %d ms (attempt %d)", what, type(exc).__name__,
                          (time.monotonic() - started) * 1000, budget.attempt)
                budget.wait(f"{type(exc).__name__} while asking for an access token", url=url)
                continue
            log.debug("%s -> %d in %d ms (attempt %d)", what, response.status_code,
                      (time.monotonic() - started) * 1000, budget.attempt)
            status = response.status_code
            if status in RETRY_STATUSES:
                budget.wait(f"Amili answered {status}", status=status, url=url,
                            retry_after=retry_after_seconds(response.headers))
                continue
            if status in (401, 403):
                raise AuthenticationError(
                    f"Amili refused the API code or the key it was signed with ({status}) for {what}: "
                    f"check the API code and [amili] private_key_file", url=url, status=status)
            if not 200 <= status < 300:
                raise AmiliError(f"Amili answered {status} for {what} while issuing an access token",
                                 url=url, status=status)
            try:
                body = decode_json(content)
            except ValueError:
                body = _bare_token(content)
                if body is None:
                    raise ResponseFormatError(f"the answer to {what} ({status}) is neither JSON nor a token",
                                              url=url, status=status) from None
            token = find_token(body)
            if token is None:
                # Field names only: a value might be the token under a name we do not know.
                fields = ", ".join(sorted(map(str, body))) if isinstance(body, dict) else type(body).__name__
                raise AuthenticationError(
                    f"the answer to {what} ({status}) carries no access token we recognise "
                    f"(fields: {fields[:200]})", url=url, status=status)
            return checked_token(token, f"the access token in the answer to {what} ({status})", AuthenticationError)


def _bare_token(content: bytes) -> str | None:
    """A plain-text answer that is nothing but a token (one line of token characters)."""
    text = content.decode("ascii", "replace").strip()
    return text if re.fullmatch(r"[A-Za-z0-9._~+/=-]{16,4096}", text) else None


def find_token(body: Any, depth: int = 0) -> str | None:
    """The access token in an API-code response, wherever Amili puts it (up to three levels deep)."""
    if isinstance(body, str):
        # A bare JSON string is the token itself; deeper strings are other fields.
        return (body.strip() or None) if depth == 0 else None
    if isinstance(body, list) and len(body) == 1 and depth < 3:
        return find_token(body[0], depth + 1)
    if not isinstance(body, Mapping) or depth >= 3:
        return None
    by_name = {str(k).lower(): v for k, v in body.items()}
    for name in _TOKEN_KEYS:
        value = by_name.get(name)
        if isinstance(value, str) and value.strip():
            return value.strip()
        if isinstance(value, (Mapping, list)):
            nested = find_token(value, depth + 1)
            if nested:
                return nested
    for value in body.values():
        if isinstance(value, (Mapping, list)):
            nested = find_token(value, depth + 1)
            if nested:
                return nested
    return None


def load_private_key(pem: bytes, algorithm: str) -> ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey:
    """The creditor's private key, checked against the JWT algorithm before Amili sees it."""
    try:
        key = serialization.load_pem_private_key(pem, password=None)
    except TypeError:
        raise ConfigError("the private key is encrypted; ledger-export needs it without a passphrase") from None
    except (ValueError, UnsupportedAlgorithm):
        raise ConfigError("the private key is not a PEM private key") from None
    if algorithm in _CURVES:
        if not isinstance(key, ec.EllipticCurvePrivateKey) or not isinstance(key.curve, _CURVES[algorithm]):
            raise ConfigError(f"the private key does not fit {algorithm} "
                              f"(needs an EC key on {_CURVES[algorithm].name})")
    elif algorithm in ("RS256", "RS384", "RS512"):
        if not isinstance(key, rsa.RSAPrivateKey):
            raise ConfigError(f"the private key does not fit {algorithm} (needs an RSA key)")
    else:
        raise ConfigError(f"JWT algorithm {algorithm!r} is not one Amili accepts")
    return key


def token_provider(settings: AmiliSettings, environ: Mapping[str, str] = os.environ,
                   session_factory: Callable[[], requests.Session] = requests.Session,
                   sleep: Callable[[float], None] = time.sleep) -> TokenProvider:
    """The provider the settings ask for: the API-code flow if configured, else a ready token."""
    api_code = environ.get(settings.api_code_env, "").strip()
    api_key = environ.get(settings.api_key_env, "").strip()
    if settings.private_key_file and api_code:
        path = settings.private_key_file
        try:
            with open(path, "rb") as fh:
                pem = fh.read()
        except OSError as exc:
            raise ConfigError(f"cannot read the private key file {path}: {exc.strerror or exc}",
                              key="amili.private_key_file") from None
        try:
            return ApiCodeToken(
                settings.base_url, api_code, pem, settings.jwt_algorithm, session=session_factory(),
                timeout=(settings.connect_timeout, settings.read_timeout),
                retry=RetryPolicy(max_retries=settings.max_retries, max_wait=settings.max_wait, sleep=sleep),
                bounds=Bounds(request_deadline=settings.request_deadline, run_deadline=settings.run_deadline,
                              max_response_mb=settings.max_response_mb))
        except ConfigError as exc:
            raise ConfigError(f"private key file {path}: {exc}", key="amili.private_key_file") from None
    if api_key:
        return StaticToken(api_key, source=f"the environment variable {settings.api_key_env}")
    if settings.private_key_file:
        raise ConfigError(f"[amili] private_key_file is set but the environment variable "
                          f"{settings.api_code_env} is empty: set it to your Amili API code "
                          f"(or set {settings.api_key_env} to a ready access token)")
    raise ConfigError(f"no Amili credentials: set the environment variable {settings.api_key_env} "
                      f"to your access token, or set [amili] private_key_file and the environment "
                      f"variable {settings.api_code_env} to your API code")

