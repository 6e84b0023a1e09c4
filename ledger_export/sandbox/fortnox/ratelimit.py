"""Fortnox's rate limit: 25 requests per sliding 5 seconds per access token.

Fortnox: Guides and good to know > Rate limits for Fortnox API. "The limit
is 300 requests per minute per client-id and tenant ... based on a sliding
window algorithm with a period of 5 seconds, so the actual limit is 25
requests per 5 seconds", keyed on the access token, answered with HTTP 429.
The page documents neither a body nor Retry-After; the sandbox answers in
the gateway's style (``{"message": ...}``, as the recorded 401) and sends
no Retry-After unless told to, so a client must pace itself rather than
wait to be told.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

LIMIT = 25
WINDOW = 5.0


@dataclass
class RateLimiter:
    limit: int = LIMIT
    window: float = WINDOW
    clock: Callable[[], float] = time.monotonic
    _seen: dict[str, deque[float]] = field(default_factory=dict)
    refused: int = 0
    # The most requests any token had in one window, refused ones not counted.
    busiest: int = 0

    def allow(self, token: str) -> bool:
        now = self.clock()
        seen = self._seen.setdefault(token, deque())
        while seen and seen[0] <= now - self.window:
            seen.popleft()
        if len(seen) >= self.limit:
            self.refused += 1
            return False
        seen.append(now)
        self.busiest = max(self.busiest, len(seen))
        return True
