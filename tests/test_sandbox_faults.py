"""Each injected fault, as a plain requests client meets it."""

from __future__ import annotations

import json

import pytest
import requests

from ledger_export.sandbox import Faults

PAYMENT = {"creditor": "686e6ed854377058c2dd10bd", "invoice_number": "INV-1999-0001", "currency": "SEK",
           "amount": 50.0, "bank_transaction_date": "Mon, 16 Jun 2025 10:00:00 GMT", "origin": "creditor_system"}


def get(sandbox, path: str = "/finance--payouts") -> requests.Response:
    return requests.get(f"{sandbox.base_url}{path}", headers={"X-API-Key": sandbox.api_key}, timeout=5)


def statuses(sandbox, count: int) -> list[int]:
    return [get(sandbox).status_code for _ in range(count)]


def test_rate_limit_every_nth_request_with_retry_after(sandbox_factory):
    sandbox = sandbox_factory(faults=Faults(rate_limit_every=3, retry_after=2))
    assert statuses(sandbox, 5) == [200, 200, 429, 200, 200]
    limited = get(sandbox, "/finance--payout-specifications")  # the 6th, on another resource
    assert limited.status_code == 429 and limited.headers["Retry-After"] == "2"
    assert limited.json() == {"_status": "ERR", "_error": {"code": 429, "message": "Too many requests"}}


def test_retry_after_zero_is_allowed(sandbox_factory):
    sandbox = sandbox_factory(faults=Faults(rate_limit_every=1, retry_after=0))
    assert get(sandbox).headers["Retry-After"] == "0"


@pytest.mark.parametrize("status", [503, 500, 502])
def test_server_error_every_nth_request(sandbox_factory, status):
    sandbox = sandbox_factory(faults=Faults(server_error_every=2, server_error_status=status))
    responses = [get(sandbox) for _ in range(4)]
    assert [r.status_code for r in responses] == [200, status] * 2
    assert responses[1].json()["_error"]["code"] == status


def test_dropped_connection_is_a_connection_error(sandbox_factory):
    sandbox = sandbox_factory(faults=Faults(drop_every=2))
    assert get(sandbox).status_code == 200
    with pytest.raises(requests.exceptions.ConnectionError):
        get(sandbox)
    assert get(sandbox).status_code == 200
    assert [r.status for r in sandbox.requests] == [200, None, 200]


def test_truncated_body_is_an_incomplete_read(sandbox_factory):
    sandbox = sandbox_factory(faults=Faults(truncate_every=1))
    with pytest.raises(requests.exceptions.ChunkedEncodingError, match="IncompleteRead"):
        get(sandbox)


def test_garbage_is_a_200_whose_body_is_not_json(sandbox_factory):
    sandbox = sandbox_factory(faults=Faults(garbage_every=1))
    response = get(sandbox)
    assert response.status_code == 200
    with pytest.raises(json.JSONDecodeError):
        json.loads(response.text)


def test_faults_apply_to_post_and_a_refused_post_is_not_stored(sandbox_factory):
    sandbox = sandbox_factory(faults=Faults(server_error_every=1))
    response = requests.post(f"{sandbox.base_url}/creditor--payments", json=PAYMENT,
                             headers={"X-API-Key": sandbox.api_key}, timeout=5)
    assert response.status_code == 503
    assert sandbox.db["creditor--payments"].count_documents({}) == 7


def test_a_dropped_post_was_still_stored(sandbox_factory):
    # The network lost the answer, not the request: the client cannot know.
    sandbox = sandbox_factory(faults=Faults(drop_every=1))
    with pytest.raises(requests.exceptions.ConnectionError):
        requests.post(f"{sandbox.base_url}/creditor--payments", json=PAYMENT,
                      headers={"X-API-Key": sandbox.api_key}, timeout=5)
    assert sandbox.db["creditor--payments"].count_documents({}) == 8


def test_login_and_media_counting(sandbox_factory):
    sandbox = sandbox_factory(faults=Faults(server_error_every=2))
    for _ in range(3):
        login = requests.post(f"{sandbox.base_url}/authenticates/api-code",
                              json={"api_code": sandbox.api_code}, timeout=5)
        assert login.status_code == 200  # logins are never faulted nor counted
    assert get(sandbox, "/media/000000000000000000000000").status_code == 404
    assert get(sandbox, "/media/000000000000000000000000").status_code == 503
    assert sandbox.api_requests == 2


def test_faults_change_at_run_time_and_the_count_restarts(sandbox):
    assert statuses(sandbox, 2) == [200, 200]
    sandbox.set_faults(Faults(server_error_every=2))
    assert statuses(sandbox, 2) == [200, 503]
    sandbox.set_faults(Faults())
    assert statuses(sandbox, 2) == [200, 200]


def test_latency_setting_is_applied_per_request(sandbox_factory, monkeypatch):
    import ledger_export.sandbox.faults as faults_module

    slept = []
    monkeypatch.setattr(faults_module.time, "sleep", slept.append)
    sandbox = sandbox_factory(faults=Faults(latency=0.25))
    statuses(sandbox, 2)
    assert slept == [0.25, 0.25]


def test_negative_fault_settings_are_refused():
    with pytest.raises(ValueError, match="drop_every"):
        Faults(drop_every=-1)
