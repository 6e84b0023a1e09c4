"""What one answer and one run may cost, whatever Amili (or whatever answers in its name) sends.

The read timeout is per recv: a server that trickles a byte a second never
trips it. A gzip body of one megabyte may inflate to a gigabyte. So every
answer is read in chunks (at most one recv and one chunk of decompression
each), and between chunks the clock is held against the attempt's deadline
(``[amili] request_deadline``, and the run's: ``[amili] run_deadline``) and
the bytes read against ``[amili] max_response_mb``, counted after
decompression. A client that is closing stops a read between chunks too.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import requests
import urllib3
from urllib3.exceptions import DecodeError, ProtocolError, ReadTimeoutError, SSLError

from ledger_export.core.errors import AmiliError

# One recv's worth; also the most one step of decompression may produce.
CHUNK = 64 * 1024
MB = 1024 * 1024


class LimitExceededError(AmiliError):
    """A list, an answer or the run went past a bound of [amili] (max_pages, max_response_mb, run_deadline)."""


class AttemptTooSlow(Exception):
    """An attempt passed its deadline before its answer was in; the client says what that means."""


@dataclass(frozen=True)
class Bounds:
    request_deadline: float = 300.0
    run_deadline: float = 3600.0
    max_response_mb: float = 100.0
    clock: Callable[[], float] = field(default=time.monotonic, repr=False)
    # The run is measured from here (the client's creation).
    started: float = field(default_factory=time.monotonic)

    @property
    def max_bytes(self) -> int:
        return int(self.max_response_mb * MB)

    @property
    def run_ends(self) -> float:
        return self.started + self.run_deadline

    def check_run(self, what: str, url: str) -> None:
        """Refuse to start ``what`` once the run is past ``[amili] run_deadline``."""
        if self.clock() >= self.run_ends:
            raise LimitExceededError(f"the run took longer than [amili] run_deadline ({self.run_deadline:g} s); "
                                     f"stopped before {what}", url=url)

    def attempt_ends(self) -> float:
        """When an attempt starting now must have its whole answer."""
        return min(self.clock() + self.request_deadline, self.run_ends)

    def run_is_over(self) -> bool:
        return self.clock() >= self.run_ends

    def read_timeout(self, configured: float, ends: float) -> float:
        """The per-recv timeout for an attempt: no single wait may outlast its deadline."""
        return max(0.001, min(configured, ends - self.clock()))

    def too_large(self, url: str, size: str) -> LimitExceededError:
        return LimitExceededError(f"the answer from {url} ({size}) is larger than [amili] max_response_mb "
                                  f"({self.max_response_mb:g} MB) allows", url=url)

    def read_body(self, response: requests.Response, ends: float, url: str,
                  stopping: threading.Event | None = None) -> bytes:
        """The whole (decompressed) body of ``response``, read within ``ends`` and ``max_response_mb``.

        Raises AttemptTooSlow past ``ends``, LimitExceededError past the size,
        AmiliError when ``stopping`` is set, and requests' own exceptions for
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
                    raise AmiliError(f"reading the answer from {url} was abandoned: the run is stopping", url=url)
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
