"""fetch_period over an injected Eve: which queries, how many requests, what comes back."""

from __future__ import annotations

import dataclasses
import json
import math
from decimal import Decimal

import pytest

from ledger_export.amili.client import AmiliClient
from ledger_export.amili.fetch import PAYMENTS, PAYOUTS, SPECIFICATIONS, RawPeriod, fetch_period
from ledger_export.core.errors import ResponseFormatError
from support.fetch_fakes import CREDITOR, JUNE, OTHER, line, payment, payout, wheres
from support.http_fakes import BASE, FakeEve, FakeTokens, ScriptedAdapter, item, scripted_client


def run(collections, **options) -> tuple[RawPeriod, ScriptedAdapter, AmiliClient]:
    client, adapter = scripted_client(FakeEve(collections), seed=5, **options)
    with client:
        return fetch_period(client, CREDITOR, JUNE).raw, adapter, client


def sample():
    june = [payout(1), payout(2), payout(3, "Mon, 30 Jun 2025 00:00:00 GMT")]
    may, july = payout(4, "Fri, 30 May 2025 00:00:00 GMT"), payout(5, "Tue, 01 Jul 2025 00:00:00 GMT")
    foreign = payout(6, creditor=OTHER)
    lines = ([line(1000 + n, june[0]) for n in range(180)] + [line(2000 + n, june[1]) for n in range(30)]
             + [line(3000, may), item(3001, payout=None, creditor=CREDITOR)])
    payments = [payment(4000), payment(4001, "Tue, 01 Jul 2025 00:00:00 GMT")]
    return {PAYOUTS: [*june, may, july, foreign], SPECIFICATIONS: lines, PAYMENTS: payments}


def test_the_period_is_asked_for_with_rfc_1123_bounds():
    raw, adapter, _ = run(sample())
    in_june = {"$gte": "Sun, 01 Jun 2025 00:00:00 GMT", "$lt": "Tue, 01 Jul 2025 00:00:00 GMT"}
    assert wheres(adapter, PAYOUTS) == [{"creditor": CREDITOR, "payout_date": in_june}]
    assert wheres(adapter, PAYMENTS) == [{"creditor": CREDITOR, "booking_date": in_june}]
    june_ids = [payout(n)["_id"] for n in (1, 2, 3)]
    assert {json.dumps(w) for w in wheres(adapter, SPECIFICATIONS)} == {json.dumps({"payout": {"$in": june_ids}})}


def test_only_the_periods_records_come_back_in_stable_order():
    raw, _, _ = run(sample())
    assert [p["_id"] for p in raw.payouts] == [payout(n)["_id"] for n in (1, 2, 3)]
    assert len(raw.specifications) == 210
    assert [s["_id"] for s in raw.specifications] == [item(n)["_id"] for n in
                                                       [*range(1000, 1180), *range(2000, 2030)]]
    assert [p["_id"] for p in raw.payments] == [item(4000)["_id"]]
    assert raw.creditor == CREDITOR and raw.period == JUNE and raw.base_url == BASE
    assert raw.payments[0]["amount"] == Decimal("99.90")
    with pytest.raises(dataclasses.FrozenInstanceError):
        raw.payouts = ()  # type: ignore[misc]


def test_requests_follow_the_formula():
    raw, adapter, client = run(sample())
    p, s, c = len(raw.payouts), len(raw.specifications), len(raw.payments)
    assert (p, s, c) == (3, 210, 1)
    assert client.requests_made == len(adapter.requests) == math.ceil(p / 100) + math.ceil(s / 100) + math.ceil(c / 100)
    assert client.requests_made == 5


def test_more_than_100_payouts_ask_for_lines_in_batches_of_100():
    payouts = [payout(n) for n in range(1, 151)]
    lines = [line(1000 + n, payouts[n % 150]) for n in range(450)]
    raw, adapter, client = run({PAYOUTS: payouts, SPECIFICATIONS: lines, PAYMENTS: []})
    # These payouts carry no summary counts, so nothing packs the batches: plain runs
    # of 100 ids (test_fetch_plan has counted payouts, packed to whole pages).
    batches = [w["payout"]["$in"] for w in wheres(adapter, SPECIFICATIONS, first_pages_only=True)]
    # Both batches go out in one concurrent round: the order they reach the server is the threads'.
    assert sorted(batches) == sorted([[p["_id"] for p in payouts[:100]], [p["_id"] for p in payouts[100:]]])
    assert len(raw.specifications) == 450
    # Batch 1 has 300 lines (3 pages), batch 2 has 150 (2 pages): one more than ceil(450/100).
    assert client.requests_made == 2 + 5 + 1
    assert client.requests_made <= math.ceil(150 / 100) + math.ceil(450 / 100) + 1 + (len(batches) - 1)
    # Lines of both batches interleave again in (_created, _id) order.
    assert [s["_id"] for s in raw.specifications] == [item(1000 + n)["_id"] for n in range(450)]


def test_no_payouts_means_no_specification_query():
    raw, adapter, client = run({PAYOUTS: [], SPECIFICATIONS: [line(1, payout(1))], PAYMENTS: [payment(2)]})
    assert wheres(adapter, SPECIFICATIONS) == []
    assert raw.payouts == () and raw.specifications == () and len(raw.payments) == 1
    assert client.requests_made == 2


class IgnoresWhere(FakeEve):
    """A server that forgets the filter for one resource."""

    def __init__(self, collections, resource):
        super().__init__(collections)
        self.resource = resource

    def __call__(self, request):
        status, body, headers = super().__call__(request)
        if request.url.split("?")[0].endswith(self.resource):
            body["_items"] = self.collections[self.resource]
            body["_meta"]["total"] = len(body["_items"])
        return status, body, headers


@pytest.mark.parametrize("resource, bad, problem", [
    (SPECIFICATIONS, item(77, payout="5f00000000000000000000aa"), "field 'payout' is '5f00000000000000000000aa'"),
    (PAYOUTS, payout(77, creditor=OTHER), f"field 'creditor' is '{OTHER}'"),
    (PAYOUTS, payout(77, "Tue, 01 Jul 2025 00:00:00 GMT"), "outside the period 2025-06"),
    (PAYMENTS, payment(77, "Sat, 31 May 2025 00:00:00 GMT"), "field 'booking_date' is 2025-05-31"),
])
def test_a_record_the_filter_should_have_kept_out_is_refused_by_name(resource, bad, problem):
    data = {PAYOUTS: [payout(1)], SPECIFICATIONS: [line(2, payout(1))], PAYMENTS: [payment(3)]}
    data[resource] = [*data[resource], bad]
    adapter = ScriptedAdapter(IgnoresWhere(data, resource))
    client = AmiliClient(BASE, FakeTokens(), session_factory=adapter.session_factory())
    with pytest.raises(ResponseFormatError) as err:
        fetch_period(client, CREDITOR, JUNE)
    assert bad["_id"] in str(err.value) and problem in str(err.value)


def test_periods_other_than_months_use_their_own_bounds():
    from ledger_export.core.period import date_range

    adapter = ScriptedAdapter(FakeEve({}))
    client = AmiliClient(BASE, FakeTokens(), session_factory=adapter.session_factory())
    fetch_period(client, CREDITOR, date_range("2025-06-10", "2025-06-12"))
    assert wheres(adapter, PAYOUTS)[0]["payout_date"] == {"$gte": "Tue, 10 Jun 2025 00:00:00 GMT",
                                                           "$lt": "Fri, 13 Jun 2025 00:00:00 GMT"}
