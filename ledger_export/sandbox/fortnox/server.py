"""Run the Fortnox sandbox: in a background thread for tests and the demo, or in the foreground for the CLI.

    with FortnoxSandbox() as fortnox:
        tokens = requests.post(f"{fortnox.auth_url}/token", auth=(fortnox.client_id, fortnox.client_secret),
                               data={"grant_type": "refresh_token", "refresh_token": fortnox.refresh_token()})
        requests.get(f"{fortnox.api_url}/companyinformation",
                     headers={"Authorization": f"Bearer {tokens.json()['access_token']}"})

The client id, secret and tenant id are the sandbox's public test values,
not secrets.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable
from datetime import date
from typing import Any

from ledger_export.sandbox.serving import HOST, LocalServer
from ledger_export.sandbox.fortnox.app import create_app
from ledger_export.sandbox.fortnox.company import Company
from ledger_export.sandbox.fortnox.context import Context, Served
from ledger_export.sandbox.fortnox.faults import FortnoxFaults
from ledger_export.sandbox.fortnox.oauth import loopback_redirect
from ledger_export.sandbox.fortnox.ratelimit import RateLimiter
from ledger_export.sandbox.fortnox.seed import TENANT_ID, sample_company
from ledger_export.sandbox.fortnox.tokens import SCOPES, TokenStore
from ledger_export.sandbox.fortnox.wsgi import Serialised

CLIENT_ID = "sandbox-client-id"
CLIENT_SECRET = "sandbox-client-secret"
# What ledger-export's Fortnox integration asks for (issue 14).
DEFAULT_SCOPES = frozenset({"bookkeeping", "companyinformation", "inbox", "archive", "connectfile", "invoice",
                            "payment", "settings"})


class FortnoxSandbox:
    """A Fortnox company on 127.0.0.1, seeded fresh each time it starts.

    ``company`` is the live state (change it only while holding ``lock``);
    ``state()`` is what ``GET /_sandbox/state`` answers. A service account's
    consent with ``service_scopes`` exists from the start, so client
    credentials work with ``tenant_id`` at once; pass ``service_scopes=()``
    for a company without one.
    """

    def __init__(self, *, port: int = 0, company: Company | None = None, access_ttl: float = 3600.0,
                 app_scopes: Iterable[str] = SCOPES, service_scopes: Iterable[str] = DEFAULT_SCOPES,
                 faults: FortnoxFaults | None = None, rate_limit: int = 25, rate_window: float = 5.0,
                 today: Callable[[], date] = date.today, clock: Callable[[], float] = time.time,
                 redirect_ok: Callable[[str], bool] = loopback_redirect, service_accounts: bool = True):
        self.client_id, self.client_secret, self.tenant_id = CLIENT_ID, CLIENT_SECRET, TENANT_ID
        self.company = company if company is not None else sample_company()
        self.tokens = TokenStore(CLIENT_ID, CLIENT_SECRET, TENANT_ID, access_ttl, clock,
                                 frozenset(service_scopes))
        self.faults = faults if faults is not None else FortnoxFaults()
        self.limiter = RateLimiter(rate_limit, rate_window)
        self.lock = threading.RLock()
        self.context = Context(self.company, self.tokens, self.limiter, self.faults, today, redirect_ok,
                               frozenset(app_scopes), service_accounts)
        self._requested_port = port
        self._server: LocalServer | None = None

    def __enter__(self) -> FortnoxSandbox:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self) -> None:
        app = create_app(self.context)
        app.wsgi_app = Serialised(app.wsgi_app, self.context, self.lock)  # type: ignore[method-assign]
        self._server = LocalServer(app, self._requested_port, "fortnox-sandbox")

    def stop(self) -> None:
        if self._server is not None:
            self._server.stop()
            self._server = None

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("the Fortnox sandbox is not started: use it as a context manager")
        return self._server.port

    @property
    def base_url(self) -> str:
        """What ``[fortnox] base_url`` points at: the API is under ``/3/``."""
        return f"http://{HOST}:{self.port}"

    @property
    def api_url(self) -> str:
        return f"{self.base_url}/3"

    @property
    def auth_url(self) -> str:
        """What ``[fortnox] auth_url`` points at: ``/token`` and ``/auth`` under it."""
        return f"{self.base_url}/oauth-v1"

    @property
    def served(self) -> list[Served]:
        return self.context.served

    def state(self) -> dict[str, Any]:
        with self.lock:
            return self.company.state(self.api_url)

    def refresh_token(self, scopes: Iterable[str] = DEFAULT_SCOPES) -> str:
        """A refresh token as a finished ``fortnox login`` would leave (for FORTNOX_REFRESH_TOKEN)."""
        with self.lock:
            issued = self.tokens.issue(frozenset(scopes))
        assert issued.refresh_token is not None
        return issued.refresh_token

    def expire_access_tokens(self) -> None:
        with self.lock:
            self.tokens.expire_access_tokens()

    def revoke_refresh_tokens(self) -> None:
        with self.lock:
            self.tokens.revoke_refresh_tokens()


def serve_forever(port: int = 8766) -> None:
    """The CLI's ``ledger-export sandbox --fortnox``: serve until Ctrl-C."""
    with FortnoxSandbox(port=port) as sandbox:
        print(f"Fortnox sandbox serving {sandbox.base_url} (127.0.0.1 only)")
        print(f"  [fortnox] base_url = \"{sandbox.base_url}\"   auth_url = \"{sandbox.auth_url}\"")
        print(f"  FORTNOX_CLIENT_ID={sandbox.client_id} FORTNOX_CLIENT_SECRET={sandbox.client_secret}")
        print(f"  service account: [fortnox] tenant_id = {sandbox.tenant_id}")
        print(f"  or FORTNOX_REFRESH_TOKEN={sandbox.refresh_token()} (works once)")
        print(f"  state: {sandbox.base_url}/_sandbox/state")
        print("These are the sandbox's public test values, not secrets. Press Ctrl-C to stop.", flush=True)
        try:
            threading.Event().wait()
        except KeyboardInterrupt:
            print("Fortnox sandbox stopped")
