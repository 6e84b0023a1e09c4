"""Fault injection: the failures a client of a real API meets, on demand and countable.

A WSGI middleware around the Eve app. Only API requests count (resources
and media, not the login), numbered from 1; every Nth one gets the fault.
Refusals (429, 5xx) happen before the app sees the request, as a gateway
would refuse it; damaged answers (dropped, truncated, garbage, trickled,
a gzip bomb) happen after the app handled it, as a network or a broken
proxy would damage it, so a dropped POST is stored. ``false_total`` makes
every list answer lie about its length, as a buggy count would.
"""

from __future__ import annotations

import gzip
import json
import socket
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, fields
from http import HTTPStatus
from typing import NamedTuple
from wsgiref.types import StartResponse, WSGIApplication, WSGIEnvironment

import simplejson

NESTED = b"[" * 100_000 + b"]" * 100_000
GARBAGE = b"<html><head><title>Amili</title></head><body>Service temporarily unavailable</body></html>\n"


@dataclass(frozen=True)
class Faults:
    latency: float = 0.0  # seconds added to every API request
    rate_limit_every: int = 0  # every Nth -> 429 with Retry-After
    retry_after: int = 1
    server_error_every: int = 0  # every Nth -> server_error_status
    server_error_status: int = 503
    drop_every: int = 0  # every Nth: connection closed, no response at all
    truncate_every: int = 0  # every Nth: Content-Length promises more than is sent
    garbage_every: int = 0  # every Nth: 200 with a body that is not JSON
    trickle_every: int = 0  # every Nth: the answer's body comes one byte per trickle_delay seconds
    trickle_delay: float = 1.0
    bomb_every: int = 0  # every Nth: 200 with a gzip body of a kilobyte per megabyte it inflates to
    bomb_mb: int = 1024  # ... which is this many megabytes
    nested_every: int = 0  # every Nth: 200 with JSON nested 100,000 levels deep
    false_total: int = 0  # when set: every list answer's _meta.total says this many items

    def __post_init__(self) -> None:
        for f in fields(self):
            if getattr(self, f.name) < 0:
                raise ValueError(f"fault setting {f.name} must be 0 or more")
        if not 500 <= self.server_error_status <= 599:
            raise ValueError(f"server_error_status must be a 5xx status, got {self.server_error_status}")

    def pick(self, n: int) -> str | None:
        """The fault for API request number ``n``; the most damaging wins when several fall due."""
        for kind in ("drop", "truncate", "bomb", "garbage", "nested", "trickle", "rate_limit", "server_error"):
            every = getattr(self, f"{kind}_every")
            if every and n % every == 0:
                return kind
        return None


class Served(NamedTuple):
    method: str
    path: str
    query_string: str
    status: int | None  # None: the connection was dropped without an answer


def _error_body(code: int, message: str) -> bytes:
    return json.dumps({"_status": "ERR", "_error": {"code": code, "message": message}}).encode()


def _close_socket(environ: WSGIEnvironment) -> None:
    sock = environ.get("werkzeug.socket")
    if sock is None:  # pragma: no cover - the sandbox always runs on werkzeug
        raise RuntimeError("dropping a connection needs werkzeug's dev server (environ['werkzeug.socket'])")
    try:
        # shutdown sends what is already buffered, then FIN: the client sees
        # the connection end, never a half-written answer from us.
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass


def _refusal(kind: str | None, faults: Faults) -> tuple[str, list[tuple[str, str]], bytes] | None:
    """The gateway's answer for a refused request, or None to let the app handle it."""
    if kind == "rate_limit":
        headers = [("Content-Type", "application/json"), ("Retry-After", str(faults.retry_after))]
        return "429 Too Many Requests", headers, _error_body(429, "Too many requests")
    if kind == "server_error":
        code = faults.server_error_status
        phrase = HTTPStatus(code).phrase
        return f"{code} {phrase}", [("Content-Type", "application/json")], _error_body(code, phrase)
    return None


def _with_false_total(body: bytes, total: int) -> bytes:
    """An Eve list answer whose _meta.total says ``total``; any other answer as it was."""
    try:
        answer = simplejson.loads(body, use_decimal=True)  # amounts keep their digits
    except ValueError:
        return body
    if not isinstance(answer, dict) or not isinstance(answer.get("_meta"), dict):
        return body
    answer["_meta"]["total"] = total
    return simplejson.dumps(answer, use_decimal=True).encode()


_MEGABYTE_OF_SPACES = gzip.compress(b" " * 1024 * 1024, compresslevel=9)


def _bomb(megabytes: int) -> list[bytes]:
    """A gzip body inflating to ``megabytes`` MB: one small member, repeated (gzip allows many)."""
    return [_MEGABYTE_OF_SPACES] * megabytes


def _trickle(body: bytes, delay: float) -> Iterable[bytes]:
    for i in range(len(body)):
        time.sleep(delay)
        yield body[i:i + 1]


class _CloseAfter:
    """A response body that closes the connection once the server has sent it."""

    def __init__(self, chunks: list[bytes], environ: WSGIEnvironment):
        self.chunks, self.environ = chunks, environ

    def __iter__(self) -> Iterator[bytes]:
        return iter(self.chunks)

    def close(self) -> None:
        _close_socket(self.environ)


def _no_write(data: bytes) -> None:
    raise RuntimeError("the sandbox's app answers with its body, never with write()")


class FaultInjector:
    """WSGI middleware: counts API requests, injects faults, records every request served."""

    def __init__(self, app: WSGIApplication, faults: Faults, *, is_api: Callable[[str], bool]):
        self.app = app
        self.is_api = is_api
        self.served: list[Served] = []
        self.callbacks: list[Callable[[int, str, str], None]] = []
        # Serialises the app and the callbacks: mongomock is not thread-safe,
        # and a callback that edits the data must finish before the next request.
        self.lock = threading.RLock()
        self._faults = faults
        self._count = 0

    @property
    def faults(self) -> Faults:
        return self._faults

    def set_faults(self, faults: Faults, *, reset_count: bool = True) -> None:
        with self.lock:
            self._faults = faults
            if reset_count:
                self._count = 0

    @property
    def count(self) -> int:
        return self._count

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        method, path = environ["REQUEST_METHOD"], environ.get("PATH_INFO", "")
        api = self.is_api(path)
        with self.lock:
            if api:
                self._count += 1
            n, faults = self._count, self._faults
        kind = faults.pick(n) if api else None
        if api and faults.latency:
            time.sleep(faults.latency)

        status, headers, body = _refusal(kind, faults) or self._call_app(environ)
        with self.lock:
            code = None if kind == "drop" else int(status.split()[0])
            self.served.append(Served(method, path, environ.get("QUERY_STRING", ""), code))
            if api:
                for callback in list(self.callbacks):
                    callback(n, method, path)

        # The body is buffered, so its length is re-stated (and a truncation can lie about it).
        headers = [h for h in headers if h[0].lower() != "content-length"]
        if faults.false_total and api and status.startswith("200"):
            body = _with_false_total(body, faults.false_total)
        if kind == "drop":
            _close_socket(environ)
            # The server's attempt to send this meets the closed socket and
            # is dropped quietly; without a status it would log a traceback.
            start_response("500 Internal Server Error", [("Content-Length", "0")])
            return []
        if kind in ("garbage", "nested"):
            damaged = GARBAGE if kind == "garbage" else NESTED
            start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(damaged)))])
            return [damaged]
        if kind == "truncate":
            start_response(status, headers + [("Content-Length", str(len(body) + 1024))])
            return _CloseAfter([body[: len(body) // 2]], environ)
        if kind == "bomb":
            bomb = _bomb(faults.bomb_mb)
            start_response("200 OK", [("Content-Type", "application/json"), ("Content-Encoding", "gzip"),
                                      ("Content-Length", str(sum(map(len, bomb))))])
            return bomb
        if kind == "trickle":
            start_response(status, headers + [("Content-Length", str(len(body)))])
            return _trickle(body, faults.trickle_delay)
        start_response(status, headers + [("Content-Length", str(len(body)))])
        return [body]

    def _call_app(self, environ: WSGIEnvironment) -> tuple[str, list[tuple[str, str]], bytes]:
        captured: dict[str, str] = {}
        captured_headers: list[tuple[str, str]] = []

        def start_response(status: str, headers: list[tuple[str, str]],
                           exc_info: object = None) -> Callable[[bytes], object]:
            captured["status"] = status
            captured_headers[:] = headers
            return _no_write

        with self.lock:
            result = self.app(environ, start_response)
            try:
                body = b"".join(result)
            finally:
                if hasattr(result, "close"):
                    result.close()
        return captured["status"], captured_headers, body
