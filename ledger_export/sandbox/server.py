"""Run the sandbox: in a background thread for tests and the demo, or in the foreground for the CLI."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import mongomock
from eve import Eve

from ledger_export.sandbox.serving import HOST, LocalServer
from ledger_export.core.resources import SAMPLES
from ledger_export.sandbox import data
from ledger_export.sandbox.app import DB_NAME, create_app
from ledger_export.sandbox.auth import ApiCode, Tokens
from ledger_export.sandbox.faults import FaultInjector, Faults, Served

API_CODE = "sandbox-api-code"
PUBLIC_KEY = SAMPLES / "keys" / "sandbox-creditor-es512.pub.pem"
PRIVATE_KEY = SAMPLES / "keys" / "sandbox-creditor-es512.pem"  # for clients trying the API-code login


class Sandbox:
    """The Amili sandbox on 127.0.0.1, seeded fresh each time it starts.

    Use as a context manager. ``db`` is the live mongomock database, so a
    test can change data between requests; ``requests`` lists every request
    served; ``on_request`` runs a callback after each API request, before
    its answer is sent.
    """

    def __init__(self, data_dir: Path | None = None, *, faults: Faults = Faults(), port: int = 0,
                 page_limit: int = 100, token_ttl: float = 3600, api_key: str = "sandbox-key",
                 api_code: str = API_CODE, public_key_file: Path = PUBLIC_KEY):
        self.data_dir = data_dir
        self.api_key = api_key
        self.api_code = api_code
        self.page_limit = page_limit
        self.tokens = Tokens(api_key, token_ttl)
        self._initial_faults = faults
        self._requested_port = port
        self._public_key = Path(public_key_file).read_bytes()
        self._server: LocalServer | None = None
        self.db: mongomock.Database[dict[str, Any]] | None = None
        self.app: Eve | None = None
        self._injector: FaultInjector | None = None

    # -- lifecycle -------------------------------------------------------
    def __enter__(self) -> Sandbox:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self) -> None:
        seed = data.load(self.data_dir)
        client: mongomock.MongoClient[dict[str, Any]] = mongomock.MongoClient()
        self.db = db = client[DB_NAME]
        for resource in data.RESOURCES:
            documents = seed.documents(resource)
            if documents:
                db[resource].insert_many(documents)
        self.app = app = create_app(db, tokens=self.tokens, api_code=ApiCode(self.api_code, self._public_key),
                                    media=dict(seed.media), page_limit=self.page_limit,
                                    extra_fields=seed.field_names())
        self._injector = FaultInjector(app.wsgi_app, self._initial_faults,
                                       is_api=lambda path: not path.startswith("/authenticates/"))
        app.wsgi_app = self._injector
        self._server = LocalServer(app, self._requested_port, "amili-sandbox")

    def stop(self) -> None:
        if self._server is not None:
            self._server.stop()
            self._server = None

    # -- what tests use --------------------------------------------------
    def _running(self) -> FaultInjector:
        if self._injector is None:
            raise RuntimeError("the sandbox is not started: use it as a context manager")
        return self._injector

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("the sandbox is not started: use it as a context manager")
        return self._server.port

    @property
    def base_url(self) -> str:
        return f"http://{HOST}:{self.port}"

    @property
    def requests(self) -> list[Served]:
        return self._running().served

    @property
    def api_requests(self) -> int:
        """How many API requests (not logins) were counted since start or the last fault change."""
        return self._running().count

    @property
    def lock(self) -> threading.RLock:
        """Held while a request is handled; hold it to change ``db`` while a client is running."""
        return self._running().lock

    @property
    def faults(self) -> Faults:
        return self._running().faults

    def set_faults(self, faults: Faults, *, reset_count: bool = True) -> None:
        """Change the faults from now on; the request count restarts at 0 unless told not to."""
        self._running().set_faults(faults, reset_count=reset_count)

    def on_request(self, callback: Callable[[int, str, str], None]) -> None:
        """Run ``callback(n, method, path)`` after each API request, before its answer is sent."""
        self._running().callbacks.append(callback)

    def issue_token(self) -> str:
        """A fresh access token, as the API-code login would give."""
        return self.tokens.issue()[0]

    def expire_tokens(self) -> None:
        """Issued tokens stop working now, so a client must log in again (the static key still works)."""
        self.tokens.expire_all()

    @property
    def token_ttl(self) -> float:
        return self.tokens.ttl

    @token_ttl.setter
    def token_ttl(self, seconds: float) -> None:
        self.tokens.ttl = seconds


def serve_forever(port: int = 8765, data_dir: Path | None = None, faults: Faults = Faults()) -> None:
    """The CLI's ``ledger-export sandbox``: serve until Ctrl-C.

    The key and API code printed here are the sandbox's public test values
    (samples/README.md), not secrets.
    """
    with Sandbox(data_dir, faults=faults, port=port) as sandbox:
        print(f"Amili sandbox serving {sandbox.base_url} (127.0.0.1 only)")
        print(f"  static key:  X-API-Key: {sandbox.api_key}")
        print(f"  API code:    {sandbox.api_code} (JWT signed with {PRIVATE_KEY})")
        print("Press Ctrl-C to stop.", flush=True)
        try:
            threading.Event().wait()
        except KeyboardInterrupt:
            print("sandbox stopped")
