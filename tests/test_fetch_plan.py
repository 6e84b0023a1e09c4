"""The fetch's plan: $in batches that fill whole pages, one round for lines, payments and PDFs."""

from __future__ import annotations

import math
from decimal import Decimal
from urllib.parse import urlsplit

from hypothesis import given, settings
from hypothesis import strategies as st

from ledger_export.amili.fetch import (PAYMENTS, PAYOUTS, SPECIFICATIONS, FetchedPeriod, RawPeriod, expected_lines,
                                      fetch_period, plan_batches)
from ledger_export.core.errors import NotFoundError
from support.http_fakes import BASE, FakeEve, item, scripted_client
from support.fetch_fakes import CREDITOR, JUNE, line, payment, payout, wheres

PDF = b"%PDF-1.4\n%%EOF\n"


def counted(n: int, count: int | None) -> dict:
    """A payout whose summary counts ``count`` lines (None: no summary)."""
    p = payout(n)
    if count is not None:
        p["summary"] = {"capital": {"count": count, "amount": Decimal("1.00"), "vat_amount": Decimal("0.00"),
                                    "total_amount": Decimal("1.00")}}
    return p


def lines_of(payouts: list[dict], counts: list[int]) -> list[dict]:
    return [line(10_000 + 1000 * k + j, p) for k, (p, n) in enumerate(zip(payouts, counts)) for j in range(n)]


def served(collections: dict, media: dict[str, bytes] | None = None, **options):
    eve = FakeEve(collections)
    media = media or {}

    def handler(request):
        path = urlsplit(request.url).path
        if path.startswith("/media/"):
            body = media.get(path.rsplit("/", 1)[1])
            return (200, body, {"Content-Type": "application/pdf"}) if body else (404, {"_status": "ERR"})
        return eve(request)

    return scripted_client(handler, seed=5, **options)


def test_batches_fill_whole_pages_so_the_lines_cost_the_minimum():
    # 50 payouts of 2 lines, then 100 of 1: cut at 100 ids, the batches would hold
    # 150 and 50 lines, 3 pages for 200 lines. Packed by the counts: 100 and 100.
    counts = [2] * 50 + [1] * 100
    payouts = [counted(n, c) for n, c in enumerate(counts, start=1)]
    ids = [p["_id"] for p in payouts]
    assert plan_batches(payouts) == [(ids[:50], 100), (ids[50:], 100)]
    client, adapter = served({PAYOUTS: payouts, SPECIFICATIONS: lines_of(payouts, counts), PAYMENTS: [payment(9)]})
    with client:
        raw = fetch_period(client, CREDITOR, JUNE).raw
    assert len(raw.specifications) == 200
    assert client.requests_made == math.ceil(150 / 100) + math.ceil(200 / 100) + 1 == 5
    assert sorted(len(w["payout"]["$in"]) for w in wheres(adapter, SPECIFICATIONS)) == [50, 100]


@settings(max_examples=60, deadline=None)
@given(st.lists(st.one_of(st.none(), st.integers(0, 350)), max_size=400), st.sampled_from([100, 50, 25]))
def test_every_payout_is_asked_once_and_at_most_one_batch_has_a_partly_filled_page(counts, page):
    payouts = [counted(n, c) for n, c in enumerate(counts, start=1)]
    batches = plan_batches(payouts, page=page)
    asked = [pid for ids, _ in batches for pid in ids]
    assert sorted(asked) == sorted(p["_id"] for p in payouts)
    assert all(1 <= len(ids) <= 100 for ids, _ in batches)
    by_id = {p["_id"]: c for p, c in zip(payouts, counts)}
    for ids, expected in batches:
        found = [by_id[pid] for pid in ids]
        assert expected == (None if None in found else sum(found))
        assert None not in found or set(found) == {None}
    known = [expected for _, expected in batches if expected is not None]
    assert sum(1 for e in known if e % page) <= 1
    # Hence the counted lines cost exactly ceil(S / page) pages (plus one per batch counted empty).
    total = sum(known)
    assert sum(math.ceil(e / page) for e in known) == math.ceil(total / page)


def test_expected_lines_reads_the_summary_counts_or_gives_up():
    assert expected_lines(counted(1, 7)) == 7
    assert expected_lines({"summary": {"a": {"count": 2}, "b": {"count": 3}}}) == 5
    for broken in ({}, {"summary": []}, {"summary": {"a": {"count": -1}}}, {"summary": {"a": {"count": "2"}}},
                   {"summary": {"a": {"count": True}}}, {"summary": {"a": 3}}):
        assert expected_lines(broken) is None


def test_wrong_counts_cost_requests_never_lines():
    counts = [3] * 120
    truth = [counted(n, None) for n in range(1, 121)]
    collections = {PAYOUTS: truth, SPECIFICATIONS: lines_of(truth, counts), PAYMENTS: []}
    client, _ = served(collections)
    with client:
        expected = fetch_period(client, CREDITOR, JUNE).raw.specifications
    assert len(expected) == 360
    for claim in (0, 1, 50, 10**9):
        lying = [counted(n, claim) for n in range(1, 121)]
        client, _ = served({**collections, PAYOUTS: lying}, concurrency=2)
        with client:
            assert fetch_period(client, CREDITOR, JUNE).raw.specifications == expected


def test_named_documents_download_in_the_round_and_a_failed_one_is_no_failure_of_the_fetch():
    payouts = [counted(1, 2), counted(2, 1)]
    collections = {PAYOUTS: payouts, SPECIFICATIONS: lines_of(payouts, [2, 1]), PAYMENTS: [payment(9)]}
    client, adapter = served(collections, media={"f1": PDF})
    given_payouts = []

    def documents(items):
        given_payouts.extend(items)
        return [f"{BASE}/media/f1", f"{BASE}/media/f2", f"{BASE}/media/f1"]

    with client:
        fetched = fetch_period(client, CREDITOR, JUNE, documents=documents)
    raw, downloads = fetched.raw, fetched.downloads
    assert [p["_id"] for p in given_payouts] == [p["_id"] for p in payouts]
    assert len(raw.specifications) == 3
    assert list(downloads) == [f"{BASE}/media/f1", f"{BASE}/media/f2"]
    assert downloads[f"{BASE}/media/f1"] == PDF
    assert isinstance(downloads[f"{BASE}/media/f2"], NotFoundError)
    # Three lists of one page each, and each file once.
    assert client.requests_made == len(adapter.requests) == 3 + 2


def test_without_documents_the_answer_is_the_same_type_with_no_downloads():
    client, _ = served({PAYOUTS: [counted(1, 0)], SPECIFICATIONS: [], PAYMENTS: []})
    with client:
        fetched = fetch_period(client, CREDITOR, JUNE)
    assert isinstance(fetched, FetchedPeriod) and isinstance(fetched.raw, RawPeriod)
    assert [p["_id"] for p in fetched.raw.payouts] == [item(1)["_id"]]
    assert fetched.downloads == {}
