"""The sandbox's authentication, media route and test hooks, over real HTTP."""

from __future__ import annotations

import time

import jwt
import pytest
import requests
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from ledger_export.amili import timestamps
from ledger_export.core.resources import SAMPLES

CREDENTIALS_ERROR = {"_status": "ERR", "_error": {"code": 401, "message": "Please provide proper credentials"}}
PRIVATE_KEY = (SAMPLES / "keys" / "sandbox-creditor-es512.pem").read_bytes()


def signed(claims: dict, key: bytes = PRIVATE_KEY, algorithm: str = "ES512") -> str:
    return jwt.encode(claims, key, algorithm=algorithm)


def fresh_claims(code: str) -> dict:
    return {"api_code": code, "exp": int(time.time()) + 600}


def payouts(sandbox, key: str | None) -> requests.Response:
    headers = {"X-API-Key": key} if key is not None else {}
    return requests.get(f"{sandbox.base_url}/finance--payouts", headers=headers, timeout=5)


@pytest.mark.parametrize("key", [None, "", "not-a-key"])
def test_missing_or_unknown_key_gets_eves_401_body(sandbox, key):
    response = payouts(sandbox, key)
    assert response.status_code == 401
    assert response.json() == CREDENTIALS_ERROR


def test_static_key_is_accepted_and_binds_localhost_only(sandbox):
    assert sandbox.base_url.startswith("http://127.0.0.1:")
    assert payouts(sandbox, sandbox.api_key).status_code == 200


def test_api_code_get_with_signed_jwt_issues_a_working_token(sandbox):
    response = requests.get(f"{sandbox.base_url}/authenticates/api-code",
                            headers={"X-API-Key": signed(fresh_claims(sandbox.api_code))}, timeout=5)
    assert response.status_code == 200
    body = response.json()
    assert body["_status"] == "OK"
    assert timestamps.parse(body["expires"]).timestamp() > time.time() + 3000
    assert payouts(sandbox, body["token"]).status_code == 200


def test_api_code_post_issues_a_token(sandbox):
    response = requests.post(f"{sandbox.base_url}/authenticates/api-code",
                             json={"api_code": sandbox.api_code}, timeout=5)
    assert response.status_code == 200
    assert payouts(sandbox, response.json()["token"]).status_code == 200


@pytest.mark.parametrize("case", ["wrong code", "expired", "other key", "no exp", "not a jwt"])
def test_api_code_get_refuses_bad_jwts(sandbox, case):
    other = ec.generate_private_key(ec.SECP521R1()).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    token = {
        "wrong code": lambda: signed(fresh_claims("guess")),
        "expired": lambda: signed({"api_code": sandbox.api_code, "exp": int(time.time()) - 5}),
        "other key": lambda: signed(fresh_claims(sandbox.api_code), key=other),
        "no exp": lambda: signed({"api_code": sandbox.api_code}),
        "not a jwt": lambda: "sandbox-api-code",
    }[case]()
    response = requests.get(f"{sandbox.base_url}/authenticates/api-code", headers={"X-API-Key": token}, timeout=5)
    assert response.status_code == 401
    assert response.json() == CREDENTIALS_ERROR


@pytest.mark.parametrize("body", [{"api_code": "guess"}, {}, None])
def test_api_code_post_refuses_wrong_code(sandbox, body):
    response = requests.post(f"{sandbox.base_url}/authenticates/api-code", json=body, timeout=5)
    assert response.status_code == 401
    assert response.json() == CREDENTIALS_ERROR


@pytest.mark.parametrize("algorithm", ["ES256", "RS256", "RS512"])
def test_api_code_accepts_other_documented_algorithms(sandbox_factory, tmp_path, algorithm):
    private = (ec.generate_private_key(ec.SECP256R1()) if algorithm.startswith("ES")
               else rsa.generate_private_key(public_exponent=65537, key_size=2048))
    public_file = tmp_path / "creditor.pub.pem"
    public_file.write_bytes(private.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo))
    sandbox = sandbox_factory(public_key_file=public_file)
    pem = private.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
    response = requests.get(f"{sandbox.base_url}/authenticates/api-code",
                            headers={"X-API-Key": signed(fresh_claims(sandbox.api_code), pem, algorithm)}, timeout=5)
    assert response.status_code == 200


def test_expired_token_gets_401_and_a_new_login_works(sandbox):
    token = sandbox.issue_token()
    assert payouts(sandbox, token).status_code == 200
    sandbox.expire_tokens()
    response = payouts(sandbox, token)
    assert response.status_code == 401 and response.json() == CREDENTIALS_ERROR
    assert payouts(sandbox, sandbox.api_key).status_code == 200
    assert payouts(sandbox, sandbox.issue_token()).status_code == 200


def test_token_lifetime_is_configurable(sandbox_factory):
    sandbox = sandbox_factory(token_ttl=-1)
    response = requests.post(f"{sandbox.base_url}/authenticates/api-code",
                             json={"api_code": sandbox.api_code}, timeout=5)
    assert response.status_code == 200
    assert payouts(sandbox, response.json()["token"]).status_code == 401


def test_media_download_is_the_sample_pdf(sandbox):
    headers = {"X-API-Key": sandbox.api_key}
    items = requests.get(f"{sandbox.base_url}/finance--payouts", headers=headers, timeout=5,
                         params={"where": '{"finance_category": "creditor_commission"}'}).json()["_items"]
    document = items[0]["document"]
    response = requests.get(f"{sandbox.base_url}/media/{document['file']}", headers=headers, timeout=5)
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/pdf"
    assert response.content == (SAMPLES / "amili" / "media" / f"{document['file']}.pdf").read_bytes()
    assert len(response.content) == document["length"]


def test_media_needs_a_key_and_unknown_file_is_eves_404(sandbox):
    missing = requests.get(f"{sandbox.base_url}/media/000000000000000000000000",
                           headers={"X-API-Key": sandbox.api_key}, timeout=5)
    assert missing.status_code == 404
    assert missing.json()["_error"]["code"] == 404 and missing.json()["_status"] == "ERR"
    anonymous = requests.get(f"{sandbox.base_url}/media/000000000000000000000000", timeout=5)
    assert anonymous.status_code == 401 and anonymous.json() == CREDENTIALS_ERROR


def test_requests_are_recorded_and_callbacks_run_before_the_answer(sandbox):
    seen = []

    def hide_all_payouts(n, method, path):
        seen.append((n, method, path))
        sandbox.db["finance--payouts"].delete_many({})

    sandbox.on_request(hide_all_payouts)
    first = payouts(sandbox, sandbox.api_key).json()
    second = payouts(sandbox, sandbox.api_key).json()
    requests.post(f"{sandbox.base_url}/authenticates/api-code", json={"api_code": sandbox.api_code}, timeout=5)
    assert first["_meta"]["total"] == 20 and second["_meta"]["total"] == 0
    assert seen == [(1, "GET", "/finance--payouts"), (2, "GET", "/finance--payouts")]
    assert [(r.method, r.path, r.status) for r in sandbox.requests] == [
        ("GET", "/finance--payouts", 200), ("GET", "/finance--payouts", 200),
        ("POST", "/authenticates/api-code", 200)]
    assert sandbox.api_requests == 2


def test_each_sandbox_starts_from_fresh_data(sandbox_factory):
    first = sandbox_factory()
    first.db["finance--payouts"].delete_many({})
    second = sandbox_factory()
    assert second.db["finance--payouts"].count_documents({}) == 20
    assert second.port != first.port
