"""What one answer and one run may cost, whatever Amili (or whatever answers in its name) sends.

The machinery is core/http.py's (shared with the Fortnox client); this names
``[amili]`` in its messages and raises the Amili family's errors.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ledger_export.core import http
from ledger_export.core.errors import AmiliError
from ledger_export.core.http import CHUNK, MB, AttemptTooSlow

__all__ = ["CHUNK", "MB", "AttemptTooSlow", "Bounds", "LimitExceededError"]


class LimitExceededError(AmiliError):
    """A list, an answer or the run went past a bound of [amili] (max_pages, max_response_mb, run_deadline)."""


@dataclass(frozen=True, kw_only=True)
class Bounds(http.Bounds):
    section: str = "amili"
    limit_error: http.ErrorKind = field(default=LimitExceededError, repr=False)
    error: http.ErrorKind = field(default=AmiliError, repr=False)
