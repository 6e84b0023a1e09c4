"""A replay server for the benchmark: one generated period served as Amili's Eve API does.

Not the sandbox: that one runs Eve on mongomock under one lock, so it
serializes requests and costs milliseconds of CPU per page. This one
answers from items encoded once, in as many threads as the client opens,
and sleeps ``latency`` seconds in each request's own thread, so a client
that asks in parallel sees the latency overlap as it would over a network.

It understands exactly what ledger-export sends: ``where`` with plain
equality, ``$in``, ``$gte``/``$gt``/``$lt``/``$lte`` (dates as RFC 1123
strings), ``sort`` ("_created,_id", "-_created"), ``page`` and
``max_results`` (capped at 100, as Amili does), the ``X-API-Key`` header,
and ``/media/<id>`` for the self-invoice PDFs. Anything else is refused
with an Eve-style 400, so a client that starts asking differently is
noticed instead of served wrong data.

``/_replay/stats`` and ``/_replay/reset`` are the benchmark's own: no
latency, not counted.

Run alone: .venv/bin/python benchmarks/replay.py --lines 10000 --latency 0.05
"""

from __future__ import annotations

import argparse
import json
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import simplejson

from ledger_export.amili import timestamps

from generate import Dataset, check, generate

HOST = "127.0.0.1"
API_KEY = "replay-key"
PAGE_LIMIT = 100
PAGE_DEFAULT = 25
RESOURCES = ("finance--payouts", "finance--payout-specifications", "creditor--payments")
DATE_FIELDS = frozenset({"_created", "_updated", "payout_date", "booking_date", "bank_transaction_date"})


class BadQuery(ValueError):
    """A query the replay server does not answer (a 400, as Eve gives for a malformed one)."""


def _reference(value: Any) -> Any:
    return value.get("_id") if isinstance(value, Mapping) else value


def _comparable(name: str, value: Any) -> Any:
    value = _reference(value)
    if name in DATE_FIELDS and isinstance(value, str):
        return timestamps.parse(value)
    return value


_OPERATORS: dict[str, Callable[[Any, Any], bool]] = {
    "$gte": lambda a, b: a is not None and a >= b,
    "$gt": lambda a, b: a is not None and a > b,
    "$lte": lambda a, b: a is not None and a <= b,
    "$lt": lambda a, b: a is not None and a < b,
    "$ne": lambda a, b: a != b,
}


def _condition(name: str, wanted: Any) -> Callable[[Any], bool]:
    """A test on one field's comparable value, for one ``where`` entry."""
    if isinstance(wanted, Mapping) and any(str(k).startswith("$") for k in wanted):
        tests = []
        for op, operand in wanted.items():
            if op == "$in":
                if not isinstance(operand, list):
                    raise BadQuery(f"$in on {name} needs a list")
                allowed = {_comparable(name, v) for v in operand}
                tests.append(lambda a, allowed=allowed: a in allowed)
            elif op in _OPERATORS:
                tests.append(lambda a, f=_OPERATORS[op], b=_comparable(name, operand): f(a, b))
            else:
                raise BadQuery(f"operator {op} is not supported by the replay server")
        return lambda a: all(t(a) for t in tests)
    expected = _comparable(name, wanted)
    return lambda a: a == expected


class Collection:
    """One resource's items, encoded once, with what ``where`` and ``sort`` look at."""

    def __init__(self, items: list[dict]):
        self.encoded = [simplejson.dumps(i, use_decimal=True, separators=(",", ":")).encode() for i in items]
        self.items = items
        self._values: dict[str, list[Any]] = {}
        self._by_payout: dict[Any, list[int]] | None = None
        self._lock = threading.Lock()
        self._answers: dict[tuple[str, str], list[bytes]] = {}

    def values(self, name: str) -> list[Any]:
        if name not in self._values:
            self._values[name] = [_comparable(name, i.get(name)) for i in self.items]
        return self._values[name]

    def _candidates(self, where: Mapping[str, Any]) -> list[int]:
        wanted = where.get("payout")
        if isinstance(wanted, Mapping) and set(wanted) == {"$in"} and isinstance(wanted["$in"], list):
            if self._by_payout is None:
                index: dict[Any, list[int]] = {}
                for n, value in enumerate(self.values("payout")):
                    index.setdefault(value, []).append(n)
                self._by_payout = index
            return sorted({n for p in wanted["$in"] for n in self._by_payout.get(p, ())})
        return list(range(len(self.items)))

    def select(self, where_text: str, sort: str) -> list[bytes]:
        """The encoded items ``where`` selects, in ``sort`` order (cached: pages repeat the query)."""
        with self._lock:
            key = (where_text, sort)
            if key not in self._answers:
                self._answers[key] = self._select(where_text, sort)
            return self._answers[key]

    def _select(self, where_text: str, sort: str) -> list[bytes]:
        try:
            where = json.loads(where_text) if where_text else {}
        except ValueError:
            raise BadQuery("where is not JSON") from None
        if not isinstance(where, dict):
            raise BadQuery("where must be a JSON object")
        chosen = self._candidates(where)
        for name, wanted in where.items():
            if name.startswith("$"):
                raise BadQuery(f"{name} at the top of where is not supported by the replay server")
            test, values = _condition(name, wanted), self.values(name)
            chosen = [n for n in chosen if test(values[n])]
        for field in reversed([f.strip() for f in sort.split(",") if f.strip()]):
            name = field.lstrip("-")
            values = self.values(name)
            # None sorts first, as MongoDB sorts null before any value.
            chosen.sort(key=lambda n: (values[n] is not None, values[n] if values[n] is not None else 0),
                        reverse=field.startswith("-"))
        return [self.encoded[n] for n in chosen]


class Replay:
    """What the server answers, and how often it was asked."""

    def __init__(self, data: Dataset, *, latency: float = 0.0, api_key: str = API_KEY):
        self.data = data
        self.latency = latency
        self.api_key = api_key
        self.collections = {"finance--payouts": Collection(data.payouts),
                            "finance--payout-specifications": Collection(data.specifications),
                            "creditor--payments": Collection(data.payments)}
        self.media = data.media
        self._lock = threading.Lock()
        self.counts: Counter[str] = Counter()
        self.in_flight = 0
        self.max_in_flight = 0

    def count(self, kind: str) -> None:
        with self._lock:
            self.counts[kind] += 1

    def stats(self) -> dict:
        with self._lock:
            return {"requests": sum(self.counts.values()), "by_kind": dict(sorted(self.counts.items())),
                    "max_in_flight": self.max_in_flight}

    def reset(self) -> None:
        with self._lock:
            self.counts.clear()
            self.max_in_flight = 0

    def wait(self) -> None:
        with self._lock:
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            if self.latency > 0:
                time.sleep(self.latency)
        finally:
            with self._lock:
                self.in_flight -= 1

    def page(self, resource: str, query: Mapping[str, list[str]]) -> bytes:
        def one(name: str, default: str) -> str:
            values = query.get(name, [default])
            if len(values) != 1:
                raise BadQuery(f"{name} given {len(values)} times")
            return values[0]

        unknown = set(query) - {"where", "sort", "page", "max_results"}
        if unknown:
            raise BadQuery(f"parameter {sorted(unknown)[0]} is not supported by the replay server")
        try:
            page = int(one("page", "1"))
            per_page = min(int(one("max_results", str(PAGE_DEFAULT))), PAGE_LIMIT)
        except ValueError:
            raise BadQuery("page and max_results must be whole numbers") from None
        if page < 1 or per_page < 1:
            raise BadQuery("page and max_results must be at least 1")
        selected = self.collections[resource].select(one("where", ""), one("sort", "_created,_id"))
        shown = selected[(page - 1) * per_page: page * per_page]
        meta = f'"_meta":{{"page":{page},"max_results":{per_page},"total":{len(selected)}}}'
        return b'{"_items":[' + b",".join(shown) + b"]," + meta.encode() + b"}"


def _error(status: int, message: str) -> bytes:
    return json.dumps({"_status": "ERR", "_error": {"code": status, "message": message}}).encode()


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as a real API client expects
    disable_nagle_algorithm = True  # headers and body leave at once, no 40 ms delayed-ACK stalls
    replay: Replay  # set on the subclass the server makes

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _send(self, status: int, body: bytes, content_type: str = "application/json") -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:  # noqa: N802 (the stdlib's name)
        url = urlsplit(self.path)
        path = unquote(url.path).strip("/")
        if path == "_replay/stats":
            return self._send(200, json.dumps(self.replay.stats()).encode())
        if path == "_replay/reset":
            self.replay.reset()
            return self._send(200, b"{}")
        resource = path if path in RESOURCES else ("media" if path.startswith("media/") else "unknown")
        self.replay.count(resource)
        self.replay.wait()
        if self.headers.get("X-API-Key") != self.replay.api_key:
            return self._send(401, _error(401, "Please provide proper credentials"))
        if resource == "media":
            pdf = self.replay.media.get(path.removeprefix("media/"))
            if pdf is None:
                return self._send(404, _error(404, "The requested URL was not found on the server."))
            return self._send(200, pdf, "application/pdf")
        if resource == "unknown":
            return self._send(404, _error(404, "The requested URL was not found on the server."))
        try:
            body = self.replay.page(resource, parse_qs(url.query, keep_blank_values=True))
        except BadQuery as exc:
            return self._send(400, _error(400, str(exc)))
        self._send(200, body)


class ReplayServer:
    """The replay server on 127.0.0.1 in background threads; use as a context manager."""

    def __init__(self, data: Dataset, *, latency: float = 0.0, port: int = 0, api_key: str = API_KEY):
        self.replay = Replay(data, latency=latency, api_key=api_key)
        handler = type("Handler", (_Handler,), {"replay": self.replay})
        self.server = ThreadingHTTPServer((HOST, port), handler)
        self.server.daemon_threads = True
        self._thread = threading.Thread(target=self.server.serve_forever, name="replay", daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://{HOST}:{self.server.server_port}"

    def __enter__(self) -> ReplayServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
        self._thread.join()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=1000, help="specification lines in the period")
    parser.add_argument("--seed", type=int, default=2025)
    parser.add_argument("--period", default="2025-06", help="a month (2025-06) or a quarter (2025Q2)")
    parser.add_argument("--latency", type=float, default=0.05, help="seconds each request waits")
    parser.add_argument("--port", type=int, default=0, help="0: any free port")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    data = generate(args.lines, seed=args.seed, period=args.period)
    check(data)  # every payout's lines add up, so the export books it without an error
    with ReplayServer(data, latency=args.latency, port=args.port) as server:
        # Warm the encoded collections before anyone measures against us.
        for collection in server.replay.collections.values():
            collection.values("_created")
        # One JSON line for run.py; the key is the replay server's public test value, not a secret.
        print(json.dumps({"base_url": server.base_url, "api_key": API_KEY, "creditor": data.creditor,
                          "period": data.period.label, "counts": data.counts,
                          "generated_in": round(time.perf_counter() - started, 2)}), flush=True)
        # Serve until whoever started us closes our stdin (or Ctrl-C).
        try:
            sys.stdin.read()
        except KeyboardInterrupt:
            pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
