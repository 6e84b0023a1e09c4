"""An injected HTTP layer for the client tests: no sockets, no sleeping.

The client, auth and fetch tests import it (``from support.http_fakes import ...``).
"""

from __future__ import annotations

import http
import json
import random
import threading
from collections.abc import Callable
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qs, urlsplit

import requests
import simplejson
from requests.adapters import BaseAdapter
from requests.structures import CaseInsensitiveDict

from ledger_export.amili import timestamps
from ledger_export.amili.auth import TokenProvider
from ledger_export.amili.client import AmiliClient

BASE = "https://amili.test"


def response(request: requests.PreparedRequest, status: int, body: Any = b"",
             headers: dict | None = None) -> requests.Response:
    headers = dict(headers or {})
    if not isinstance(body, bytes):
        body = simplejson.dumps(body, use_decimal=True).encode()
        headers.setdefault("Content-Type", "application/json")
    r = requests.Response()
    r.status_code = status
    r.headers = CaseInsensitiveDict(headers)
    r._content = body
    r.url = request.url
    r.request = request
    r.reason = http.HTTPStatus(status).phrase
    r.encoding = "utf-8"
    return r


class ScriptedAdapter(BaseAdapter):
    """Answers every request with ``handler(request)``; remembers what was asked."""

    def __init__(self, handler: Callable[[requests.PreparedRequest], Any]):
        super().__init__()
        self.handler = handler
        self.requests: list[requests.PreparedRequest] = []
        self.threads: set[str] = set()
        self._lock = threading.Lock()

    def send(self, request, stream=False, timeout=None, verify=True, cert=None, proxies=None):
        with self._lock:
            self.requests.append(request)
            self.threads.add(threading.current_thread().name)
        answer = self.handler(request)
        if isinstance(answer, BaseException):
            raise answer
        return response(request, *answer)

    def close(self):
        pass

    def session_factory(self) -> Callable[[], requests.Session]:
        def make() -> requests.Session:
            session = requests.Session()
            session.mount("http://", self)
            session.mount("https://", self)
            return session
        return make


def sequence(*answers: Any) -> Callable:
    """A handler giving ``answers`` in turn (the last one again when they run out)."""
    remaining = list(answers)

    def handler(request):
        return remaining.pop(0) if len(remaining) > 1 else remaining[0]
    return handler


def query(request: requests.PreparedRequest) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(request.url).query).items()}


class FakeTokens(TokenProvider):
    """Tokens "t1", "t2", ... (or ``prefix`` 1, 2, ...); refresh moves on to the next one."""

    prefix = "t"

    def __init__(self, can_refresh: bool = True):
        self.current = 1
        self.refreshes = 0
        self.can_refresh = can_refresh

    def token(self) -> str:
        return f"{self.prefix}{self.current}"

    def refresh(self, stale: str | None = None) -> bool:
        if not self.can_refresh:
            return False
        self.refreshes += 1
        self.current += 1
        return True


def _matches(item: dict, where: dict) -> bool:
    for name, condition in where.items():
        value = item.get(name)
        if isinstance(value, dict):
            value = value.get("_id")
        if not isinstance(condition, dict):
            if value != condition:
                return False
            continue
        for op, operand in condition.items():
            if op == "$in" and value not in operand:
                return False
            if op in ("$gte", "$lt"):
                if value is None:
                    return False
                moment, bound = timestamps.parse(value), timestamps.parse(operand)
                if (op == "$gte" and moment < bound) or (op == "$lt" and moment >= bound):
                    return False
    return True


class FakeEve:
    """Just enough of an Eve list endpoint: where (eq, $in, $gte, $lt), page, max_results.

    ``cap`` is the server's silent max_results limit; ``before(resource, page)``
    runs before each page is served, so a test can change the data mid-list.
    """

    def __init__(self, collections: dict[str, list[dict]], cap: int = 100,
                 before: Callable[[str, int], None] | None = None):
        self.collections = collections
        self.cap = cap
        self.before = before
        self.served: list[tuple[str, int]] = []
        self.lock = threading.Lock()

    def __call__(self, request):
        resource = urlsplit(request.url).path.strip("/")
        q = query(request)
        page = int(q.get("page", 1))
        size = min(int(q.get("max_results", 25)), self.cap)
        with self.lock:
            self.served.append((resource, page))
            if self.before:
                self.before(resource, page)
            where = json.loads(q.get("where", "{}"))
            items = [i for i in self.collections.get(resource, []) if _matches(i, where)]
            items.sort(key=lambda i: (timestamps.parse(i["_created"]), i["_id"]))
            chunk = items[(page - 1) * size: page * size]
            return 200, {"_items": chunk, "_meta": {"page": page, "max_results": size, "total": len(items)}}, {}


def item(n: int, **fields: Any) -> dict:
    """An Eve item with a 24-hex _id ordered by ``n`` and a _created one second apart."""
    created = timestamps.format(timestamps.parse("Sun, 01 Jun 2025 00:00:00 GMT").replace(
        hour=n // 3600 % 24, minute=n // 60 % 60, second=n % 60))
    return {"_id": f"{n:024x}", "_created": created, "amount": Decimal("1.50"), **fields}


def scripted_client(handler: Callable, *, seed: int, tokens: TokenProvider | None = None,
                    sleeps: list[float] | None = None, **options: Any) -> tuple[AmiliClient, ScriptedAdapter]:
    """An AmiliClient whose requests ``handler`` answers; back-off waits go to ``sleeps`` (or nowhere).

    ``seed`` fixes the retry jitter, so the waits a test sees are the same every run.
    """
    adapter = ScriptedAdapter(handler)
    client = AmiliClient(BASE, tokens or FakeTokens(), session_factory=adapter.session_factory(),
                         sleep=sleeps.append if sleeps is not None else (lambda seconds: None),
                         rng=random.Random(seed), **options)
    return client, adapter
