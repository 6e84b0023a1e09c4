"""Fortnox's rate limit, kept by the client: at most 25 requests in any 5 seconds per token.

Fortnox counts requests per access token (client id and tenant) over a
sliding 5-second window and answers 429 past 25. The client waits instead,
so Fortnox never has to refuse. Each request is counted from the moment its
answer was in (or its attempt failed), not from when it was sent: Fortnox
saw it somewhere in between, so counting from the later moment never lets a
26th request reach Fortnox inside a window that still holds the first.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable


class SlidingWindow:
    def __init__(self, limit: int = 25, window: float = 5.0, *, clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] = time.sleep):
        if limit < 1 or window <= 0:
            raise ValueError("limit must be at least 1 and window more than 0")
        self.limit = limit
        self.window = window
        self._clock = clock
        self._sleep = sleep
        self._done: deque[float] = deque()
        self._lock = threading.Lock()
        #: Seconds spent waiting for the window so far (for progress and the benchmarks).
        self.waited = 0.0

    def wait_for_turn(self) -> None:
        """Return when one more request may be sent without passing the limit."""
        with self._lock:
            while True:
                now = self._clock()
                while self._done and self._done[0] <= now - self.window:
                    self._done.popleft()
                if len(self._done) < self.limit:
                    return
                pause = self._done[0] + self.window - now
                self.waited += pause
                self._sleep(pause)

    def finished(self) -> None:
        """Count a request whose answer is in (or whose attempt failed) now."""
        with self._lock:
            self._done.append(self._clock())

    def hold_off(self, seconds: float) -> None:
        """Fortnox said 429 all the same (another program on the same token): wait as it asked."""
        with self._lock:
            self.waited += seconds
            self._sleep(seconds)
