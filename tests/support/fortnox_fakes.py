"""An injected HTTP layer and clock for the Fortnox client and auth tests: no sockets, no sleeping.

The Fortnox tests import it (``from support.fortnox_fakes import ...``).
"""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Any

from ledger_export.fortnox.auth import AccessTokens
from ledger_export.fortnox.client import FortnoxClient
from support.http_fakes import FakeTokens, ScriptedAdapter

BASE = "https://fortnox.test"
AUTH = "https://apps.fortnox.test/oauth-v1"


class FakeClock:
    """Monotonic and wall time in one: ``sleep`` moves it on and is remembered."""

    def __init__(self, start: float = 1_750_000_000.0):
        self.now = start
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds

    def advance(self, seconds: float) -> None:
        self.now += seconds


class FakeAccess(FakeTokens, AccessTokens):
    """Access tokens "tok-1", "tok-2", ...; refresh moves on to the next."""

    prefix = "tok-"

    @property
    def scopes(self) -> frozenset[str]:
        return frozenset({"bookkeeping"})


def fortnox_client(handler: Callable, *, clock: FakeClock | None = None, tokens: AccessTokens | None = None,
                   **options: Any) -> tuple[FortnoxClient, ScriptedAdapter, FakeClock]:
    """A FortnoxClient whose requests ``handler`` answers, on a fake clock (waits go to ``clock.sleeps``)."""
    clock = clock or FakeClock()
    adapter = ScriptedAdapter(handler)
    client = FortnoxClient(BASE, tokens or FakeAccess(), session=adapter.session_factory()(), sleep=clock.sleep,
                           clock=clock, rng=random.Random(3), **options)
    return client, adapter, clock


def token_answer(access: str, refresh: str | None = None, *, expires_in: int = 3600,
                 scope: str = "bookkeeping companyinformation connectfile inbox") -> tuple[int, dict]:
    body: dict[str, Any] = {"access_token": access, "scope": scope, "expires_in": expires_in, "token_type": "bearer"}
    if refresh is not None:
        body["refresh_token"] = refresh
    return 200, body


def error_information(code: int, message: str) -> dict:
    return {"ErrorInformation": {"error": 1, "message": message, "code": code}}
