"""How long to wait before trying an Amili request again, and when to stop trying.

The machinery is core/http.py's (shared with the Fortnox client); this names
Amili in its messages and raises the Amili family's ServiceUnavailableError.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ledger_export.core import http
from ledger_export.core.errors import ServiceUnavailableError
from ledger_export.core.http import RetryBudget, retry_after_seconds

__all__ = ["RETRY_STATUSES", "RetryBudget", "RetryPolicy", "retry_after_seconds"]

# Statuses that say "not now" rather than "never": the same GET may succeed later.
# 500 is included because Eve answers 500 for a lost database connection.
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})


@dataclass(frozen=True, kw_only=True)
class RetryPolicy(http.RetryPolicy):
    service: str = "Amili"
    unavailable: http.ErrorKind = field(default=ServiceUnavailableError, repr=False)
