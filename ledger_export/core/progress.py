"""Progress for long work: shown on a terminal, silent in pipes, cron and --quiet."""

from __future__ import annotations

import sys
import threading
from typing import TextIO


class Progress:
    """Counts things (pages fetched, lines written) and redraws one status line.

    Thread-safe, because pages are fetched concurrently.
    """

    def __init__(self, stream: TextIO | None = None, *, enabled: bool | None = None):
        self.stream = stream if stream is not None else sys.stderr
        if enabled is None:
            enabled = bool(getattr(self.stream, "isatty", lambda: False)())
        self.enabled = enabled
        self.counts: dict[str, int] = {}
        self._lock = threading.Lock()
        self._drawn = False

    def add(self, what: str, n: int = 1) -> None:
        with self._lock:
            self.counts[what] = self.counts.get(what, 0) + n
            if self.enabled:
                line = ", ".join(f"{k}: {v}" for k, v in self.counts.items())
                self.stream.write(f"\r{line}\x1b[K")
                self.stream.flush()
                self._drawn = True

    def done(self) -> None:
        with self._lock:
            if self.enabled and self._drawn:
                self.stream.write("\n")
                self.stream.flush()
                self._drawn = False


class NoProgress(Progress):
    def __init__(self) -> None:
        super().__init__(enabled=False)
