"""Retries: which failures are retried, how long the client waits, and when it stops."""

from __future__ import annotations


import pytest
import requests

from ledger_export.amili.client import AmiliClient
from ledger_export.amili.retry import retry_after_seconds
from ledger_export.core.errors import OutcomeUnknownError, ResponseFormatError, ServiceUnavailableError
from support.http_fakes import BASE, ScriptedAdapter, scripted_client, sequence

OK = (200, {"ok": True})


def client(handler, **options) -> tuple[AmiliClient, ScriptedAdapter, list[float]]:
    sleeps: list[float] = []
    c, adapter = scripted_client(handler, seed=7, sleeps=sleeps, **options)
    return c, adapter, sleeps


@pytest.mark.parametrize("status", [429, 500, 502, 503, 504])
def test_get_is_retried_on_temporary_statuses(status):
    c, adapter, sleeps = client(sequence((status, {}), (status, {}), OK))
    assert c.get_json("finance--payouts") == {"ok": True}
    assert len(adapter.requests) == 3
    assert len(sleeps) == 2
    assert c.requests_made == 3


@pytest.mark.parametrize("failure", [
    requests.ConnectionError("connection reset"),
    requests.exceptions.ChunkedEncodingError("body cut short"),
    requests.ReadTimeout("read timed out"),
    requests.ConnectTimeout("connect timed out"),
])
def test_get_is_retried_after_failures_in_transit(failure):
    c, adapter, sleeps = client(sequence(failure, OK))
    assert c.get_json("finance--payouts") == {"ok": True}
    assert len(adapter.requests) == 2 and len(sleeps) == 1


def test_back_off_grows_exponentially_with_jitter():
    c, adapter, sleeps = client(sequence((503, {})), max_retries=5, max_wait=1000)
    with pytest.raises(ServiceUnavailableError):
        c.get_json("x")
    assert len(sleeps) == 5
    for n, delay in enumerate(sleeps):
        step = 0.5 * 2 ** n
        assert step / 2 <= delay <= step
    assert len(set(sleeps)) == 5


def test_retry_after_in_seconds_is_honoured():
    c, _, sleeps = client(sequence((429, {}, {"Retry-After": "7"}), OK))
    c.get_json("x")
    assert sleeps == [7.0]


def test_retry_after_as_http_date_is_measured_from_the_server_date():
    headers = {"Date": "Fri, 13 Jun 2025 08:00:00 GMT", "Retry-After": "Fri, 13 Jun 2025 08:00:30 GMT"}
    c, _, sleeps = client(sequence((503, {}, headers), OK))
    c.get_json("x")
    assert sleeps == [30.0]


def test_retry_after_beyond_the_budget_fails_at_once():
    c, adapter, sleeps = client(sequence((429, {}, {"Retry-After": "600"}), OK), max_wait=120)
    with pytest.raises(ServiceUnavailableError) as err:
        c.get_json("finance--payouts")
    assert sleeps == [] and len(adapter.requests) == 1
    message = str(err.value)
    assert "600 s" in message and "120 s" in message and "finance--payouts" in message
    assert err.value.status == 429


def test_retries_stop_after_max_retries():
    c, adapter, sleeps = client(sequence((503, {})), max_retries=3)
    with pytest.raises(ServiceUnavailableError) as err:
        c.get_json("finance--payouts", {"page": 2})
    assert len(adapter.requests) == 4 and len(sleeps) == 3
    assert "after 4 attempt(s)" in str(err.value) and "503" in str(err.value)
    assert err.value.url == f"{BASE}/finance--payouts"


def test_total_sleep_stays_within_max_wait():
    c, adapter, sleeps = client(sequence((503, {})), max_retries=100, max_wait=5)
    with pytest.raises(ServiceUnavailableError):
        c.get_json("x")
    assert sum(sleeps) <= 5
    assert len(adapter.requests) <= 101


def test_no_retries_when_max_retries_is_zero():
    c, adapter, sleeps = client(sequence(requests.ConnectionError("reset")), max_retries=0)
    with pytest.raises(ServiceUnavailableError, match="ConnectionError"):
        c.get_json("x")
    assert len(adapter.requests) == 1 and sleeps == []


def test_a_json_body_cut_short_is_read_again():
    cut = (200, b'{"_items": [{"_id": "a"', {"Content-Type": "application/json"})
    c, adapter, _ = client(sequence(cut, OK))
    assert c.get_json("x") == {"ok": True}
    assert len(adapter.requests) == 2


def test_a_body_that_never_parses_is_a_format_error_naming_url_and_status():
    c, adapter, _ = client(sequence((200, b"{not json", {"Content-Type": "application/json"})), max_retries=2)
    with pytest.raises(ResponseFormatError) as err:
        c.get_json("finance--payouts")
    assert len(adapter.requests) == 3
    assert "finance--payouts" in str(err.value) and "(200)" in str(err.value)
    assert err.value.status == 200


def test_an_html_page_is_not_retried():
    c, adapter, _ = client(sequence((200, b"<html>Welcome</html>", {"Content-Type": "text/html"})))
    with pytest.raises(ResponseFormatError, match="text/html"):
        c.get_json("x")
    assert len(adapter.requests) == 1


def test_a_post_lost_in_transit_is_never_resent():
    c, adapter, sleeps = client(sequence(requests.ConnectionError("reset"), (201, {"_status": "OK"})))
    with pytest.raises(OutcomeUnknownError) as err:
        c.post_json("creditor--payments", {"amount": 1})
    assert len(adapter.requests) == 1 and sleeps == []
    assert "may or may not" in str(err.value) and "POST" in str(err.value)


def test_a_post_answered_503_is_never_resent():
    c, adapter, _ = client(sequence((503, {}), (201, {"_status": "OK"})))
    with pytest.raises(OutcomeUnknownError, match="may or may not"):
        c.post_json("creditor--payments", {"amount": 1})
    assert len(adapter.requests) == 1


def test_a_rate_limited_post_says_it_was_not_registered():
    c, adapter, _ = client(sequence((429, {}, {"Retry-After": "1"}), (201, {"_status": "OK"})))
    with pytest.raises(ServiceUnavailableError, match="not registered") as err:
        c.post_json("creditor--payments", {"amount": 1})
    assert not isinstance(err.value, OutcomeUnknownError)
    assert len(adapter.requests) == 1


def test_a_permanent_server_error_is_not_retried():
    c, adapter, _ = client(sequence((501, {"_error": {"message": "not implemented"}})))
    with pytest.raises(ServiceUnavailableError, match="501"):
        c.get_json("x")
    assert len(adapter.requests) == 1


@pytest.mark.parametrize("value, expected", [
    ("0", 0.0),
    ("12", 12.0),
    ("Fri, 13 Jun 2025 08:01:00 GMT", 60.0),
    ("Fri, 13 Jun 2025 07:00:00 GMT", 0.0),  # already past
    ("soon", None),
    ("-5", None),
    ("", None),
])
def test_retry_after_header_forms(value, expected):
    headers = {"Retry-After": value, "Date": "Fri, 13 Jun 2025 08:00:00 GMT"}
    assert retry_after_seconds(headers) == expected


def test_retry_after_date_without_server_date_uses_the_clock():
    headers = {"Retry-After": "Fri, 13 Jun 2025 08:00:10 GMT"}
    now = 1749801600.0  # Fri, 13 Jun 2025 08:00:00 GMT
    assert retry_after_seconds(headers, now=lambda: now) == 10.0
