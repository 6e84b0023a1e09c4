"""`ledger-export fortnox login`: Fortnox's authorization-code flow, ending in a token file.

1. The authorization URL is printed (``{auth_url}/auth`` with client_id,
   redirect_uri, scope, a random state, access_type=offline and
   response_type=code; account_type=service for a service account).
2. The bookkeeper (or the company's administrator) opens it and approves;
   Fortnox redirects the browser to ``[fortnox] redirect_uri`` on 127.0.0.1,
   where a one-shot listener takes the code, if the state is the one sent.
3. The code is exchanged for the tokens, which are saved (tokens.py).

The listener answers only on 127.0.0.1, serves one redirect and stops; a
redirect with another state (a page trying to slip its own code in) is
refused and ends the login.
"""

from __future__ import annotations

import secrets
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, HTTPServer
from urllib.parse import parse_qs, quote, urlencode, urlsplit

from ledger_export.core.errors import FortnoxAuthError
from ledger_export.fortnox.auth import TokenEndpoint
from ledger_export.fortnox.tokens import TokenSet, TokenStore

LOGIN_TIMEOUT = 600.0  # Fortnox's authorization code itself lives ten minutes


def new_state() -> str:
    return secrets.token_urlsafe(24)


def authorize_url(auth_url: str, client_id: str, redirect_uri: str, scopes: Sequence[str], state: str, *,
                  service_account: bool = False) -> str:
    query = {"client_id": client_id, "redirect_uri": redirect_uri, "scope": " ".join(scopes), "state": state,
             "access_type": "offline", "response_type": "code"}
    if service_account:
        query["account_type"] = "service"
    # Spaces as %20, as Fortnox's documentation writes the scope list.
    return f"{auth_url.rstrip('/')}/auth?{urlencode(query, quote_via=quote)}"


@dataclass
class _Outcome:
    code: str | None = None
    problem: str | None = None
    done: threading.Event = field(default_factory=threading.Event)


class RedirectListener:
    """A one-shot HTTP listener on 127.0.0.1 for the redirect at ``redirect_uri``."""

    def __init__(self, redirect_uri: str, state: str):
        parts = urlsplit(redirect_uri)
        if parts.hostname != "127.0.0.1" or parts.port is None:
            raise ValueError("the redirect URI must be http://127.0.0.1:<port>/<path>")
        self.path = parts.path or "/"
        self.state = state
        self.outcome = _Outcome()
        outcome, path, expected = self.outcome, self.path, state

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - http.server's name
                url = urlsplit(self.path)
                if url.path != path or outcome.done.is_set():
                    self._answer(404, "Not the page ledger-export is waiting on.")
                    return
                query = {k: v[0] for k, v in parse_qs(url.query).items()}
                if query.get("state") != expected:
                    outcome.problem = ("the redirect carried another state than the one sent: refused (it did "
                                       "not come from this login); run `ledger-export fortnox login` again")
                    self._answer(400, "Refused: this answer does not belong to the login ledger-export started.")
                elif "error" in query:
                    said = " ".join(f"{query['error']}: {query.get('error_description', '')}".split())[:200]
                    outcome.problem = f"Fortnox did not authorize ledger-export ({said})"
                    self._answer(400, "Fortnox did not authorize ledger-export; see the terminal.")
                elif not query.get("code"):
                    outcome.problem = "Fortnox's redirect carried no authorization code"
                    self._answer(400, "No authorization code in this answer; see the terminal.")
                else:
                    outcome.code = query["code"]
                    self._answer(200, "ledger-export is authorized. You may close this page.")
                outcome.done.set()

            def _answer(self, status: int, text: str) -> None:
                body = f"<!doctype html><meta charset=utf-8><title>ledger-export</title><p>{text}</p>\n".encode()
                self.send_response(status)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: object) -> None:  # noqa: A002
                pass  # the query holds the code: it goes to no log

        try:
            self.server = HTTPServer(("127.0.0.1", parts.port), Handler)
        except OSError as exc:
            raise FortnoxAuthError(f"cannot listen on 127.0.0.1:{parts.port} for Fortnox's redirect "
                                   f"({exc.strerror or exc}): free the port or change [fortnox] redirect_uri "
                                   f"(and the app's redirect URI in Fortnox's developer portal)") from None
        self.server.timeout = 0.2

    @property
    def port(self) -> int:
        return int(self.server.server_address[1])

    def wait(self, timeout: float = LOGIN_TIMEOUT, clock: Callable[[], float] = time.monotonic) -> str:
        """The authorization code, once the redirect came; FortnoxAuthError when refused or out of time."""
        ends = clock() + timeout
        try:
            while not self.outcome.done.is_set():
                if clock() > ends:
                    raise FortnoxAuthError(f"no answer from Fortnox within {timeout:g} s: run "
                                           f"`ledger-export fortnox login` again and approve in the browser")
                self.server.handle_request()
        finally:
            self.server.server_close()
        if self.outcome.problem is not None or self.outcome.code is None:
            raise FortnoxAuthError(self.outcome.problem or "Fortnox's redirect carried no authorization code")
        return self.outcome.code


def login(endpoint: TokenEndpoint, store: TokenStore, *, auth_url: str, redirect_uri: str, scopes: Sequence[str],
          say: Callable[[str], None], service_account: bool = False, timeout: float = LOGIN_TIMEOUT) -> TokenSet:
    """Run the whole flow; the tokens are saved before this returns them."""
    state = new_state()
    listener = RedirectListener(redirect_uri, state)
    say("Open this address in a browser and approve ledger-export in Fortnox:")
    say(authorize_url(auth_url, endpoint.credentials.client_id, redirect_uri, scopes, state,
                      service_account=service_account))
    say(f"Waiting for Fortnox's answer on {redirect_uri} ...")
    code = listener.wait(timeout)
    tokens = endpoint.exchange_code(code, redirect_uri)
    with store.locked():
        store.save(tokens)
    return tokens
