"""What any HTTP answer may cost and how often a request is tried: shared by the Amili and Fortnox clients.

Moved here from amili/ (answers.py, retry.py, bounds.py) when a second API
arrived; each client names its own service and errors (``service``,
``unavailable``, ``section``, ``limit_error``), so messages still say
"Amili" or "Fortnox" and the setting to change, ``[amili] run_deadline``
or ``[fortnox] run_deadline``.

Bounds: the read timeout is per recv, so a server that trickles a byte a
second never trips it, and a gzip body of one megabyte may inflate to a
gigabyte. So every answer is read in chunks (at most one recv and one chunk
of decompression each), and between chunks the clock is held against the
attempt's deadline (``request_deadline``, and the run's: ``run_deadline``)
and the bytes read against ``max_response_mb``, counted after decompression.

Retries: every request gets its own budget, at most ``max_retries`` retries
and at most ``max_wait`` seconds of sleeping in total, so a flaky API slows a
run down by a bounded amount instead of hanging it.
"""

from __future__ import annotations

import json
import random
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import timezone
from decimal import Decimal
from email.utils import parsedate_to_datetime
from functools import lru_cache
from typing import Any

import requests
import urllib3
from urllib3.exceptions import DecodeError, ProtocolError, ReadTimeoutError, SSLError

from ledger_export.core.errors import LedgerExportError

# Failures in transit: the connection dropped, timed out, or the body was cut short.
TRANSIENT = (requests.ConnectionError, requests.Timeout, requests.exceptions.ChunkedEncodingError,
             requests.exceptions.ContentDecodingError)

# One recv's worth; also the most one step of decompression may produce.
CHUNK = 64 * 1024
MB = 1024 * 1024

# An error class of the client's own family, called as error(message, url=..., status=...).
ErrorKind = Callable[..., LedgerExportError]


# -- JSON and messages ------------------------------------------------------------------

def _no_constants(name: str) -> Any:
    raise ValueError(f"{name} is not a number JSON allows")


# A period's lines repeat a few amounts ("0.0" VAT, the usual fees): one
# Decimal per distinct number text rather than one per field (Decimals are
# immutable; "-0.0" and "0.0" are different texts, so signs stay as sent).
_decimal = lru_cache(maxsize=8192)(Decimal)


class NestedTooDeep(ValueError):
    """JSON nested deeper than the parser's recursion allows: no API answer is, and reading
    it again will not help."""


# JSON that only just decodes would fail in whatever handles it next (writing
# the raw snapshot recurses as deep, from further down the stack): it is decoded
# with this many frames of the recursion limit held back.
_HEADROOM = 100


def _held_back(frames: int, content: bytes) -> Any:
    if frames:
        return _held_back(frames - 1, content)
    return json.loads(content, parse_float=_decimal, parse_constant=_no_constants)


def decode_json(content: bytes) -> Any:
    """JSON with every fraction as Decimal; NaN and Infinity are refused, not made floats."""
    try:
        return _held_back(_HEADROOM, content)
    except RecursionError:
        raise NestedTooDeep("JSON nested too deeply to read") from None


def readable(url: str, params: Mapping[str, Any] | None = None) -> str:
    """A URL as a person reads it: the query left unescaped (it holds no secrets)."""
    if not params:
        return url
    return url + "?" + "&".join(f"{k}={v}" for k, v in params.items())


def clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


# -- retries ----------------------------------------------------------------------------

@dataclass(frozen=True, kw_only=True)
class RetryPolicy:
    max_retries: int = 5
    max_wait: float = 120.0
    # Exponential back-off 0.5, 1, 2, 4 ... seconds (capped), each drawn from
    # the upper half of its step so concurrent workers do not retry in lockstep.
    base_delay: float = 0.5
    max_delay: float = 30.0
    sleep: Callable[[float], None] = field(default=time.sleep, repr=False)
    rng: random.Random = field(default_factory=random.Random, repr=False)
    # Who answers, as messages name it ("Amili asked to wait ..."), and the
    # error raised when the budget is spent.
    service: str
    unavailable: ErrorKind = field(repr=False)

    def budget(self, what: str) -> RetryBudget:
        return RetryBudget(self, what)


class RetryBudget:
    """The retries one request (``what``, e.g. "GET <url>") may still spend."""

    def __init__(self, policy: RetryPolicy, what: str):
        self.policy = policy
        self.what = what
        self.retries = 0
        self.waited = 0.0

    @property
    def attempt(self) -> int:
        return self.retries + 1

    def wait(self, problem: str, *, retry_after: float | None = None,
             status: int | None = None, url: str | None = None) -> None:
        """Sleep before the next attempt, or raise the policy's ``unavailable`` when the budget is spent."""
        p = self.policy
        if self.retries >= p.max_retries:
            raise p.unavailable(
                f"{self.what} failed after {self.attempt} attempt(s): {problem}", url=url, status=status)
        left = p.max_wait - self.waited
        if retry_after is not None:
            if retry_after > left:
                # Sleeping part of the way would only fail later; say so now.
                raise p.unavailable(
                    f"{self.what}: {problem}, and {p.service} asked to wait {retry_after:g} s before "
                    f"retrying, more than the {max(left, 0):g} s left of the {p.max_wait:g} s "
                    f"retry budget", url=url, status=status)
            delay = retry_after
        else:
            step = min(p.max_delay, p.base_delay * 2 ** self.retries)
            delay = min(step * (0.5 + p.rng.random() / 2), max(left, 0.0))
        self.retries += 1
        self.waited += delay
        if delay > 0:
            p.sleep(delay)


def _http_date(text: str) -> float:
    """Seconds since the epoch of an RFC 1123 date; ValueError for anything else."""
    if not text.isascii():
        # The email parser's int() would read "１３" (full-width) as 13.
        raise ValueError("not an HTTP date")
    try:
        moment = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        raise ValueError("not an HTTP date") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    try:
        return moment.timestamp()
    except (OverflowError, OSError):
        raise ValueError("not an HTTP date") from None


def retry_after_seconds(headers: Mapping[str, str], now: Callable[[], float] = time.time) -> float | None:
    """Seconds a ``Retry-After`` header asks for (delta-seconds or HTTP-date), or None.

    An HTTP-date is measured against the response's own ``Date`` header when
    there is one, so a skewed local clock does not stretch or skip the wait.
    """
    value = (headers.get("Retry-After") or "").strip()
    if not value:
        return None
    if value.isascii() and value.isdigit():  # isdigit() alone passes "²", which float() refuses
        return float(value)
    try:
        until = _http_date(value)
    except ValueError:
        return None
    try:
        reference = _http_date(headers.get("Date") or "")
    except ValueError:
        reference = now()
    return max(0.0, until - reference)


# -- bounds -----------------------------------------------------------------------------

class AttemptTooSlow(Exception):
    """An attempt passed its deadline before its answer was in; the client says what that means."""


@dataclass(frozen=True, kw_only=True)
class Bounds:
    request_deadline: float = 300.0
    run_deadline: float = 3600.0
    max_response_mb: float = 100.0
    clock: Callable[[], float] = field(default=time.monotonic, repr=False)
    # The run is measured from here (the client's creation).
    started: float = field(default_factory=time.monotonic)
    # The settings table the limits come from ("amili"), named in messages,
    # the error for a passed limit, and the client's error for an abandoned read.
    section: str
    limit_error: ErrorKind = field(repr=False)
    error: ErrorKind = field(repr=False)

    @property
    def max_bytes(self) -> int:
        return int(self.max_response_mb * MB)

    @property
    def run_ends(self) -> float:
        return self.started + self.run_deadline

    def check_run(self, what: str, url: str) -> None:
        """Refuse to start ``what`` once the run is past ``run_deadline``."""
        if self.clock() >= self.run_ends:
            raise self.limit_error(f"the run took longer than [{self.section}] run_deadline "
                                   f"({self.run_deadline:g} s); stopped before {what}", url=url)

    def attempt_ends(self) -> float:
        """When an attempt starting now must have its whole answer."""
        return min(self.clock() + self.request_deadline, self.run_ends)

    def run_is_over(self) -> bool:
        return self.clock() >= self.run_ends

    def read_timeout(self, configured: float, ends: float) -> float:
        """The per-recv timeout for an attempt: no single wait may outlast its deadline."""
        return max(0.001, min(configured, ends - self.clock()))

    def too_large(self, url: str, size: str) -> LedgerExportError:
        return self.limit_error(f"the answer from {url} ({size}) is larger than [{self.section}] "
                                f"max_response_mb ({self.max_response_mb:g} MB) allows", url=url)

    def too_slow(self) -> str:
        """Which deadline an attempt that ran out of time met, as the user sets it."""
        if self.run_is_over():
            return f"[{self.section}] run_deadline ({self.run_deadline:g} s) ran out"
        return f"[{self.section}] request_deadline ({self.request_deadline:g} s)"

    def read_body(self, response: requests.Response, ends: float, url: str,
                  stopping: threading.Event | None = None) -> bytes:
        """The whole (decompressed) body of ``response``, read within ``ends`` and ``max_response_mb``.

        Raises AttemptTooSlow past ``ends``, ``limit_error`` past the size,
        ``error`` when ``stopping`` is set, and requests' own exceptions for
        a connection that fails on the way (as ``response.content`` would).
        """
        limit = self.max_bytes
        declared = response.headers.get("Content-Length", "")
        if declared.isdigit() and int(declared) > limit:
            raise self.too_large(url, f"{int(declared):,} bytes by its Content-Length")
        raw = response.raw
        if not isinstance(raw, urllib3.BaseHTTPResponse):
            # A transport adapter that hands over the body already in memory.
            content = response.content
            if len(content) > limit:
                raise self.too_large(url, f"{len(content):,} bytes")
            return content
        chunks: list[bytes] = []
        size = 0
        try:
            while True:
                if self.clock() > ends:
                    raise AttemptTooSlow()
                if stopping is not None and stopping.is_set():
                    raise self.error(f"reading the answer from {url} was abandoned: the run is stopping", url=url)
                chunk = raw.read1(CHUNK, decode_content=True)
                if not chunk:
                    return b"".join(chunks)
                chunks.append(chunk)
                size += len(chunk)
                if size > limit:
                    raise self.too_large(url, f"more than {limit:,} bytes once decompressed")
        # The exceptions requests' iter_content turns these into, so callers see one family.
        except ProtocolError as exc:
            raise requests.exceptions.ChunkedEncodingError(exc) from exc
        except DecodeError as exc:
            raise requests.exceptions.ContentDecodingError(exc) from exc
        except ReadTimeoutError as exc:
            raise requests.exceptions.ReadTimeout(exc) from exc
        except SSLError as exc:
            raise requests.exceptions.SSLError(exc) from exc
