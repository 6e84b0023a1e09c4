"""Fortnox auth: client credentials, rotating refresh tokens on disk (0600, atomic, new before use), login, no secrets shown."""

from __future__ import annotations

import base64
import json
import os
import stat
import threading
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from ledger_export.core import files
from ledger_export.core.errors import ConfigError, FortnoxAuthError, FortnoxOutcomeUnknownError
from ledger_export.core.settings import Table
from ledger_export.fortnox import api
from ledger_export.fortnox.auth import (Credentials, RefreshingTokens, ServiceAccountTokens, TokenEndpoint,
                                        access_tokens, credentials_from_env)
from ledger_export.fortnox.login import RedirectListener, authorize_url, login
from ledger_export.fortnox.settings import read_fortnox
from ledger_export.fortnox.tokens import TokenSet, TokenStore
from support.fortnox_fakes import AUTH, FakeClock, fortnox_client, token_answer
from support.http_fakes import ScriptedAdapter, sequence

SECRET = "s3cret-Client-Secret"
CREDS = Credentials("client-id-1", SECRET)
COMPANY = (200, {"CompanyInformation": {"CompanyName": "Exempelbolaget AB", "OrganizationNumber": "556677-8899",
                                        "DatabaseNumber": "123456"}})


def endpoint(handler, clock: FakeClock | None = None) -> tuple[TokenEndpoint, ScriptedAdapter]:
    adapter = ScriptedAdapter(handler)
    clock = clock or FakeClock()
    from ledger_export.core.errors import FortnoxError, FortnoxUnavailableError
    from ledger_export.core.http import RetryPolicy
    return TokenEndpoint(AUTH, CREDS, session=adapter.session_factory()(), now=clock,
                         retry=RetryPolicy(sleep=clock.sleep, service="Fortnox", unavailable=FortnoxUnavailableError)
                         ), adapter


def form(request) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(request.body).items()}


def stored(path: Path, access: str = "old-access", refresh: str = "r1", expires_at: float = 0.0) -> TokenStore:
    store = TokenStore(path)
    store.save(TokenSet(access_token=access, refresh_token=refresh, expires_at=expires_at))
    return store


# -- client credentials -------------------------------------------------------------------------

def test_a_service_account_token_is_asked_with_basic_credentials_and_the_tenant_id():
    clock = FakeClock()
    ep, adapter = endpoint(sequence(token_answer("a1"), token_answer("a2")), clock)
    tokens = ServiceAccountTokens(ep, "123456", now=clock)
    assert tokens.token() == "a1"
    request = adapter.requests[0]
    assert request.url == f"{AUTH}/token"
    assert request.headers["Authorization"] == "Basic " + base64.b64encode(f"client-id-1:{SECRET}".encode()).decode()
    assert request.headers["TenantId"] == "123456"
    assert form(request) == {"grant_type": "client_credentials"}
    assert tokens.token() == "a1" and len(adapter.requests) == 1  # cached while fresh
    clock.advance(3600)
    assert tokens.token() == "a2"  # renewed near its end
    assert "bookkeeping" in tokens.scopes


def test_a_refused_tenant_names_the_setting_and_hides_the_secret():
    ep, _ = endpoint(sequence((400, {"error": "invalid_request", "error_description": f"bad client {SECRET}"})))
    with pytest.raises(FortnoxAuthError) as refused:
        ServiceAccountTokens(ep, "999", now=FakeClock()).token()
    assert "[fortnox] tenant_id" in str(refused.value)
    assert SECRET not in str(refused.value) and "\n" not in str(refused.value)


# -- rotating refresh tokens ----------------------------------------------------------------------

def test_the_new_refresh_token_is_on_disk_before_the_new_access_token_is_used(tmp_path):
    clock = FakeClock()
    path = tmp_path / "tokens.json"
    store = stored(path)
    ep, auth_adapter = endpoint(sequence(token_answer("a2", "r2")), clock)
    seen_on_disk: list[dict] = []

    def api_handler(request):
        # The moment the new access token reaches Fortnox, the file already holds its refresh token.
        seen_on_disk.append(json.loads(path.read_text()))
        assert request.headers["Authorization"] == "Bearer a2"
        return requests.ConnectionError("the answer is lost")

    client, _, _ = fortnox_client(api_handler, tokens=RefreshingTokens(ep, store, now=clock), clock=clock)
    with pytest.raises(FortnoxOutcomeUnknownError):
        client.post("vouchers", {})  # a failure after the token endpoint answered ...
    assert seen_on_disk[0]["refresh_token"] == "r2"
    assert TokenStore(path).load().refresh_token == "r2"  # ... leaves the new token on disk
    assert form(auth_adapter.requests[0]) == {"grant_type": "refresh_token", "refresh_token": "r1"}


def test_a_failed_save_stops_before_the_new_token_is_used(tmp_path, monkeypatch):
    clock = FakeClock()
    store = stored(tmp_path / "tokens.json")
    ep, _ = endpoint(sequence(token_answer("a2", "r2")), clock)

    def full_disk(kind, path):
        if kind == "write":
            raise OSError(28, "No space left on device")

    monkeypatch.setattr(files, "STEP_HOOK", full_disk)
    client, adapter, _ = fortnox_client(sequence(COMPANY), tokens=RefreshingTokens(ep, store, now=clock), clock=clock)
    with pytest.raises(FortnoxAuthError, match="No space left.*fortnox login") as failed:
        client.get("companyinformation")
    assert adapter.requests == []  # the new access token never went out
    assert "r2" not in str(failed.value) and "a2" not in str(failed.value)


def test_a_refused_refresh_says_to_log_in_again_in_one_line(tmp_path):
    clock = FakeClock()
    ep, _ = endpoint(sequence((400, {"error": "invalid_grant", "error_description": "Invalid refresh token"})), clock)
    tokens = RefreshingTokens(ep, stored(tmp_path / "t.json"), now=clock)
    with pytest.raises(FortnoxAuthError) as refused:
        tokens.token()
    message = str(refused.value)
    assert "run `ledger-export fortnox login` again" in message and "\n" not in message
    assert "r1" not in message


def test_a_fresh_stored_token_is_used_without_asking_fortnox(tmp_path):
    clock = FakeClock()
    ep, adapter = endpoint(sequence(token_answer("never")), clock)
    tokens = RefreshingTokens(ep, stored(tmp_path / "t.json", access="a1", expires_at=clock() + 1800), now=clock)
    assert tokens.token() == "a1" and adapter.requests == []


def test_a_401_rotates_once_and_the_rotation_is_stored(tmp_path):
    clock = FakeClock()
    path = tmp_path / "t.json"
    ep, _ = endpoint(sequence(token_answer("a2", "r2")), clock)
    tokens = RefreshingTokens(ep, stored(path, access="a1", expires_at=clock() + 1800), now=clock)
    client, adapter, _ = fortnox_client(sequence((401, {}), COMPANY), tokens=tokens, clock=clock)
    api.company_information(client)
    assert [r.headers["Authorization"] for r in adapter.requests] == ["Bearer a1", "Bearer a2"]
    assert TokenStore(path).load().refresh_token == "r2"


def test_the_environment_seeds_an_empty_store_and_is_ignored_once_the_store_holds_tokens(tmp_path):
    clock = FakeClock()
    path = tmp_path / "books" / "fortnox-tokens.json"
    ep, adapter = endpoint(sequence(token_answer("a1", "r2")), clock)
    assert RefreshingTokens(ep, TokenStore(path), seed="seed-r1", now=clock).token() == "a1"
    assert form(adapter.requests[0])["refresh_token"] == "seed-r1"
    assert TokenStore(path).load().refresh_token == "r2"
    ep2, adapter2 = endpoint(sequence(token_answer("a3", "r3")), clock)
    clock.advance(7200)
    RefreshingTokens(ep2, TokenStore(path), seed="seed-r1", now=clock).token()
    assert form(adapter2.requests[0])["refresh_token"] == "r2"  # the store's, not the spent seed


def test_no_tokens_and_no_seed_says_how_to_get_some(tmp_path):
    ep, adapter = endpoint(sequence(token_answer("x")))
    with pytest.raises(FortnoxAuthError, match="fortnox login.*FORTNOX_REFRESH_TOKEN.*tenant_id"):
        RefreshingTokens(ep, TokenStore(tmp_path / "none.json")).token()
    assert adapter.requests == []


# -- the token file ---------------------------------------------------------------------------------

def test_the_token_file_is_0600_from_its_creation_whatever_the_umask(tmp_path, monkeypatch):
    modes: list[int] = []

    def watch(kind, path):
        if kind == "write":
            (tmp,) = [p for p in path.parent.iterdir() if p.name.endswith(".tmp")]
            modes.append(stat.S_IMODE(tmp.stat().st_mode))

    monkeypatch.setattr(files, "STEP_HOOK", watch)
    old = os.umask(0)
    try:
        stored(tmp_path / "t.json")
    finally:
        os.umask(old)
    assert modes == [0o600]  # before a byte of the secret was written
    assert stat.S_IMODE((tmp_path / "t.json").stat().st_mode) == 0o600


@pytest.mark.parametrize("step", ["write", "fsync", "rename"])
def test_a_failed_write_leaves_the_old_file_whole_and_no_temporary_file(tmp_path, monkeypatch, step):
    path = tmp_path / "t.json"
    store = stored(path, refresh="r1")
    before = path.read_bytes()

    def fail(kind, p):
        if kind == step:
            raise OSError(5, "Input/output error")

    monkeypatch.setattr(files, "STEP_HOOK", fail)
    with pytest.raises(FortnoxAuthError, match=f"cannot write the Fortnox token file {path}"):
        store.save(TokenSet(access_token="a2", refresh_token="r2", expires_at=1.0))
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["t.json"]


def test_a_token_file_others_may_read_is_refused_not_quietly_fixed(tmp_path):
    path = tmp_path / "t.json"
    stored(path)
    path.chmod(0o644)
    with pytest.raises(FortnoxAuthError, match=r"may be read by others \(mode 0644\).*chmod 600.*fortnox login"):
        TokenStore(path).load()
    assert stat.S_IMODE(path.stat().st_mode) == 0o644


def test_a_symbolic_link_is_neither_read_nor_written_through(tmp_path):
    target = tmp_path / "elsewhere.json"
    stored(target)
    link = tmp_path / "t.json"
    link.symlink_to(target)
    with pytest.raises(FortnoxAuthError, match="symbolic link"):
        TokenStore(link).load()
    with pytest.raises(FortnoxAuthError, match="symbolic link"):
        TokenStore(link).save(TokenSet(access_token="a", refresh_token="r", expires_at=1.0))


def test_a_damaged_token_file_says_what_to_do(tmp_path):
    path = tmp_path / "t.json"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT, 0o600)
    os.write(fd, b"{not json")
    os.close(fd)
    with pytest.raises(FortnoxAuthError, match="not a token file ledger-export wrote.*fortnox login"):
        TokenStore(path).load()


def test_no_secret_is_in_any_repr(tmp_path):
    tokens = TokenSet(access_token="acc-SECRET", refresh_token="ref-SECRET", expires_at=1.0, scopes=frozenset({"x"}))
    ep, _ = endpoint(sequence(token_answer("a")))
    shown = " ".join(repr(o) for o in (tokens, CREDS, ep, RefreshingTokens(ep, TokenStore(tmp_path / "t"), seed="seed-SECRET"),
                                      ServiceAccountTokens(ep, "1")))
    for secret in ("acc-SECRET", "ref-SECRET", "seed-SECRET", SECRET):
        assert secret not in shown


# -- settings and environment ---------------------------------------------------------------------

def test_client_id_and_secret_come_from_the_environment_only():
    with pytest.raises(ConfigError, match="FORTNOX_CLIENT_ID and FORTNOX_CLIENT_SECRET"):
        credentials_from_env({})
    assert credentials_from_env({"FORTNOX_CLIENT_ID": "id", "FORTNOX_CLIENT_SECRET": SECRET}).client_secret == SECRET
    with pytest.raises(ConfigError, match=r"\[fortnox.client_secret\].*FORTNOX_CLIENT_SECRET") as refused:
        read_fortnox(Table({"client_secret": SECRET}, "fortnox", "books/ledger-export.toml"))
    assert SECRET not in str(refused.value)


def test_fortnox_settings_are_read_strictly_and_the_token_file_sits_beside_the_config(tmp_path):
    config = str(tmp_path / "books" / "ledger-export.toml")
    s = read_fortnox(Table({"series": "L", "settle_invoices": True, "mode_of_payment": "AM",
                            "invoice_match": {"amili": "reference_number", "fortnox": "OCR"}}, "fortnox", config))
    assert s.token_file == str(tmp_path / "books" / "fortnox-tokens.json")
    assert s.invoice_match.fortnox == "OCR" and s.base_url == "https://api.fortnox.se"
    assert {"invoice", "payment", "settings", "bookkeeping", "inbox", "connectfile"} <= set(s.needed_scopes())
    with pytest.raises(ConfigError, match=r"\[fortnox.invoice_match.fortnox\] must be one of"):
        read_fortnox(Table({"invoice_match": {"fortnox": "InvoiceNumber"}}, "fortnox", config))
    with pytest.raises(ConfigError, match=r"\[fortnox.serie\] is not a known setting"):
        read_fortnox(Table({"serie": "A"}, "fortnox", config))
    with pytest.raises(ConfigError, match=r"\[fortnox.redirect_uri\] must be http://127.0.0.1"):
        read_fortnox(Table({"redirect_uri": "https://example.com/cb"}, "fortnox", config))


def test_the_provider_follows_the_settings(tmp_path):
    env = {"FORTNOX_CLIENT_ID": "id", "FORTNOX_CLIENT_SECRET": SECRET}
    base = read_fortnox(Table({}, "fortnox", str(tmp_path / "c.toml")))
    assert isinstance(access_tokens(base, environ=env), RefreshingTokens)
    service = read_fortnox(Table({"tenant_id": "123456"}, "fortnox", str(tmp_path / "c.toml")))
    assert isinstance(access_tokens(service, environ=env), ServiceAccountTokens)


# -- login -----------------------------------------------------------------------------------------

def test_the_authorization_url_carries_what_fortnox_documents():
    url = authorize_url("https://apps.fortnox.se/oauth-v1", "cid", "http://127.0.0.1:8710/fortnox/callback",
                        ["bookkeeping", "inbox"], "st4te", service_account=True)
    parts = urlsplit(url)
    assert parts.path == "/oauth-v1/auth" and "scope=bookkeeping%20inbox" in parts.query
    q = {k: v[0] for k, v in parse_qs(parts.query).items()}
    assert q == {"client_id": "cid", "redirect_uri": "http://127.0.0.1:8710/fortnox/callback",
                 "scope": "bookkeeping inbox", "state": "st4te", "access_type": "offline", "response_type": "code",
                 "account_type": "service"}


def _hit_later(url: str, answers: list) -> threading.Thread:
    def go():
        answers.append(requests.get(url, timeout=5))
    thread = threading.Thread(target=go)
    thread.start()
    return thread


def test_the_listener_takes_the_code_from_a_real_redirect():
    listener = RedirectListener("http://127.0.0.1:0/fortnox/callback", "good-state")
    got: list = []
    waiting = threading.Thread(target=lambda: got.append(listener.wait(timeout=10)))
    waiting.start()
    base = f"http://127.0.0.1:{listener.port}"
    stray = requests.get(f"{base}/favicon.ico", timeout=5)  # a browser's extra request does not end the login
    answer = requests.get(f"{base}/fortnox/callback?code=the-code&state=good-state", timeout=5)
    waiting.join()
    assert (stray.status_code, answer.status_code) == (404, 200)
    assert got == ["the-code"]


def test_the_listener_refuses_a_redirect_with_another_state():
    listener = RedirectListener("http://127.0.0.1:0/cb", "good-state")
    answers: list = []
    thread = _hit_later(f"http://127.0.0.1:{listener.port}/cb?code=planted&state=evil", answers)
    with pytest.raises(FortnoxAuthError, match="another state") as refused:
        listener.wait(timeout=10)
    thread.join()
    assert answers[0].status_code == 400
    assert "planted" not in str(refused.value)


def test_the_listener_reports_a_denied_authorization():
    listener = RedirectListener("http://127.0.0.1:0/cb", "s")
    answers: list = []
    thread = _hit_later(f"http://127.0.0.1:{listener.port}/cb?error=access_denied&state=s", answers)
    with pytest.raises(FortnoxAuthError, match="did not authorize.*access_denied"):
        listener.wait(timeout=10)
    thread.join()


def test_login_exchanges_the_code_and_stores_the_tokens(tmp_path):
    ep, adapter = endpoint(sequence(token_answer("a1", "r1")))
    store = TokenStore(tmp_path / "t.json")
    # Port 0 cannot be a registered redirect URI, but lets the test find a free port: read it from the listener.
    said: list[str] = []
    answers: list = []

    def say(line: str) -> None:
        said.append(line)
        if line.startswith(AUTH):
            q = {k: v[0] for k, v in parse_qs(urlsplit(line).query).items()}
            port = urlsplit(q["redirect_uri"]).port
            _hit_later(f"http://127.0.0.1:{port}/cb?code=c0de&state={q['state']}", answers)

    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    tokens = login(ep, store, auth_url=AUTH, redirect_uri=f"http://127.0.0.1:{port}/cb", scopes=["bookkeeping"],
                   say=say, timeout=10)
    assert tokens.refresh_token == "r1"
    assert store.load().refresh_token == "r1"
    assert form(adapter.requests[0]) == {"grant_type": "authorization_code", "code": "c0de",
                                         "redirect_uri": f"http://127.0.0.1:{port}/cb"}
    assert not any("r1" in line or "a1" in line for line in said)
