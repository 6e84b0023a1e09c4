"""How long to wait before trying a request again, and when to stop trying.

Every request gets its own budget: at most ``max_retries`` retries and at most
``max_wait`` seconds of sleeping in total, so a flaky API slows a run down by
a bounded amount instead of hanging it.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from ledger_export.core.errors import ServiceUnavailableError
from ledger_export.amili import timestamps

# Statuses that say "not now" rather than "never": the same GET may succeed later.
# 500 is included because Eve answers 500 for a lost database connection.
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})


@dataclass(frozen=True)
class RetryPolicy:
    max_retries: int = 5
    max_wait: float = 120.0
    # Exponential back-off 0.5, 1, 2, 4 ... seconds (capped), each drawn from
    # the upper half of its step so concurrent workers do not retry in lockstep.
    base_delay: float = 0.5
    max_delay: float = 30.0
    sleep: Callable[[float], None] = field(default=time.sleep, repr=False)
    rng: random.Random = field(default_factory=random.Random, repr=False)

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
        """Sleep before the next attempt, or raise ServiceUnavailableError when the budget is spent."""
        p = self.policy
        if self.retries >= p.max_retries:
            raise ServiceUnavailableError(
                f"{self.what} failed after {self.attempt} attempt(s): {problem}", url=url, status=status)
        left = p.max_wait - self.waited
        if retry_after is not None:
            if retry_after > left:
                # Sleeping part of the way would only fail later; say so now.
                raise ServiceUnavailableError(
                    f"{self.what}: {problem}, and Amili asked to wait {retry_after:g} s before "
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
        until = timestamps.parse(value).timestamp()
    except ValueError:
        return None
    try:
        reference = timestamps.parse(headers.get("Date") or "").timestamp()
    except ValueError:
        reference = now()
    return max(0.0, until - reference)
