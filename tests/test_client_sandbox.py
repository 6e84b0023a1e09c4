"""The client over real HTTP against the bundled sandbox: paging, faults, tokens, refusals."""

from __future__ import annotations

import logging
import math
import random
from datetime import datetime
from decimal import Decimal

import pytest
from bson import ObjectId

from ledger_export.amili import timestamps
from ledger_export.amili.auth import ApiCodeToken, StaticToken
from ledger_export.amili.client import AmiliClient
from ledger_export.amili.retry import RetryPolicy
from ledger_export.core.errors import (AuthenticationError, InconsistentPagingError, OutcomeUnknownError,
                                  RequestRejectedError)
from ledger_export.core.resources import SAMPLES
from ledger_export.sandbox import Faults

CREDITOR = "686e6ed854377058c2dd10bd"
SPECIFICATIONS = "finance--payout-specifications"
KEY = SAMPLES / "keys" / "sandbox-creditor-es512.pem"


def make_client(sb, tokens=None, **options) -> tuple[AmiliClient, list[float]]:
    sleeps: list[float] = []
    client = AmiliClient(sb.base_url, tokens or StaticToken(sb.api_key), sleep=sleeps.append,
                         rng=random.Random(11), **options)
    return client, sleeps


def api_code_tokens(sb, sleeps=None) -> ApiCodeToken:
    return ApiCodeToken(sb.base_url, sb.api_code, KEY.read_bytes(), "ES512",
                        retry=RetryPolicy(sleep=(sleeps or []).append))


def longest_payout(sb) -> tuple[str, int]:
    """The sample payout with the most lines (more than one page of 100)."""
    counts: dict[str, int] = {}
    for line in sb.db[SPECIFICATIONS].find({"payout": {"$ne": None}}):
        counts[str(line["payout"])] = counts.get(str(line["payout"]), 0) + 1
    payout = max(counts, key=lambda k: (counts[k], k))
    return payout, counts[payout]


def served(sb, path="/" + SPECIFICATIONS):
    return [r for r in sb.requests if r.path == path]


def in_sort_order(items):
    keys = [(timestamps.parse(i["_created"]), i["_id"]) for i in items]
    return keys == sorted(keys)


def test_a_list_longer_than_the_100_cap_is_read_whole(sandbox):
    payout, n = longest_payout(sandbox)
    assert n > 100
    with make_client(sandbox)[0] as client:
        items = client.list_items(SPECIFICATIONS, {"payout": payout})
    assert len(items) == n and len({i["_id"] for i in items}) == n
    assert {i["payout"] for i in items} == {payout}
    assert in_sort_order(items)
    assert len(served(sandbox)) == math.ceil(n / 100)
    assert all(isinstance(i["amount"], Decimal) for i in items)


def test_a_server_capping_max_results_lower_than_asked(sandbox_factory):
    sb = sandbox_factory(page_limit=10)
    payout, n = longest_payout(sb)
    with make_client(sb)[0] as client:
        items = client.list_items(SPECIFICATIONS, {"payout": payout})
    assert len(items) == n and len({i["_id"] for i in items}) == n and in_sort_order(items)
    assert len(served(sb)) == math.ceil(n / 10)
    assert served(sb)[0].query_string.startswith("page=1&max_results=100&")
    assert all("max_results=10&" in r.query_string for r in served(sb)[1:])


FAULTS = {
    "429 with Retry-After": Faults(rate_limit_every=3, retry_after=1),
    "503": Faults(server_error_every=3),
    "502": Faults(server_error_every=3, server_error_status=502),
    "500": Faults(server_error_every=2, server_error_status=500),
    "dropped connections": Faults(drop_every=3),
    "bodies cut short": Faults(truncate_every=3),
    "garbage bodies": Faults(garbage_every=2),
}


@pytest.mark.parametrize("faults", FAULTS.values(), ids=FAULTS.keys())
def test_faults_are_retried_to_the_same_result_as_a_clean_run(sandbox_factory, faults):
    clean_sb, faulty_sb = sandbox_factory(), sandbox_factory(faults=faults)
    payout, n = longest_payout(clean_sb)
    results = {}
    for name, sb in (("clean", clean_sb), ("faulty", faulty_sb)):
        client, sleeps = make_client(sb)
        with client:
            results[name] = (client.list_items(SPECIFICATIONS, {"payout": {"$in": [payout]}}),
                             client.list_items("finance--payouts", {"creditor": CREDITOR}))
            assert client.requests_made == len(sb.requests)
    assert results["faulty"] == results["clean"]
    assert len(results["clean"][0]) == n
    # Every injected failure cost one wait and one more request, nothing else.
    extra = len(faulty_sb.requests) - len(clean_sb.requests)
    assert extra > 0 and len(sleeps) == extra
    if faults.rate_limit_every:
        assert set(sleeps) == {1.0}  # Retry-After honoured, not the back-off


def test_a_refused_token_is_reported_without_the_token(sandbox, caplog):
    caplog.set_level(logging.DEBUG)
    secret = "wrong-key-7f3a9c"
    client, _ = make_client(sandbox, StaticToken(secret))
    with client, pytest.raises(AuthenticationError) as err:
        client.list_items("finance--payouts", {"creditor": CREDITOR})
    message = str(err.value)
    url = f"{sandbox.base_url}/finance--payouts?page=1"
    assert message.startswith(f"Amili refused the access token (401) for GET {url}")
    everything = message + repr(err.value) + repr(client) + "\n".join(caplog.messages)
    assert secret not in everything
    assert [r.status for r in sandbox.requests] == [401]


def test_422_issues_are_shown(sandbox):
    payment = {"creditor": CREDITOR, "case": "68678eda88b9226bb78d7169", "invoice_number": "INV-2025-0158",
               "currency": "SEK", "amount": Decimal("100.00"),
               "bank_transaction_date": "Fri, 04 Jul 2025 16:20:41 GMT", "origin": "creditor_system"}
    client, _ = make_client(sandbox)
    with client, pytest.raises(RequestRejectedError) as err:
        client.post_json("creditor--payments", payment)
    message = str(err.value)
    assert "(422)" in message and "\n" not in message
    assert "case: 'invoice_number' must not be present with 'case'" in message
    assert "invoice_number: 'case' must not be present with 'invoice_number'" in message
    assert set(err.value.issues) == {"case", "invoice_number"}


def _copy_line(sb, line: dict, created: datetime) -> dict:
    new = dict(line, _id=ObjectId(), _created=created, invoice_number="INV-LATE-ARRIVAL")
    sb.db[SPECIFICATIONS].insert_one(new)
    return new


def test_a_record_inserted_mid_list_is_read_once_in_a_second_reading(sandbox):
    payout, n = longest_payout(sandbox)
    inserted = []

    def after(number, method, path):
        # After page 1 has been served, a new line sorts in front: everything shifts by one.
        if path == "/" + SPECIFICATIONS and not inserted:
            first = sandbox.db[SPECIFICATIONS].find_one({"payout": ObjectId(payout)})
            inserted.append(_copy_line(sandbox, first, datetime(2025, 5, 1)))

    sandbox.on_request(after)
    client, _ = make_client(sandbox)
    with client:
        items = client.list_items(SPECIFICATIONS, {"payout": payout})
    ids = [i["_id"] for i in items]
    assert len(ids) == n + 1 == len(set(ids))
    assert ids[0] == str(inserted[0]["_id"])
    assert [r.query_string.split("&")[0] for r in served(sandbox)].count("page=1") == 2


def test_a_record_moving_within_the_list_is_read_once_in_a_second_reading(sandbox):
    payout, n = longest_payout(sandbox)
    lines = list(sandbox.db[SPECIFICATIONS].find({"payout": ObjectId(payout)}).sort([("_created", 1), ("_id", 1)]))
    last = lines[-1]
    moved = []

    def after(number, method, path):
        # The last line (on page 2) is re-dated to the front: same total, page 2 shifts.
        if path == "/" + SPECIFICATIONS and not moved:
            moved.append(True)
            sandbox.db[SPECIFICATIONS].update_one({"_id": last["_id"]}, {"$set": {"_created": datetime(2025, 5, 1)}})

    sandbox.on_request(after)
    client, _ = make_client(sandbox)
    with client:
        items = client.list_items(SPECIFICATIONS, {"payout": payout})
    ids = [i["_id"] for i in items]
    assert len(ids) == n == len(set(ids))
    assert ids[0] == str(last["_id"])


def test_a_list_that_keeps_changing_is_an_inconsistent_paging_error(sandbox):
    payout, _ = longest_payout(sandbox)
    template = sandbox.db[SPECIFICATIONS].find_one({"payout": ObjectId(payout)})
    day = [1]

    def after(number, method, path):
        if path == "/" + SPECIFICATIONS:
            day[0] += 1
            _copy_line(sandbox, template, datetime(2025, 5, day[0]))

    sandbox.on_request(after)
    client, sleeps = make_client(sandbox)
    with client, pytest.raises(InconsistentPagingError, match=SPECIFICATIONS):
        client.list_items(SPECIFICATIONS, {"payout": payout})
    assert len(sleeps) == 2


def test_the_api_code_flow_logs_in_once_and_again_when_the_token_expires(sandbox):
    expired = []

    def after(number, method, path):
        if number == 1:
            sandbox.expire_tokens()
            expired.append(number)

    sandbox.on_request(after)
    client, _ = make_client(sandbox, api_code_tokens(sandbox))
    payout, n = longest_payout(sandbox)
    with client:
        assert len(client.list_items("finance--payouts", {"creditor": CREDITOR})) > 0
        assert len(client.list_items(SPECIFICATIONS, {"payout": payout})) == n
        made = client.requests_made
    logins = [r for r in sandbox.requests if r.path == "/authenticates/api-code"]
    assert [r.status for r in logins] == [200, 200]
    statuses = [r.status for r in sandbox.requests if r.path != "/authenticates/api-code"]
    assert statuses == [200, 401, 200] + [200] * (math.ceil(n / 100) - 1)
    assert made == len(sandbox.requests)


def test_concurrent_pages_refused_together_share_one_new_token(sandbox_factory):
    sb = sandbox_factory(page_limit=10)

    def after(number, method, path):
        if number == 1:
            sb.expire_tokens()

    sb.on_request(after)
    payout, n = longest_payout(sb)
    client, _ = make_client(sb, api_code_tokens(sb), concurrency=4)
    with client:
        assert len(client.list_items(SPECIFICATIONS, {"payout": payout})) == n
    logins = [r for r in sb.requests if r.path == "/authenticates/api-code"]
    assert len(logins) == 2
    refused = [r for r in sb.requests if r.status == 401]
    assert 1 <= len(refused) <= 4


def test_a_token_that_expires_at_once_ends_in_an_authentication_error(sandbox_factory):
    sb = sandbox_factory(token_ttl=0)
    client, _ = make_client(sb, api_code_tokens(sb))
    with client, pytest.raises(AuthenticationError, match=r"\(401\)"):
        client.get_json("finance--payouts")
    assert [r.status for r in sb.requests if r.path == "/authenticates/api-code"] == [200, 200]


def test_a_wrong_api_code_is_refused_without_showing_it(sandbox, caplog):
    caplog.set_level(logging.DEBUG)
    tokens = ApiCodeToken(sandbox.base_url, "not-the-code-4411", KEY.read_bytes())
    client, _ = make_client(sandbox, tokens)
    with client, pytest.raises(AuthenticationError) as err:
        client.get_json("finance--payouts")
    assert "refused the API code" in str(err.value)
    assert "not-the-code-4411" not in str(err.value) + repr(tokens) + "\n".join(caplog.messages)


def test_a_self_invoice_pdf_is_downloaded(sandbox):
    payout = sandbox.db["finance--payouts"].find_one({"document": {"$exists": True}})
    client, _ = make_client(sandbox)
    with client:
        pdf = client.download(f"{sandbox.base_url}/media/{payout['document']['file']}")
    assert pdf.startswith(b"%PDF") and len(pdf) == payout["document"]["length"]


def test_a_post_whose_answer_is_lost_is_reported_and_not_sent_twice(sandbox_factory):
    sb = sandbox_factory(faults=Faults(drop_every=1))
    payment = {"creditor": CREDITOR, "invoice_number": "INV-2025-0158", "currency": "SEK",
               "amount": Decimal("100.10"), "bank_transaction_date": "Fri, 04 Jul 2025 16:20:41 GMT",
               "origin": "creditor_system", "creditor_payment_reference": "LOST-ANSWER-1"}
    client, sleeps = make_client(sb)
    with client, pytest.raises(OutcomeUnknownError, match="may or may not"):
        client.post_json("creditor--payments", payment)
    assert [(r.method, r.status) for r in sb.requests] == [("POST", None)]
    # Amili did store it: exactly why the client must not send it again on its own.
    assert sb.db["creditor--payments"].count_documents({"creditor_payment_reference": "LOST-ANSWER-1"}) == 1
    assert sleeps == []
