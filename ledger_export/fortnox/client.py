"""The one way ledger-export talks to Fortnox's REST API: paced, bounded, retried only where harmless.

- Pacing: at most ``rate_limit`` requests per ``rate_window`` seconds
  (Fortnox: 25 per 5 s per token), kept by waiting (pacing.py); a 429 all
  the same is honoured (Retry-After, else one window) and the request sent
  again: a 429 means Fortnox's gate refused it unread, so even a POST was not made.
- GETs are retried on 5xx and dropped connections. A POST or PUT whose
  answer was lost (dropped connection, deadline, 5xx) is never sent again:
  FortnoxOutcomeUnknownError says so, and the caller looks in Fortnox for
  what it may have made before trying again.
- 401: the access token is renewed once (auth.py) and the request sent again.
- Errors show Fortnox's ErrorInformation (code and message) and the request,
  never the token (it travels in a header; any echo of it is cut out).
- Every answer is bounded like Amili's (core/http.py): a per-attempt
  ``request_deadline``, a ``run_deadline`` and ``max_response_mb``.

One request at a time: Fortnox's limit leaves nothing to gain from more.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import quote

import requests
import simplejson

from ledger_export.core.errors import (FortnoxAnswerUnreadableError, FortnoxAuthError, FortnoxError,
                                       FortnoxNotFoundError, FortnoxOutcomeUnknownError, FortnoxRejectedError,
                                       FortnoxUnavailableError)
from ledger_export.core.http import (TRANSIENT, AttemptTooSlow, Bounds, NestedTooDeep, RetryPolicy, clip,
                                     decode_json, readable, retry_after_seconds)
from ledger_export.fortnox.auth import AccessTokens, redact
from ledger_export.fortnox.pacing import SlidingWindow
from ledger_export.fortnox.settings import FortnoxSettings

log = logging.getLogger("ledger_export.fortnox")

API_VERSION = "3"
# Not now, rather than never: a GET may succeed later. 429 is handled apart (pacing).
RETRY_STATUSES = frozenset({500, 502, 503, 504})


def segment(value: str | int) -> str:
    """One path segment (a series code, a file id), escaped so it cannot step into another path."""
    return quote(str(value), safe="")


def error_information(content: bytes) -> tuple[int | None, str]:
    """Fortnox's ``ErrorInformation`` code and message from an error body, as far as it has them.

    Fortnox writes the keys in lower case (``error``, ``message``, ``code``)
    on most endpoints and capitalised on some; both are read.
    """
    try:
        body = decode_json(content)
    except ValueError:
        return None, ""
    if not isinstance(body, dict):
        return None, ""
    info = next((v for k, v in body.items() if str(k).lower() == "errorinformation"), None)
    if not isinstance(info, dict):
        # The OAuth-style body some gateways answer with.
        message = body.get("message") or body.get("error_description") or body.get("error")
        return None, " ".join(str(message).split()) if isinstance(message, (str, int)) else ""
    fields = {str(k).lower(): v for k, v in info.items()}
    code = fields.get("code")
    if isinstance(code, str) and code.isascii() and code.isdigit():
        code = int(code)
    message = fields.get("message")
    return (code if isinstance(code, int) and not isinstance(code, bool) else None,
            " ".join(str(message).split()) if isinstance(message, (str, int)) else "")


class FortnoxClient:
    def __init__(self, base_url: str, tokens: AccessTokens, *, connect_timeout: float = 10,
                 read_timeout: float = 60, max_retries: int = 5, max_wait: float = 120,
                 request_deadline: float = 300, run_deadline: float = 3600, max_response_mb: float = 100,
                 rate_limit: int = 25, rate_window: float = 5.0,
                 session: requests.Session | None = None, sleep: Callable[[float], None] = time.sleep,
                 clock: Callable[[], float] = time.monotonic, rng: random.Random | None = None):
        self.base_url = base_url.rstrip("/")
        self.tokens = tokens
        self.timeout = (connect_timeout, read_timeout)
        self.bounds = Bounds(request_deadline=request_deadline, run_deadline=run_deadline,
                             max_response_mb=max_response_mb, clock=clock, started=clock(), section="fortnox",
                             limit_error=FortnoxUnavailableError, error=FortnoxError)
        self._retry = RetryPolicy(max_retries=max_retries, max_wait=max_wait, sleep=sleep,
                                  rng=rng if rng is not None else random.Random(), service="Fortnox",
                                  unavailable=FortnoxUnavailableError)
        self.pacing = SlidingWindow(rate_limit, rate_window, clock=clock, sleep=sleep)
        self._session = session if session is not None else requests.Session()
        self._lock = threading.Lock()
        self.requests_made = 0

    @classmethod
    def from_settings(cls, settings: FortnoxSettings, tokens: AccessTokens, **overrides: Any) -> FortnoxClient:
        options: dict[str, Any] = dict(
            connect_timeout=settings.connect_timeout, read_timeout=settings.read_timeout,
            max_retries=settings.max_retries, max_wait=settings.max_wait,
            request_deadline=settings.request_deadline, run_deadline=settings.run_deadline,
            max_response_mb=settings.max_response_mb, rate_limit=settings.rate_limit,
            rate_window=settings.rate_window)
        options.update(overrides)
        return cls(settings.base_url, tokens, **options)

    def __repr__(self) -> str:
        return f"FortnoxClient(base_url={self.base_url!r}, tokens={self.tokens!r})"

    def __enter__(self) -> FortnoxClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._session.close()
        self.tokens.close()

    def url(self, path: str) -> str:
        """``/3/<path>`` under the base URL; ``path`` is e.g. ``vouchers/sublist/A``."""
        return f"{self.base_url}/{API_VERSION}/{path.lstrip('/')}"

    # -- the calls -------------------------------------------------------------------------

    def get(self, path: str, params: Mapping[str, Any] | None = None) -> dict[str, Any]:
        return self._request("GET", path, params=params)

    def post(self, path: str, body: Mapping[str, Any] | None = None,
             params: Mapping[str, Any] | None = None) -> dict[str, Any]:
        return self._request("POST", path, params=params, body=body)

    def put(self, path: str, body: Mapping[str, Any] | None = None,
            params: Mapping[str, Any] | None = None) -> dict[str, Any]:
        return self._request("PUT", path, params=params, body=body)

    def upload(self, path: str, name: str, data: bytes, params: Mapping[str, Any] | None = None,
               content_type: str = "application/pdf") -> dict[str, Any]:
        """POST ``data`` as a multipart file named ``name`` (Fortnox's archive and inbox)."""
        return self._request("POST", path, params=params, files={"Filedata": (name, data, content_type)})

    # -- machinery ---------------------------------------------------------------------------

    def _request(self, method: str, path: str, *, params: Mapping[str, Any] | None = None,
                 body: Mapping[str, Any] | None = None,
                 files: Mapping[str, tuple[str, bytes, str]] | None = None) -> dict[str, Any]:
        url = self.url(path)
        what = clip(f"{method} {readable(url, params)}", 300)
        readonly = method == "GET"
        data = simplejson.dumps(body, use_decimal=True).encode("utf-8") if body is not None else None
        budget = self._retry.budget(what)
        refreshed = False
        with self._lock:
            while True:
                self.bounds.check_run(what, url)
                token = self.tokens.token()
                headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
                if data is not None:
                    headers["Content-Type"] = "application/json"
                self.pacing.wait_for_turn()
                try:
                    response, content = self._send(method, url, what, budget.attempt, params=params, data=data,
                                                   files=files, headers=headers)
                except AttemptTooSlow:
                    problem = self.bounds.too_slow()
                    if not readonly:
                        raise FortnoxOutcomeUnknownError(
                            f"{what} got no whole answer before {problem}: Fortnox may or may not have made "
                            f"it; look in Fortnox before sending it again", url=url) from None
                    self.bounds.check_run(what, url)
                    budget.wait(f"no whole answer within {problem}", url=url)
                    continue
                except TRANSIENT as exc:
                    if not readonly:
                        raise FortnoxOutcomeUnknownError(
                            f"{what} failed in transit ({type(exc).__name__}): Fortnox may or may not have "
                            f"made it; look in Fortnox before sending it again", url=url) from None
                    budget.wait(f"the connection failed ({type(exc).__name__})", url=url)
                    continue
                status = response.status_code
                if status == 401 and not refreshed:
                    refreshed = True
                    if self.tokens.refresh(stale=token):
                        continue
                if status == 429:
                    # Fortnox's gate refused it unread; another program on this token used the window.
                    wait = retry_after_seconds(response.headers)
                    budget.wait("Fortnox is rate limiting (429)", retry_after=self.pacing.window if wait is None
                                else wait, status=status, url=url)
                    continue
                if status in RETRY_STATUSES:
                    if not readonly:
                        raise FortnoxOutcomeUnknownError(
                            f"Fortnox answered {status} to {what}: it may or may not have been made; look in "
                            f"Fortnox before sending it again{self._said(content, token)}", url=url, status=status)
                    budget.wait(f"Fortnox answered {status}", retry_after=retry_after_seconds(response.headers),
                                status=status, url=url)
                    continue
                if not 200 <= status < 300:
                    raise self._refusal(what, url, status, content, token)
                return self._decoded(what, url, status, content, readonly)

    def _send(self, method: str, url: str, what: str, attempt: int, **kwargs: Any) -> tuple[requests.Response, bytes]:
        """One attempt: the answer and its whole body, read by the attempt's deadline (AttemptTooSlow after)."""
        self.requests_made += 1
        started = time.monotonic()
        ends = self.bounds.attempt_ends()
        timeout = (self.timeout[0], self.bounds.read_timeout(self.timeout[1], ends))
        try:
            response = self._session.request(method, url, timeout=timeout, allow_redirects=False, stream=True,
                                             **kwargs)
            try:
                body = self.bounds.read_body(response, ends, url)
            finally:
                response.close()
        except (*TRANSIENT, AttemptTooSlow) as exc:
            log.debug("%s -> %s after %d ms (attempt %d)", what, type(exc).__name__,
                      (time.monotonic() - started) * 1000, attempt)
            raise
        finally:
            self.pacing.finished()
        log.debug("%s -> %d in %d ms (attempt %d)", what, response.status_code,
                  (time.monotonic() - started) * 1000, attempt)
        return response, body

    def _said(self, content: bytes, token: str) -> str:
        code, message = error_information(content)
        said = " ".join(p for p in (f"code {code}" if code is not None else "", message) if p)
        return f" ({clip(redact(said, [token]), 300)})" if said else ""

    def _refusal(self, what: str, url: str, status: int, content: bytes, token: str) -> FortnoxError:
        code, message = error_information(content)
        message = clip(redact(message, [token]), 300)
        said = f"Fortnox error {code}: {message}" if code is not None else message
        said = f": {said}" if said else ""
        if status == 401:
            return FortnoxAuthError(f"Fortnox refused the access token (401) for {what}{said}: "
                                    f"run `ledger-export fortnox login` again", url=url, status=status, code=code)
        if status == 403:
            return FortnoxAuthError(f"Fortnox refused {what} (403){said}: the app may lack a scope or the "
                                    f"company a licence for it", url=url, status=status, code=code)
        if status == 404:
            return FortnoxNotFoundError(f"Fortnox has no such resource (404) for {what}{said}", url=url,
                                        status=status, code=code)
        if 300 <= status < 400:
            return FortnoxError(f"Fortnox redirected {what} ({status}): check [fortnox] base_url", url=url,
                                status=status)
        if 400 <= status < 500:
            return FortnoxRejectedError(f"Fortnox refused {what} ({status}){said}", url=url, status=status,
                                        code=code)
        return FortnoxUnavailableError(f"Fortnox answered {status} to {what}{said}", url=url, status=status,
                                       code=code)

    def _decoded(self, what: str, url: str, status: int, content: bytes, readonly: bool) -> dict[str, Any]:
        if not content.strip() and status == 204:
            return {}
        try:
            body = decode_json(content)
        except (NestedTooDeep, ValueError) as exc:
            problem = f"its answer ({status}) is not JSON ({clip(str(exc), 80)})"
            if readonly:
                raise FortnoxError(f"{what}: {problem}", url=url, status=status) from None
            raise FortnoxAnswerUnreadableError(f"{what}: Fortnox accepted it ({status}), but {problem}",
                                               url=url, status=status) from None
        if not isinstance(body, dict):
            kind = FortnoxError if readonly else FortnoxAnswerUnreadableError
            raise kind(f"{what}: the answer ({status}) is a JSON {type(body).__name__}, not an object",
                       url=url, status=status)
        return body
