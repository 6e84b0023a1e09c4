"""What the client sends, how it decodes answers, and how Amili's refusals reach the user."""

from __future__ import annotations

import logging
from decimal import Decimal

import pytest
import simplejson

from ledger_export.amili.client import AmiliClient
from ledger_export.amili.settings import AmiliSettings
from ledger_export.core.errors import (AmiliError, AuthenticationError, NotFoundError, RequestRejectedError,
                                  ResponseFormatError)
from ledger_export.core.progress import Progress
from support.http_fakes import BASE, FakeTokens, ScriptedAdapter, scripted_client, sequence

OK = (200, {"ok": True})


def client(handler, tokens=None, **options) -> tuple[AmiliClient, ScriptedAdapter]:
    return scripted_client(handler, seed=1, tokens=tokens, **options)


def test_every_request_carries_the_token_in_x_api_key():
    c, adapter = client(sequence(OK))
    c.get_json("a")
    c.post_json("b", {"x": 1})
    assert [r.headers["X-API-Key"] for r in adapter.requests] == ["t1", "t1"]


def test_a_401_refreshes_the_token_once_and_retries():
    tokens = FakeTokens()
    c, adapter = client(sequence((401, {}), OK), tokens)
    assert c.get_json("a") == {"ok": True}
    assert [r.headers["X-API-Key"] for r in adapter.requests] == ["t1", "t2"]
    assert tokens.refreshes == 1


def test_a_token_refused_again_after_refresh_is_an_authentication_error():
    tokens = FakeTokens()
    c, adapter = client(sequence((401, {})), tokens)
    with pytest.raises(AuthenticationError) as err:
        c.get_json("finance--payouts")
    assert str(err.value) == f"Amili refused the access token (401) for GET {BASE}/finance--payouts"
    assert tokens.refreshes == 1 and len(adapter.requests) == 2


def test_a_401_with_a_token_that_cannot_refresh_fails_at_once():
    c, adapter = client(sequence((401, {}), OK), FakeTokens(can_refresh=False))
    with pytest.raises(AuthenticationError, match=r"\(401\)"):
        c.get_json("a")
    assert len(adapter.requests) == 1


def test_a_403_is_not_refreshed():
    tokens = FakeTokens()
    c, adapter = client(sequence((403, {}), OK), tokens)
    with pytest.raises(AuthenticationError, match=r"\(403\)"):
        c.get_json("a")
    assert tokens.refreshes == 0 and len(adapter.requests) == 1


def test_a_post_refused_with_401_is_retried_after_refresh():
    # 401 means Amili did not process it, so sending it again cannot register it twice.
    c, adapter = client(sequence((401, {}), (201, {"_id": "p1"})))
    assert c.post_json("creditor--payments", {"amount": 1}) == {"_id": "p1"}
    assert len(adapter.requests) == 2


def test_404_names_the_url():
    c, _ = client(sequence((404, {"_status": "ERR", "_error": {"code": 404, "message": "Not Found"}})))
    with pytest.raises(NotFoundError) as err:
        c.get_json("finance--payouts/abc")
    assert f"{BASE}/finance--payouts/abc" in str(err.value)
    assert err.value.status == 404


def test_422_shows_amilis_message_and_issues_on_one_line():
    failure = "Insertion failure: 1 document(s) contain(s) error(s)"
    body = {"_status": "ERR", "_error": {"code": 422, "message": failure},
            "_issues": {"case": "either case or invoice_number, not both",
                        "invoice_number": "either case or invoice_number, not both"}}
    c, _ = client(sequence((422, body)))
    with pytest.raises(RequestRejectedError) as err:
        c.post_json("creditor--payments", {"case": "c", "invoice_number": "1"})
    message = str(err.value)
    assert "\n" not in message
    assert message == (f"Amili rejected POST {BASE}/creditor--payments (422): Insertion failure: 1 document(s) "
                       "contain(s) error(s); case: either case or invoice_number, not both; "
                       "invoice_number: either case or invoice_number, not both")
    assert err.value.issues == body["_issues"]


def test_nested_issues_are_flattened():
    body = {"_error": {"message": "bad"}, "_issues": {"references": {"case": ["unknown", "not an id"]}}}
    c, _ = client(sequence((422, body)))
    with pytest.raises(RequestRejectedError, match=r"bad; references\.case: unknown, not an id$"):
        c.post_json("x", {})


def test_400_shows_the_error_message():
    c, _ = client(sequence((400, {"_status": "ERR", "_error": {"code": 400, "message": "Unknown where\noperator"}})))
    with pytest.raises(RequestRejectedError, match=r"\(400\): Unknown where operator$"):
        c.get_json("x", {"where": "{}"})


def test_other_4xx_is_an_amili_error_with_status_and_url():
    c, _ = client(sequence((409, {"_error": {"message": "conflict"}})))
    with pytest.raises(AmiliError) as err:
        c.get_json("x")
    assert type(err.value) is AmiliError
    assert err.value.status == 409 and "409" in str(err.value) and f"{BASE}/x" in str(err.value)


def test_a_redirect_of_an_api_call_points_at_the_base_url_setting():
    c, adapter = client(sequence((301, b"", {"Location": "https://elsewhere.test/x"})))
    with pytest.raises(AmiliError, match=r"base_url"):
        c.get_json("x")
    assert len(adapter.requests) == 1


def test_fractions_are_decimal_and_integers_stay_int():
    c, _ = client(sequence((200, b'{"amount": 0.1, "vat": 12.50, "count": 3}', {})))
    body = c.get_json("x")
    assert body == {"amount": Decimal("0.1"), "vat": Decimal("12.50"), "count": 3}
    assert isinstance(body["amount"], Decimal) and str(body["vat"]) == "12.50"


def test_nan_is_refused_rather_than_read_as_a_float():
    c, _ = client(sequence((200, b'{"amount": NaN}', {"Content-Type": "application/json"})), max_retries=0)
    with pytest.raises(ResponseFormatError, match="NaN"):
        c.get_json("x")


def test_a_json_list_where_an_object_is_expected_is_a_format_error():
    c, _ = client(sequence((200, [1, 2])))
    with pytest.raises(ResponseFormatError, match="list"):
        c.get_json("x")


def test_post_sends_decimal_amounts_as_json_numbers():
    c, adapter = client(sequence((201, {"_id": "p"})))
    c.post_json("creditor--payments", {"amount": Decimal("100.10")})
    request = adapter.requests[0]
    assert request.body == b'{"amount": 100.10}'
    assert request.headers["Content-Type"] == "application/json"


def test_download_follows_redirects_and_keeps_the_token_at_home():
    def handler(request):
        if request.url == f"{BASE}/media/f1":
            return 302, b"", {"Location": "/files/f1"}
        if request.url == f"{BASE}/files/f1":
            return 302, b"", {"Location": "https://files.example/f1?sig=abc"}
        return 200, b"%PDF-1.4 bytes", {"Content-Type": "application/pdf"}

    c, adapter = client(handler)
    assert c.download(f"{BASE}/media/f1") == b"%PDF-1.4 bytes"
    assert [r.headers.get("X-API-Key") for r in adapter.requests] == ["t1", "t1", None]


def test_requests_made_counts_retries_and_the_providers_own_requests():
    tokens = FakeTokens()
    tokens.requests_made = 1  # e.g. the API-code call
    c, _ = client(sequence((503, {}), (401, {}), OK), tokens)
    c.get_json("x")
    assert c.requests_made == 4


def test_verbose_log_line_per_request_without_headers(caplog):
    caplog.set_level(logging.DEBUG)
    c, _ = client(sequence((503, {}), OK))
    c.get_json("finance--payouts", {"page": 2, "where": '{"creditor":"c1"}'})
    lines = [r.getMessage() for r in caplog.records if r.name == "ledger_export.amili"]
    assert len(lines) == 2
    assert lines[0].startswith(f'GET {BASE}/finance--payouts?page=2&where={{"creditor":"c1"}} -> 503 in ')
    assert lines[0].endswith("ms (attempt 1)") and lines[1].endswith("ms (attempt 2)")
    assert " -> 200 in " in lines[1]
    assert all("t1" not in line and "X-API-Key" not in line for line in caplog.messages)


def test_pages_fetched_are_counted_in_progress():
    progress = Progress(enabled=False)
    c, _ = client(sequence((200, {"_items": [], "_meta": {"page": 1, "max_results": 100, "total": 0}})),
                  progress=progress)
    assert c.list_items("finance--payouts", {}) == []
    assert progress.counts == {"pages fetched": 1}


def test_from_settings_uses_the_configured_limits():
    settings = AmiliSettings(base_url="https://amili.test/", concurrency=2, page_size=50, max_retries=1)
    c = AmiliClient.from_settings(settings, FakeTokens())
    assert (c.base_url, c.concurrency, c.page_size) == ("https://amili.test", 2, 50)
    assert c.timeout == (10.0, 60.0)


def test_close_closes_every_session_and_repr_shows_no_token():
    closed = []
    adapter = ScriptedAdapter(sequence(OK))

    def factory():
        session = adapter.session_factory()()
        session.close = lambda: closed.append(session)
        return session

    with AmiliClient(BASE, FakeTokens(), session_factory=factory) as c:
        c.get_json("x")
        assert "t1" not in repr(c)
    assert len(closed) == 1


def test_decoded_snapshot_round_trips_amounts_digit_for_digit():
    c, _ = client(sequence((200, b'{"amount": 1064.00, "vat_amount": 0.0}', {})))
    body = c.get_json("x")
    assert simplejson.dumps(body, use_decimal=True) == '{"amount": 1064.00, "vat_amount": 0.0}'
