"""fetch_period over real HTTP on the sample period (June 2025): what comes back and what it costs."""

from __future__ import annotations

import math
import random
from datetime import datetime
from decimal import Decimal

import pytest
from bson import ObjectId

from ledger_export.amili import timestamps
from ledger_export.amili.auth import ApiCodeToken, StaticToken
from ledger_export.amili.client import AmiliClient
from ledger_export.amili.fetch import PAYMENTS, PAYOUTS, SPECIFICATIONS, fetch_period
from ledger_export.amili.retry import RetryPolicy
from ledger_export.core.resources import SAMPLES
from ledger_export.core.period import month
from ledger_export.sandbox import Faults

CREDITOR = "686e6ed854377058c2dd10bd"
JUNE = month("2025-06")
START, END = datetime(2025, 6, 1), datetime(2025, 7, 1)


def expected_counts(sb) -> tuple[int, int, int]:
    """P, S, C straight from the sandbox's database, independent of the client."""
    creditor = ObjectId(CREDITOR)
    payouts = [p["_id"] for p in sb.db[PAYOUTS].find(
        {"creditor": creditor, "payout_date": {"$gte": START, "$lt": END}})]
    lines = sb.db[SPECIFICATIONS].count_documents({"payout": {"$in": payouts}})
    payments = sb.db[PAYMENTS].count_documents({"creditor": creditor, "booking_date": {"$gte": START, "$lt": END}})
    return len(payouts), lines, payments


def fetch(sb, tokens=None, **options):
    client = AmiliClient(sb.base_url, tokens or StaticToken(sb.api_key), sleep=lambda s: None,
                         rng=random.Random(2), **options)
    with client:
        return fetch_period(client, CREDITOR, JUNE).raw, client.requests_made


def test_the_sample_period_costs_exactly_the_formula(sandbox):
    p, s, c = expected_counts(sandbox)
    raw, made = fetch(sandbox)
    assert (len(raw.payouts), len(raw.specifications), len(raw.payments)) == (p, s, c)
    assert p <= 100 and s > 100
    # With a ready token there is no login: the constant is 0.
    formula = math.ceil(p / 100) + math.ceil(s / 100) + math.ceil(c / 100) + 0
    assert len(sandbox.requests) == made == formula == 7


def test_the_api_code_flow_adds_one_login_request(sandbox):
    p, s, c = expected_counts(sandbox)
    key = (SAMPLES / "keys" / "sandbox-creditor-es512.pem").read_bytes()
    tokens = ApiCodeToken(sandbox.base_url, sandbox.api_code, key, retry=RetryPolicy(sleep=lambda s: None))
    raw, made = fetch(sandbox, tokens)
    formula = math.ceil(p / 100) + math.ceil(s / 100) + math.ceil(c / 100) + 1
    assert len(sandbox.requests) == made == formula == 8


def test_only_the_periods_linked_records_are_fetched(sandbox):
    raw, _ = fetch(sandbox)
    june_ids = {p["_id"] for p in raw.payouts}
    assert all(l["payout"] in june_ids for l in raw.specifications)
    days = [timestamps.parse_day(p["payout_date"]) for p in raw.payouts]
    assert all(d in JUNE for d in days)
    assert all(timestamps.parse_day(p["booking_date"]) in JUNE for p in raw.payments)
    # The sample has a June line not yet linked to any payout, and May/July payouts: none come back.
    unlinked = list(sandbox.db[SPECIFICATIONS].find({"payout": None, "booking_date": {"$gte": START, "$lt": END}}))
    assert unlinked
    fetched = {l["_id"] for l in raw.specifications}
    assert not fetched & {str(u["_id"]) for u in unlinked}
    outside = sandbox.db[PAYOUTS].count_documents({"creditor": ObjectId(CREDITOR), "$or": [
        {"payout_date": {"$lt": START}}, {"payout_date": {"$gte": END}}]})
    assert outside > 0


def test_records_come_in_stable_order_with_decimal_amounts(sandbox):
    raw, _ = fetch(sandbox)
    for items in (raw.payouts, raw.specifications, raw.payments):
        keys = [(timestamps.parse(i["_created"]), i["_id"]) for i in items]
        assert keys == sorted(keys) and len(set(keys)) == len(keys)
        assert all(isinstance(i["amount"], Decimal) for i in items)
    assert raw.base_url == sandbox.base_url and raw.creditor == CREDITOR and raw.period == JUNE


@pytest.mark.parametrize("faults", [
    Faults(rate_limit_every=2, retry_after=0),
    Faults(server_error_every=3, drop_every=5, truncate_every=7),
], ids=["rate limited", "errors, drops and cut bodies"])
def test_a_flaky_api_gives_the_same_period_as_a_clean_one(sandbox_factory, faults):
    clean, _ = fetch(sandbox_factory())
    flaky_sb = sandbox_factory(faults=faults)
    # About half of all requests are faulted here (every 3rd, 5th, 7th), so one
    # request can meet six faults in a row: the budget fits the fault rate, as
    # this test is about the data, not about giving up (test_client_retry is).
    flaky, made = fetch(flaky_sb, concurrency=2, max_retries=20)
    for records in ("payouts", "specifications", "payments"):
        assert getattr(flaky, records) == getattr(clean, records)
    assert made == len(flaky_sb.requests) > 7


def test_a_capped_server_gives_the_same_period(sandbox_factory):
    clean, _ = fetch(sandbox_factory())
    sb = sandbox_factory(page_limit=10)
    capped, made = fetch(sb)
    assert capped.specifications == clean.specifications and capped.payouts == clean.payouts
    p, s, c = expected_counts(sb)
    assert made == math.ceil(p / 10) + math.ceil(s / 10) + math.ceil(c / 10)
