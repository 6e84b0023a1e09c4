"""Fault injection for the Fortnox sandbox: the failures a Fortnox client meets, on demand.

Each fault is a count of the next requests it hits, armed from Python
(``sandbox.faults.arm(...)``) or over HTTP (``POST /_sandbox/faults``):

- ``lose_answer``: per kind of write (voucher, file, connection, payment,
  bookkeep), the next N such writes are committed, then the connection is
  closed without an answer, as when the network drops after Fortnox saved.
- ``server_error``: per endpoint (the first path segment after /3/, e.g.
  "vouchers", "inbox"; "token" for the token endpoint; "*" for any), the
  next N requests get ``server_error_status`` before anything is done.
- ``rate_limit``: the next N API requests get 429, whatever the pace.
- ``retry_after``: seconds sent as Retry-After with every 429 (0: none,
  Fortnox documents none).

Token expiry and refresh-token revocation act at once (see server.py).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any

WRITES = ("voucher", "file", "connection", "payment", "bookkeep")


@dataclass
class FortnoxFaults:
    lose_answer: dict[str, int] = field(default_factory=dict)
    server_error: dict[str, int] = field(default_factory=dict)
    server_error_status: int = 503
    rate_limit: int = 0
    retry_after: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def arm(self, *, lose_answer: dict[str, int] | None = None, server_error: dict[str, int] | None = None,
            server_error_status: int | None = None, rate_limit: int | None = None,
            retry_after: int | None = None) -> None:
        for kind in lose_answer or {}:
            if kind not in WRITES:
                raise ValueError(f"lose_answer takes one of {', '.join(WRITES)}, got {kind!r}")
        if server_error_status is not None and not 500 <= server_error_status <= 599:
            raise ValueError(f"server_error_status must be a 5xx status, got {server_error_status}")
        with self._lock:
            self.lose_answer.update(lose_answer or {})
            self.server_error.update(server_error or {})
            if server_error_status is not None:
                self.server_error_status = server_error_status
            if rate_limit is not None:
                self.rate_limit = rate_limit
            if retry_after is not None:
                self.retry_after = retry_after

    def arm_from_json(self, body: Any) -> None:
        """The control endpoint's body: the same names as arm()'s keywords."""
        if not isinstance(body, dict):
            raise ValueError("the faults body must be a JSON object")
        allowed = {"lose_answer", "server_error", "server_error_status", "rate_limit", "retry_after"}
        unknown = set(body) - allowed - {"expire_access_tokens", "revoke_refresh_tokens"}
        if unknown:
            raise ValueError(f"unknown fault(s): {', '.join(sorted(unknown))}")
        self.arm(**{k: v for k, v in body.items() if k in allowed})

    def _take(self, table: dict[str, int], key: str) -> bool:
        with self._lock:
            if table.get(key, 0) > 0:
                table[key] -= 1
                return True
            return False

    def take_lose_answer(self, kind: str) -> bool:
        return self._take(self.lose_answer, kind)

    def take_server_error(self, endpoint: str) -> bool:
        return self._take(self.server_error, endpoint) or self._take(self.server_error, "*")

    def take_rate_limit(self) -> bool:
        with self._lock:
            if self.rate_limit > 0:
                self.rate_limit -= 1
                return True
            return False

    def pending(self) -> dict[str, Any]:
        with self._lock:
            return {"lose_answer": {k: v for k, v in self.lose_answer.items() if v},
                    "server_error": {k: v for k, v in self.server_error.items() if v},
                    "rate_limit": self.rate_limit}
