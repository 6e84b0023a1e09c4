"""Token providers: the API-code flow, ready tokens, choosing between them, and keeping secrets secret."""

from __future__ import annotations

import logging
import threading
import time

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from ledger_export.amili.auth import ApiCodeToken, StaticToken, find_token, token_provider
from ledger_export.amili.retry import RetryPolicy
from ledger_export.amili.settings import AmiliSettings
from ledger_export.core.errors import AuthenticationError, ConfigError, ResponseFormatError
from support.http_fakes import BASE, ScriptedAdapter, sequence

API_CODE = "code-0f9e8d7c"
NOW = 1_750_000_000


def pem(key, password: bytes | None = None) -> bytes:
    encryption = (serialization.BestAvailableEncryption(password) if password
                  else serialization.NoEncryption())
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption)


@pytest.fixture(scope="module")
def es512_key():
    return ec.generate_private_key(ec.SECP521R1())


@pytest.fixture(scope="module")
def rsa_key():
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


class AuthEndpoint:
    """GET /authenticates/api-code: checks the signed request, issues tokens tok-1, tok-2, ..."""

    def __init__(self, public_key, algorithm="ES512", answer=None):
        self.public_key = public_key
        self.algorithm = algorithm
        self.answer = answer
        self.claims: list[dict] = []
        self.issued = 0
        self.lock = threading.Lock()

    def __call__(self, request):
        assert request.method == "GET" and request.url == f"{BASE}/authenticates/api-code"
        try:
            claims = jwt.decode(request.headers["X-API-Key"], self.public_key, algorithms=[self.algorithm],
                                options={"verify_exp": False})
        except jwt.PyJWTError:
            return 401, {"_status": "ERR", "_error": {"code": 401, "message": "Please provide proper credentials"}}
        if claims["api_code"] != API_CODE:
            return 401, {"_status": "ERR"}
        with self.lock:
            self.claims.append(claims)
            self.issued += 1
            n = self.issued
        time.sleep(0.01)  # widen the window for the concurrency test
        return 200, self.answer if self.answer is not None else {"_status": "OK", "token": f"tok-{n}"}


def provider(key, endpoint, algorithm="ES512", **options):
    adapter = ScriptedAdapter(endpoint)
    session = adapter.session_factory()()
    tokens = ApiCodeToken(BASE, API_CODE, pem(key), algorithm, session=session, clock=lambda: NOW,
                          retry=RetryPolicy(sleep=lambda s: None), **options)
    return tokens, adapter


def test_api_code_flow_signs_a_ten_minute_jwt_and_reads_the_token(es512_key):
    endpoint = AuthEndpoint(es512_key.public_key())
    tokens, adapter = provider(es512_key, endpoint)
    assert tokens.token() == "tok-1"
    assert tokens.token() == "tok-1"  # kept, not fetched again
    assert endpoint.claims == [{"api_code": API_CODE, "exp": NOW + 600}]
    assert jwt.get_unverified_header(adapter.requests[0].headers["X-API-Key"])["alg"] == "ES512"
    assert tokens.requests_made == 1


def test_rs256_keys_are_accepted(rsa_key):
    tokens, _ = provider(rsa_key, AuthEndpoint(rsa_key.public_key(), "RS256"), "RS256")
    assert tokens.token() == "tok-1"


def test_refresh_fetches_a_new_token(es512_key):
    tokens, _ = provider(es512_key, AuthEndpoint(es512_key.public_key()))
    assert tokens.token() == "tok-1"
    assert tokens.refresh() is True
    assert tokens.token() == "tok-2"


def test_concurrent_refreshes_of_the_same_stale_token_make_one_request(es512_key):
    endpoint = AuthEndpoint(es512_key.public_key())
    tokens, adapter = provider(es512_key, endpoint)
    stale = tokens.token()
    threads = [threading.Thread(target=tokens.refresh, args=(stale,)) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert endpoint.issued == 2 and tokens.token() == "tok-2"


@pytest.mark.parametrize("answer", [
    {"token": "abc"},
    {"access_token": "abc", "token_type": "bearer"},
    {"api_key": "abc"},
    {"_token": "abc"},
    {"Token": "abc"},
    {"_status": "OK", "data": {"accessToken": "abc"}},
    {"_items": [{"token": "abc"}]},
    "abc",
])
def test_the_token_is_found_in_any_plausible_answer_shape(answer):
    assert find_token(answer) == "abc"


@pytest.mark.parametrize("answer", [{}, {"_status": "OK", "_id": "x"}, {"token": ""}, {"token": 5}, [], None])
def test_answers_without_a_token(answer):
    assert find_token(answer) is None


def test_an_answer_without_a_token_is_an_authentication_error_naming_fields_not_values(es512_key):
    endpoint = AuthEndpoint(es512_key.public_key(), answer={"_status": "OK", "secret_thing": "s3cr3t"})
    tokens, _ = provider(es512_key, endpoint)
    with pytest.raises(AuthenticationError) as err:
        tokens.token()
    assert "no access token" in str(err.value) and "secret_thing" in str(err.value)
    assert "s3cr3t" not in str(err.value)


def test_a_refused_api_code_says_so_without_showing_any_secret(es512_key, caplog):
    caplog.set_level(logging.DEBUG)
    other_key = ec.generate_private_key(ec.SECP521R1())
    tokens, adapter = provider(other_key, AuthEndpoint(es512_key.public_key()))
    with pytest.raises(AuthenticationError) as err:
        tokens.token()
    message = str(err.value)
    assert "refused the API code" in message and "(401)" in message
    signed = adapter.requests[0].headers["X-API-Key"]
    everything = message + repr(err.value) + repr(tokens) + "\n".join(caplog.messages)
    for secret in (API_CODE, signed, pem(other_key).decode()):
        assert secret not in everything
    assert caplog.messages  # the request was logged, just without secrets


def test_the_token_endpoint_is_retried_when_busy(es512_key):
    endpoint = AuthEndpoint(es512_key.public_key())
    calls = sequence((503, {}, {"Retry-After": "0"}), None)

    def handler(request):
        answer = calls(request)
        return answer if answer is not None else endpoint(request)

    tokens, adapter = provider(es512_key, handler)
    assert tokens.token() == "tok-1"
    assert tokens.requests_made == 2


def test_reprs_are_redacted(es512_key):
    assert repr(StaticToken("k-123")) == "StaticToken(<redacted>)"
    tokens, _ = provider(es512_key, AuthEndpoint(es512_key.public_key()))
    tokens.token()
    text = repr(tokens) + str(tokens)
    assert API_CODE not in text and "tok-1" not in text and "<redacted>" in text


def test_a_static_token_cannot_refresh():
    t = StaticToken("k-123")
    assert t.token() == "k-123" and t.refresh() is False and t.refresh("k-123") is False


@pytest.mark.parametrize("algorithm", ["ES256", "RS512"])
def test_a_key_that_does_not_fit_the_algorithm_is_a_config_error(es512_key, algorithm):
    with pytest.raises(ConfigError, match=algorithm):
        ApiCodeToken(BASE, API_CODE, pem(es512_key), algorithm)


# -- choosing a provider from the settings ------------------------------------------------


def settings(tmp_path, key=None, **fields) -> AmiliSettings:
    if key is not None:
        path = tmp_path / "creditor.pem"
        path.write_bytes(key)
        fields["private_key_file"] = str(path)
    return AmiliSettings(base_url=BASE, **fields)


def test_the_api_code_flow_is_chosen_when_key_file_and_code_are_there(tmp_path, es512_key):
    s = settings(tmp_path, pem(es512_key))
    chosen = token_provider(s, {"AMILI_API_CODE": API_CODE, "AMILI_API_KEY": "k-123"})
    assert isinstance(chosen, ApiCodeToken)


def test_a_ready_token_is_used_otherwise(tmp_path):
    chosen = token_provider(settings(tmp_path, api_key_env="MY_KEY"), {"MY_KEY": "k-123"})
    assert isinstance(chosen, StaticToken) and chosen.token() == "k-123"


def test_no_credentials_names_the_variables_to_set(tmp_path):
    with pytest.raises(ConfigError) as err:
        token_provider(settings(tmp_path), {"AMILI_API_KEY": "  "})
    assert "AMILI_API_KEY" in str(err.value) and "AMILI_API_CODE" in str(err.value)


def test_a_key_file_without_an_api_code_asks_for_the_code(tmp_path, es512_key):
    with pytest.raises(ConfigError, match="AMILI_API_CODE is empty"):
        token_provider(settings(tmp_path, pem(es512_key)), {})


def test_a_missing_key_file_is_named(tmp_path):
    s = AmiliSettings(private_key_file=str(tmp_path / "nope.pem"))
    with pytest.raises(ConfigError) as err:
        token_provider(s, {"AMILI_API_CODE": API_CODE})
    assert "nope.pem" in str(err.value) and API_CODE not in str(err.value)


@pytest.mark.parametrize("content, problem", [
    (b"not a key", "not a PEM private key"),
    (None, "encrypted"),
])
def test_an_unusable_key_file_is_named(tmp_path, es512_key, content, problem):
    content = content if content is not None else pem(es512_key, b"pass")
    s = settings(tmp_path, content)
    with pytest.raises(ConfigError, match=problem) as err:
        token_provider(s, {"AMILI_API_CODE": API_CODE})
    assert "creditor.pem" in str(err.value)


def test_a_plain_text_token_answer_is_accepted(es512_key):
    answer = (200, b"eyJhbGciOi.payload-part.sig_NATURE\n", {"Content-Type": "text/plain"})
    tokens, _ = provider(es512_key, sequence(answer))
    assert tokens.token() == "eyJhbGciOi.payload-part.sig_NATURE"


def test_an_answer_that_is_neither_json_nor_a_token_is_a_format_error(es512_key):
    tokens, _ = provider(es512_key, sequence((200, b"<html>login</html>", {"Content-Type": "text/html"})))
    with pytest.raises(ResponseFormatError, match="neither JSON nor a token"):
        tokens.token()
