"""Where the Fortnox access token comes from: a service account's client credentials, or rotating refresh tokens.

Fortnox's token endpoint (``{auth_url}/token``) takes the client id and
secret as HTTP Basic credentials and a form body:

- ``grant_type=client_credentials`` with a ``TenantId`` header: a service
  account's token, no refresh token at all (``[fortnox] tenant_id``);
- ``grant_type=refresh_token``: a new access token and a new refresh token;
  the old refresh token is spent (fortnox/tokens.py writes the new one first);
- ``grant_type=authorization_code``: the end of `fortnox login` (login.py).

Access tokens live an hour; each is renewed shortly before it expires, and
once when Fortnox answers 401 to it. Secrets (client secret, tokens) never
reach a repr, a log line or a message: every class here prints redacted, and
messages built from Fortnox's answers have any secret cut out.
"""

from __future__ import annotations

import base64
import logging
import os
import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import requests

from ledger_export.core.errors import ConfigError, FortnoxAuthError, FortnoxError, FortnoxUnavailableError
from ledger_export.core.http import TRANSIENT, AttemptTooSlow, Bounds, RetryPolicy, clip, decode_json, retry_after_seconds
from ledger_export.fortnox.settings import FortnoxSettings
from ledger_export.fortnox.tokens import LOGIN_AGAIN, TokenSet, TokenStore

log = logging.getLogger("ledger_export.fortnox")

CLIENT_ID_ENV = "FORTNOX_CLIENT_ID"
CLIENT_SECRET_ENV = "FORTNOX_CLIENT_SECRET"
REFRESH_TOKEN_ENV = "FORTNOX_REFRESH_TOKEN"
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})


def redact(text: str, secrets: Iterable[str | None]) -> str:
    """``text`` with every secret in it replaced by <redacted> (a server may echo what it was sent)."""
    for secret in secrets:
        if secret and len(secret) >= 4:
            text = text.replace(secret, "<redacted>")
    return text


@dataclass(frozen=True)
class Credentials:
    """The app's client id and secret, from the environment only."""

    client_id: str
    client_secret: str = field(repr=False)

    def __repr__(self) -> str:
        return f"Credentials(client_id={self.client_id!r}, client_secret=<redacted>)"

    def basic(self) -> str:
        pair = f"{self.client_id}:{self.client_secret}".encode()
        return "Basic " + base64.b64encode(pair).decode("ascii")


def _printable_ascii(value: str) -> bool:
    return value.isascii() and value.isprintable() and " " not in value


def credentials_from_env(environ: Mapping[str, str] = os.environ) -> Credentials:
    client_id = environ.get(CLIENT_ID_ENV, "").strip()
    client_secret = environ.get(CLIENT_SECRET_ENV, "").strip()
    missing = [name for name, value in ((CLIENT_ID_ENV, client_id), (CLIENT_SECRET_ENV, client_secret)) if not value]
    if missing:
        raise ConfigError(f"no Fortnox app credentials: set the environment variable(s) {' and '.join(missing)} "
                          f"to the client id and secret of your app in Fortnox's developer portal")
    for name, value in ((CLIENT_ID_ENV, client_id), (CLIENT_SECRET_ENV, client_secret)):
        if not _printable_ascii(value):
            raise ConfigError(f"the environment variable {name} holds characters no Fortnox client id or "
                              f"secret has (they are printable ASCII without spaces)")
    return Credentials(client_id, client_secret)


class TokenEndpoint:
    """Fortnox's ``{auth_url}/token``: one POST per grant, retried on 429, 5xx and dropped connections.

    Retrying is safe here: a refresh whose answer was lost spent its refresh
    token or did not; sending it again either works or is refused, and a
    refusal says to log in again, which is what a lost answer leaves anyway.
    """

    def __init__(self, auth_url: str, credentials: Credentials, *, session: requests.Session | None = None,
                 timeout: tuple[float, float] = (10.0, 60.0), retry: RetryPolicy | None = None,
                 bounds: Bounds | None = None, now: Callable[[], float] = time.time):
        self.url = auth_url.rstrip("/") + "/token"
        self.credentials = credentials
        self._session = session if session is not None else requests.Session()
        self._timeout = timeout
        self._retry = retry or RetryPolicy(max_retries=3, max_wait=30.0, service="Fortnox",
                                           unavailable=FortnoxUnavailableError)
        self._bounds = bounds or Bounds(section="fortnox", limit_error=FortnoxUnavailableError, error=FortnoxError)
        self._now = now
        self.requests_made = 0

    def __repr__(self) -> str:
        return f"TokenEndpoint({self.url!r}, {self.credentials!r})"

    def close(self) -> None:
        self._session.close()

    def client_credentials(self, tenant_id: str) -> TokenSet:
        return self._grant({"grant_type": "client_credentials"}, {"TenantId": tenant_id},
                           "a service account token (client credentials)", tenant_id=tenant_id)

    def refresh(self, refresh_token: str) -> TokenSet:
        return self._grant({"grant_type": "refresh_token", "refresh_token": refresh_token}, {},
                           "a new access token (refresh)", secret=refresh_token)

    def exchange_code(self, code: str, redirect_uri: str) -> TokenSet:
        return self._grant({"grant_type": "authorization_code", "code": code, "redirect_uri": redirect_uri}, {},
                           "the tokens for the authorization code", secret=code)

    def _grant(self, form: dict[str, str], extra: dict[str, str], asking: str, *,
               secret: str | None = None, tenant_id: str | None = None) -> TokenSet:
        what = f"POST {self.url} for {asking}"
        hidden = (secret, self.credentials.client_secret)
        budget = self._retry.budget(what)
        headers = {"Authorization": self.credentials.basic(), "Accept": "application/json", **extra}
        while True:
            self._bounds.check_run(what, self.url)
            self.requests_made += 1
            ends = self._bounds.attempt_ends()
            timeout = (self._timeout[0], self._bounds.read_timeout(self._timeout[1], ends))
            try:
                response = self._session.post(self.url, data=form, headers=headers, timeout=timeout,
                                              allow_redirects=False, stream=True)
                try:
                    content = self._bounds.read_body(response, ends, self.url)
                finally:
                    response.close()
            except AttemptTooSlow:
                budget.wait(f"no whole answer within {self._bounds.too_slow()}", url=self.url)
                continue
            except TRANSIENT as exc:
                budget.wait(f"{type(exc).__name__} while asking for {asking}", url=self.url)
                continue
            status = response.status_code
            log.debug("%s -> %d (attempt %d)", what, status, budget.attempt)
            if status in RETRY_STATUSES:
                budget.wait(f"Fortnox answered {status}", status=status, url=self.url,
                            retry_after=retry_after_seconds(response.headers))
                continue
            try:
                body = decode_json(content)
            except ValueError:
                body = None
            if not 200 <= status < 300:
                raise self._refused(what, status, body, hidden, refresh="refresh_token" in form, tenant_id=tenant_id)
            return TokenSet.from_answer(body, self._now(), what=what)

    def _refused(self, what: str, status: int, body: Any, hidden: tuple[str | None, ...], *,
                 refresh: bool, tenant_id: str | None) -> FortnoxAuthError:
        error = description = ""
        if isinstance(body, dict):
            error = str(body.get("error") or "")
            description = str(body.get("error_description") or body.get("message") or "")
        said = redact(clip(" ".join(f"{error}: {description}".strip(": ").split()), 300), hidden)
        said = f" ({said})" if said else ""
        if error == "invalid_client" or status == 401:
            fix = (f"check the environment variables {CLIENT_ID_ENV} and {CLIENT_SECRET_ENV} against your "
                   f"app in Fortnox's developer portal")
        elif refresh and error == "invalid_grant":
            fix = f"the refresh token is spent or expired: {LOGIN_AGAIN}"
        elif tenant_id is not None:
            fix = (f"check [fortnox] tenant_id ({tenant_id}) and that the company's administrator has "
                   f"approved the app as a service account")
        else:
            fix = LOGIN_AGAIN
        return FortnoxAuthError(f"Fortnox refused {what} ({status}){said}: {fix}", url=self.url, status=status)


class AccessTokens(ABC):
    """Hands out the current access token to the client; safe to share between threads."""

    @abstractmethod
    def token(self) -> str:
        """A token good for at least another minute, obtaining one first if needed."""

    @abstractmethod
    def refresh(self, stale: str | None = None) -> bool:
        """Replace the token Fortnox refused (401); False if this provider cannot.

        ``stale`` is the token refused: if it has already been replaced, True at once.
        """

    @property
    @abstractmethod
    def scopes(self) -> frozenset[str]:
        """The scopes the current token was granted (empty until one was obtained)."""

    def close(self) -> None:
        pass


class ServiceAccountTokens(AccessTokens):
    """A service account: a fresh token by client credentials whenever the last is near its end."""

    def __init__(self, endpoint: TokenEndpoint, tenant_id: str, *, now: Callable[[], float] = time.time):
        self.endpoint = endpoint
        self.tenant_id = tenant_id
        self._now = now
        self._current: TokenSet | None = None
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"ServiceAccountTokens(tenant_id={self.tenant_id!r}, {self.endpoint!r})"

    def token(self) -> str:
        with self._lock:
            if self._current is None or not self._current.fresh(self._now()):
                self._current = self.endpoint.client_credentials(self.tenant_id)
            return self._current.access_token

    def refresh(self, stale: str | None = None) -> bool:
        with self._lock:
            if stale is not None and self._current is not None and self._current.access_token != stale:
                return True
            self._current = self.endpoint.client_credentials(self.tenant_id)
            return True

    @property
    def scopes(self) -> frozenset[str]:
        return self._current.scopes if self._current is not None else frozenset()

    def close(self) -> None:
        self.endpoint.close()


class RefreshingTokens(AccessTokens):
    """The authorization-code flow's tokens, kept in the token file and rotated on each refresh.

    ``seed`` (FORTNOX_REFRESH_TOKEN) is used only while the file is empty or
    missing: once the file holds tokens, the seed has been spent.
    """

    def __init__(self, endpoint: TokenEndpoint, store: TokenStore, *, seed: str | None = None,
                 now: Callable[[], float] = time.time):
        self.endpoint = endpoint
        self.store = store
        self._seed = seed or None
        self._now = now
        self._current: TokenSet | None = None
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        seed = "<redacted>" if self._seed else None
        return f"RefreshingTokens({self.store!r}, seed={seed}, {self.endpoint!r})"

    def token(self) -> str:
        with self._lock:
            if self._current is None:
                self._current = self.store.load()
            if self._current is None or not self._current.fresh(self._now()):
                self._current = self._rotate(stale=None)
            return self._current.access_token

    def refresh(self, stale: str | None = None) -> bool:
        with self._lock:
            if stale is not None and self._current is not None and self._current.access_token != stale:
                return True
            self._current = self._rotate(stale=stale)
            return True

    @property
    def scopes(self) -> frozenset[str]:
        return self._current.scopes if self._current is not None else frozenset()

    def close(self) -> None:
        self.endpoint.close()

    def _rotate(self, stale: str | None) -> TokenSet:
        """Spend the stored refresh token; the new pair is on disk before this returns."""
        with self.store.locked():
            # Another process may have rotated while this one waited: its pair is the one that works.
            stored = self.store.load()
            if stored is not None and stored.access_token != stale and stored.fresh(self._now()) and (
                    self._current is None or stored.access_token != self._current.access_token):
                return stored
            refresh_token = stored.refresh_token if stored is not None else self._seed
            if stored is not None and refresh_token is None:
                raise FortnoxAuthError(f"the Fortnox token file {self.store.path} holds no refresh token: "
                                       f"{LOGIN_AGAIN}")
            if refresh_token is None:
                raise FortnoxAuthError(f"no Fortnox tokens yet ({self.store.path} is missing or empty): run "
                                       f"`ledger-export fortnox login`, or set {REFRESH_TOKEN_ENV} to a refresh "
                                       f"token, or set [fortnox] tenant_id for a service account")
            new = self.endpoint.refresh(refresh_token)
            if new.refresh_token is None:
                # Keep something to refresh with next time rather than write a file that cannot be refreshed.
                raise FortnoxAuthError(f"Fortnox's answer to the refresh carried no new refresh token: {LOGIN_AGAIN}")
            try:
                self.store.save(new)
            except FortnoxAuthError as exc:
                raise FortnoxAuthError(f"{exc}; the old refresh token is spent, so {LOGIN_AGAIN} once the file "
                                       f"can be written") from None
            if self._seed is not None and refresh_token == self._seed:
                self._seed = None
            return new


def access_tokens(settings: FortnoxSettings, *, environ: Mapping[str, str] = os.environ,
                  session_factory: Callable[[], requests.Session] = requests.Session,
                  sleep: Callable[[float], None] = time.sleep,
                  now: Callable[[], float] = time.time) -> AccessTokens:
    """The provider the settings ask for: client credentials with ``tenant_id``, else the token file."""
    endpoint = token_endpoint(settings, credentials_from_env(environ), session=session_factory(), sleep=sleep,
                              now=now)
    if settings.tenant_id:
        return ServiceAccountTokens(endpoint, settings.tenant_id, now=now)
    seed = environ.get(REFRESH_TOKEN_ENV, "").strip() or None
    if seed is not None and not _printable_ascii(seed):
        raise ConfigError(f"the environment variable {REFRESH_TOKEN_ENV} holds characters no refresh token has")
    return RefreshingTokens(endpoint, TokenStore(settings.token_file), seed=seed, now=now)


def token_endpoint(settings: FortnoxSettings, credentials: Credentials, *, session: requests.Session | None = None,
                   sleep: Callable[[float], None] = time.sleep, now: Callable[[], float] = time.time) -> TokenEndpoint:
    return TokenEndpoint(
        settings.auth_url, credentials, session=session, timeout=(settings.connect_timeout, settings.read_timeout),
        retry=RetryPolicy(max_retries=settings.max_retries, max_wait=settings.max_wait, sleep=sleep,
                          service="Fortnox", unavailable=FortnoxUnavailableError),
        bounds=Bounds(request_deadline=settings.request_deadline, run_deadline=settings.run_deadline,
                      max_response_mb=settings.max_response_mb, section="fortnox",
                      limit_error=FortnoxUnavailableError, error=FortnoxError),
        now=now)
