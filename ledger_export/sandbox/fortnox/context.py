"""What the views share: the company, the token store, the limiter, the faults, and the sandbox's clock."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import NamedTuple

from flask import current_app, request

from ledger_export.sandbox.fortnox.company import Company
from ledger_export.sandbox.fortnox.faults import FortnoxFaults
from ledger_export.sandbox.fortnox.ratelimit import RateLimiter
from ledger_export.sandbox.fortnox.tokens import TokenStore

EXTENSION = "fortnox_sandbox"
DROP = "fortnox_sandbox.drop"  # environ flag: close the connection instead of answering


class Served(NamedTuple):
    method: str
    path: str
    status: int | None  # None: the answer was lost on purpose


@dataclass
class Context:
    company: Company
    tokens: TokenStore
    limiter: RateLimiter
    faults: FortnoxFaults
    today: Callable[[], date]
    redirect_ok: Callable[[str], bool]
    app_scopes: frozenset[str]
    service_accounts: bool = True
    served: list[Served] = field(default_factory=list)


def ctx() -> Context:
    found: Context = current_app.extensions[EXTENSION]
    return found


def api_url() -> str:
    """The API's base as this request reached it, for the ``@url`` fields."""
    return request.host_url.rstrip("/") + "/3"


def lose_answer_if_armed(kind: str) -> None:
    """After a committed write: when a lost answer is armed for this kind, drop the connection."""
    if ctx().faults.take_lose_answer(kind):
        request.environ[DROP] = True
