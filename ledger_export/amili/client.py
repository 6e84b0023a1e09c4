"""The one way ledger-export talks HTTP to Amili: token header, retries, errors, a pool of workers.

Only GETs are retried: they read, so repeating one is harmless. A POST
registers something, so one whose answer got lost is reported, never resent.
Reading whole lists (paging, and lists that change while they are read) is
lists.py's; the client lends it checked pages and its pool.

Every answer is bounded (bounds.py): an attempt that has not its whole
answer within ``[amili] request_deadline`` failed in transit, no answer may
exceed ``[amili] max_response_mb``, and no request starts after
``[amili] run_deadline``. Closing the client never waits for a request in
flight (workers.py): Ctrl-C ends the run at once.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, TypeVar
from urllib.parse import urljoin, urlsplit

import requests
import simplejson

from ledger_export.amili.settings import AmiliSettings
from ledger_export.core.errors import (AmiliError, AnswerUnreadableError, AuthenticationError, OutcomeUnknownError, ResponseFormatError,
                      ServiceUnavailableError)
from ledger_export.core.progress import Progress
from ledger_export.amili import paging
from ledger_export.amili.answers import TRANSIENT, NestedTooDeep, clip, decode_json, json_object, post_failed, readable, refusal
from ledger_export.amili.auth import TokenProvider
from ledger_export.amili.bounds import AttemptTooSlow, Bounds
from ledger_export.amili.lists import ListQuery, ListReader, eve_query
from ledger_export.amili.retry import RETRY_STATUSES, RetryPolicy, retry_after_seconds
from ledger_export.amili.workers import Workers, run_all, stopping

log = logging.getLogger("ledger_export.amili")

MAX_REDIRECTS = 5

T = TypeVar("T")
R = TypeVar("R")


def _origin(url: str) -> tuple[str, str]:
    parts = urlsplit(url)
    return parts.scheme.lower(), parts.netloc.lower()


class AmiliClient:
    def __init__(self, base_url: str, tokens: TokenProvider, *, connect_timeout: float = 10,
                 read_timeout: float = 60, max_retries: int = 5, max_wait: float = 120,
                 concurrency: int = 4, page_size: int = 100, max_pages: int = 10_000,
                 request_deadline: float = 300, run_deadline: float = 3600, max_response_mb: float = 100,
                 session_factory: Callable[[], requests.Session] = requests.Session,
                 sleep: Callable[[float], None] = time.sleep, rng: random.Random | None = None,
                 progress: Progress | None = None, clock: Callable[[], float] = time.monotonic):
        if concurrency < 1 or page_size < 1 or max_pages < 1:
            raise ValueError("concurrency, page_size and max_pages must be at least 1")
        self.base_url = base_url.rstrip("/")
        self.tokens = tokens
        self.timeout = (connect_timeout, read_timeout)
        self.concurrency = concurrency
        self.page_size = page_size
        self.progress = progress
        self.bounds = Bounds(request_deadline=request_deadline, run_deadline=run_deadline,
                             max_response_mb=max_response_mb, clock=clock, started=clock())
        self._retry = RetryPolicy(max_retries=max_retries, max_wait=max_wait, sleep=sleep,
                                  rng=rng if rng is not None else random.Random())
        self._sleep = sleep
        self._session_factory = session_factory
        # requests.Session is not documented thread-safe: each thread gets its own.
        self._local = threading.local()
        self._sessions: list[requests.Session] = []
        self._workers: Workers | None = None
        self._lock = threading.Lock()
        self._requests = 0
        # Repeated texts of the items read by this client share one str each (paging.share_texts).
        self._texts: dict[str, str] = {}
        self._lists = ListReader(page=self._page, map=self.map, page_size=page_size, max_pages=max_pages,
                                 pause=self._pause_before_reading_again, url=self.url)

    @classmethod
    def from_settings(cls, settings: AmiliSettings, tokens: TokenProvider,
                      progress: Progress | None = None, **overrides: Any) -> AmiliClient:
        options: dict[str, Any] = dict(connect_timeout=settings.connect_timeout, read_timeout=settings.read_timeout,
                       max_retries=settings.max_retries, max_wait=settings.max_wait,
                       concurrency=settings.concurrency, page_size=settings.page_size,
                       max_pages=settings.max_pages, request_deadline=settings.request_deadline,
                       run_deadline=settings.run_deadline, max_response_mb=settings.max_response_mb)
        options.update(overrides)
        return cls(settings.base_url, tokens, progress=progress, **options)

    def __repr__(self) -> str:
        return f"AmiliClient(base_url={self.base_url!r}, tokens={self.tokens!r})"

    def __enter__(self) -> AmiliClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Release the sessions and the workers. Never waits: a request still in flight
        (only when a failure or Ctrl-C left its round early) is abandoned."""
        with self._lock:
            workers, self._workers = self._workers, None
            sessions, self._sessions = self._sessions, []
        if workers is not None:
            workers.close()
        for session in sessions:
            session.close()
        closer = getattr(self.tokens, "close", None)
        if closer is not None:
            closer()

    @property
    def requests_made(self) -> int:
        """Every HTTP request so far: pages, retries, redirects and the provider's token calls."""
        return self._requests + getattr(self.tokens, "requests_made", 0)

    def url(self, path: str) -> str:
        return f"{self.base_url}/{path.lstrip('/')}"

    # -- the public calls -------------------------------------------------------------

    def get_json(self, path: str, params: Mapping[str, Any] | None = None) -> dict[str, Any]:
        url = self.url(path)
        body, _ = self._request("GET", url, params=params)
        return json_object(body, f"GET {readable(url, params)}", url)

    def post_json(self, path: str, body: Mapping[str, Any]) -> dict[str, Any]:
        url = self.url(path)
        data = simplejson.dumps(body, use_decimal=True).encode("utf-8")
        answer, _ = self._request("POST", url, data=data)
        return json_object(answer, f"POST {url}", url)

    def download(self, url: str) -> bytes:
        """The bytes at ``url`` (e.g. a self-invoice PDF), following redirects.

        The token goes only to Amili's own origin: a redirect to a file store
        elsewhere gets the request without it.
        """
        _, content = self._request("GET", url, follow_redirects=True, want_json=False)
        return content

    def list_items(self, resource: str, where: Mapping[str, Any], *, sort: str = "_created,_id",
                   projection: Mapping[str, Any] | None = None) -> list[dict[str, Any]]:
        """Every item of an Eve list, in the server's sort order, each exactly once."""
        return self._lists.read(resource, eve_query(where, sort, projection))

    def list_many(self, queries: Sequence[ListQuery], *, sort: str = "_created,_id",
                  alongside: Sequence[Callable[[], R]] = ()) -> tuple[list[list[dict[str, Any]]], list[R]]:
        """Several Eve lists in one concurrent round, each read as list_items reads it (see lists.py).

        ``alongside``: other calls sharing the round (downloads; one that raises
        stops it). Returns the lists' items and the calls' results, in the order given.
        """
        return self._lists.read_many(queries, sort, alongside)

    def map(self, fn: Callable[[T], R], args: Iterable[T]) -> list[R]:
        """``[fn(a) for a in args]`` on the worker threads, at most ``concurrency`` at once, in order.

        For work that waits on Amili, so the limit holds whoever asks. The first call (in
        that order) that raises makes this raise; calls not yet started are dropped.
        ``args`` is read lazily, one as each call may start. ``fn`` must not call ``map``
        (its worker would wait for the pool it occupies).
        """
        return run_all(self._pool, self.concurrency, fn, args)

    def _pool(self) -> Workers:
        with self._lock:
            if self._workers is None:
                self._workers = Workers(self.concurrency, "amili-worker")
            return self._workers

    # -- machinery ----------------------------------------------------------------------

    def _page(self, resource: str, query: Mapping[str, Any], number: int, per_page: int) -> paging.Page:
        url = self.url(resource)
        # page and max_results first, so they survive when a long where is clipped.
        params = {"page": number, "max_results": per_page, **query}
        body, _ = self._request("GET", url, params=params)
        page = paging.read_page(body, resource, number, clip(readable(url, params), 300), texts=self._texts)
        if self.progress is not None:
            self.progress.add("pages fetched")
        return page

    def _pause_before_reading_again(self, attempt: int) -> None:
        self._sleep(self._retry.base_delay * 2 ** (attempt - 1))

    def _session(self) -> requests.Session:
        session = getattr(self._local, "session", None)
        if session is None:
            session = self._local.session = self._session_factory()
            with self._lock:
                self._sessions.append(session)
        return session

    def _send(self, method: str, url: str, what: str, attempt: int, ends: float,
              **kwargs: Any) -> tuple[requests.Response, bytes]:
        """One attempt: the answer and its whole body, read by ``ends`` (AttemptTooSlow after)."""
        with self._lock:
            self._requests += 1
        started = time.monotonic()
        timeout = (self.timeout[0], self.bounds.read_timeout(self.timeout[1], ends))
        try:
            response = self._session().request(method, url, timeout=timeout, allow_redirects=False,
                                               stream=True, **kwargs)
            try:
                body = self.bounds.read_body(response, ends, url, stopping())
            finally:
                # A body left unread takes its connection with it; a whole one was already released.
                response.close()
        except (*TRANSIENT, AttemptTooSlow) as exc:
            log.debug("%s -> %s after %d ms (attempt %d)", what, type(exc).__name__,
                      (time.monotonic() - started) * 1000, attempt)
            raise
        log.debug("%s -> %d in %d ms (attempt %d)", what, response.status_code,
                  (time.monotonic() - started) * 1000, attempt)
        return response, body

    def _request(self, method: str, url: str, *, params: Mapping[str, Any] | None = None,
                 data: bytes | None = None, follow_redirects: bool = False,
                 want_json: bool = True) -> tuple[Any, bytes]:
        """One logical request: (decoded body or None, raw body) of its 2xx answer, or an AmiliError."""
        what = f"{method} {readable(url, params)}"
        short = clip(what, 300)
        retryable = method == "GET"
        budget = self._retry.budget(short)
        refreshed = False
        redirects = attempts = 0
        while True:
            attempts += 1
            self.bounds.check_run(short, url)
            token = self.tokens.token() if _origin(url) == _origin(self.base_url) else None
            headers = {"Accept": "application/json" if want_json else "*/*"}
            if token is not None:
                headers["X-API-Key"] = token
            if data is not None:
                headers["Content-Type"] = "application/json"
            try:
                response, content = self._send(method, url, clip(what, 1000), attempts, self.bounds.attempt_ends(),
                                               params=params, data=data, headers=headers)
            except AttemptTooSlow:
                problem = self._too_slow()
                if not retryable:
                    raise OutcomeUnknownError(f"{short} got no whole answer before {problem}: Amili may or may "
                                              f"not have registered it; check before sending it again",
                                              url=url) from None
                if self.bounds.run_is_over():
                    self.bounds.check_run(short, url)
                budget.wait(f"no whole answer within {problem}", url=url)
                continue
            except TRANSIENT as exc:
                if not retryable:
                    raise OutcomeUnknownError(
                        f"{short} failed in transit ({type(exc).__name__}): Amili may or may not "
                        f"have registered it; check before sending it again", url=url) from exc
                budget.wait(f"the connection failed ({type(exc).__name__})", url=url)
                continue
            status = response.status_code
            if status == 401 and token is not None and not refreshed:
                refreshed = True
                if self.tokens.refresh(stale=token):
                    continue
            if status in (401, 403):
                raise AuthenticationError(f"Amili refused the access token ({status}) for {short}",
                                          url=url, status=status)
            if status in RETRY_STATUSES:
                if not retryable:
                    raise post_failed(short, url, status)
                budget.wait(f"Amili answered {status}", retry_after=retry_after_seconds(response.headers),
                            status=status, url=url)
                continue
            if 300 <= status < 400 and follow_redirects and "Location" in response.headers:
                redirects += 1
                if redirects > MAX_REDIRECTS:
                    raise AmiliError(f"{short} redirected more than {MAX_REDIRECTS} times", url=url, status=status)
                url, params = urljoin(response.url or url, response.headers["Location"]), None
                what = short = f"{method} {url}"
                continue
            if not 200 <= status < 300:
                raise refusal(short, url, response, content)
            if not want_json:
                return None, content
            try:
                return decode_json(content), content
            except NestedTooDeep as exc:
                raise ResponseFormatError(f"{short}: the answer ({status}) is {exc}", url=url, status=status) from None
            except ValueError as exc:
                problem = f"the answer ({status}) is not JSON ({clip(str(exc), 80)})"
                content_type = response.headers.get("Content-Type", "")
                # A JSON answer that does not parse was most likely cut short:
                # read it again. An HTML page will not turn into JSON by retrying.
                if retryable and (not content_type or "json" in content_type.lower()):
                    log.debug("%s: %s; reading it again", clip(what, 1000), problem)
                    try:
                        budget.wait(problem, status=status, url=url)
                    except ServiceUnavailableError:
                        raise ResponseFormatError(f"{short}: {problem}, also after "
                                                  f"{budget.retries} retries", url=url, status=status) from None
                    continue
                if not retryable:
                    # Amili took the request (2xx) and stored it; only its answer is unreadable.
                    raise AnswerUnreadableError(f"{short}: Amili accepted it ({status}), but its answer is "
                                                f"not JSON ({clip(str(exc), 80)})",
                                                url=url, status=status) from None
                raise ResponseFormatError(f"{short}: {problem}; Content-Type {content_type or 'missing'}",
                                          url=url, status=status) from None

    def _too_slow(self) -> str:
        """Which deadline an attempt that ran out of time met, as the user sets it."""
        if self.bounds.run_is_over():
            return f"[amili] run_deadline ({self.bounds.run_deadline:g} s) ran out"
        return f"[amili] request_deadline ({self.bounds.request_deadline:g} s)"
