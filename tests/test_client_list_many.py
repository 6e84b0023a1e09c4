"""AmiliClient.list_many: several lists (and other requests) in one round, as safe as list_items."""

from __future__ import annotations

import threading

import pytest

from ledger_export.amili.client import AmiliClient
from ledger_export.amili.lists import ListQuery
from ledger_export.core.errors import InconsistentPagingError, NotFoundError
from support.http_fakes import FakeEve, item, query, scripted_client

LINES = "finance--payout-specifications"
PAYMENTS = "creditor--payments"


def client(handler, **options) -> tuple[AmiliClient, list[float]]:
    sleeps: list[float] = []
    c, _ = scripted_client(handler, seed=3, sleeps=sleeps, **options)
    return c, sleeps


def ids(items):
    return [i["_id"] for i in items]


def two_lists():
    return {LINES: [item(n) for n in range(250)], PAYMENTS: [item(n) for n in range(1000, 1030)]}


def test_predicted_pages_do_not_wait_for_page_1_and_other_calls_share_the_round():
    data = two_lists()
    eve = FakeEve(data)
    page_3_asked = threading.Event()

    def handler(request):
        # Page 1 is answered only once page 3 has been asked for: a client that
        # waited for page 1 before asking for the rest would never get here.
        if query(request)["page"] == "3":
            page_3_asked.set()
        elif query(request)["page"] == "1" and LINES in request.url:
            assert page_3_asked.wait(timeout=5)
        return eve(request)

    c, _ = client(handler, concurrency=4)
    with c:
        (lines, payments), done = c.list_many(
            [ListQuery(LINES, {}, expected=250), ListQuery(PAYMENTS, {}, expected=30)],
            alongside=[lambda: "pdf a", lambda: "pdf b"])
    assert ids(lines) == ids(data[LINES]) and ids(payments) == ids(data[PAYMENTS])
    assert done == ["pdf a", "pdf b"]
    assert c.requests_made == 3 + 1  # ceil(250/100) + ceil(30/100): no page asked twice


def test_pages_beyond_a_count_too_low_follow_page_1():
    data = two_lists()
    eve = FakeEve(data)
    c, _ = client(eve)
    (lines,), _ = c.list_many([ListQuery(LINES, {}, expected=120)])
    assert ids(lines) == ids(data[LINES]) and c.requests_made == 3
    assert sorted(eve.served) == [(LINES, 1), (LINES, 2), (LINES, 3)]


def test_a_count_too_high_costs_no_items_and_no_pages_once_page_1_is_in():
    data = two_lists()
    eve = FakeEve(data)
    c, _ = client(eve, concurrency=1)  # one at a time: page 1 is in before any other page is asked
    (lines, payments), _ = c.list_many([ListQuery(LINES, {}, expected=5000), ListQuery(PAYMENTS, {}, expected=900)])
    assert ids(lines) == ids(data[LINES]) and ids(payments) == ids(data[PAYMENTS])
    assert sorted(eve.served) == [(PAYMENTS, 1), (LINES, 1), (LINES, 2), (LINES, 3)]


def test_a_count_too_high_with_pages_in_flight_still_gives_each_item_once():
    data = two_lists()
    c, _ = client(FakeEve(data), concurrency=4)
    with c:
        (lines,), _ = c.list_many([ListQuery(LINES, {}, expected=900)])
    assert ids(lines) == ids(data[LINES])


def test_unknown_and_zero_counts_read_page_1_first():
    data = two_lists()
    eve = FakeEve(data)
    c, _ = client(eve)
    (lines, payments), _ = c.list_many([ListQuery(LINES, {}), ListQuery(PAYMENTS, {}, expected=0)])
    assert len(lines) == 250 and len(payments) == 30 and c.requests_made == 4


def test_a_server_serving_fewer_per_page_is_paged_by_what_it_serves():
    data = two_lists()
    eve = FakeEve(data, cap=50)
    c, _ = client(eve)
    (lines,), _ = c.list_many([ListQuery(LINES, {}, expected=250)])
    assert ids(lines) == ids(data[LINES]) and c.requests_made == 5  # 250 at 50 a page


def test_a_list_that_changes_during_the_round_is_read_again_the_careful_way():
    data = two_lists()
    lines = data[LINES]

    def before(resource, page):
        if resource == LINES and page == 2 and len(lines) == 250:
            lines.insert(0, item(5000))  # shifts every later page by one
            lines[0]["_created"] = item(0)["_created"]

    eve = FakeEve(data, before=before)
    c, sleeps = client(eve, concurrency=1)
    (got, payments), _ = c.list_many([ListQuery(LINES, {}, expected=250), ListQuery(PAYMENTS, {}, expected=30)])
    assert len(got) == 251 and len(set(ids(got))) == 251 and set(ids(got)) == set(ids(lines))
    assert len(payments) == 30
    # The round was the first reading; the careful one the second, after one pause.
    assert eve.served.count((LINES, 1)) == 2 and eve.served.count((PAYMENTS, 1)) == 1
    assert len(sleeps) == 1


def test_a_list_that_never_settles_gives_up_after_three_readings_counting_the_round():
    data = two_lists()
    counter = [6000]

    def before(resource, page):
        if resource == LINES and page == 2:
            counter[0] += 1
            data[LINES].insert(0, item(counter[0]))

    eve = FakeEve(data, before=before)
    c, sleeps = client(eve, concurrency=1)
    with pytest.raises(InconsistentPagingError, match="3 attempts") as err:
        c.list_many([ListQuery(LINES, {}, expected=250)])
    assert LINES in str(err.value)
    assert eve.served.count((LINES, 1)) == 3 and len(sleeps) == 2


def test_a_failing_call_in_the_round_fails_the_round():
    def fails():
        raise NotFoundError("404 Not Found: x", url="x", status=404)

    c, _ = client(FakeEve(two_lists()))
    with pytest.raises(NotFoundError):
        c.list_many([ListQuery(LINES, {}, expected=250)], alongside=[fails])


def test_map_keeps_order_and_bounds_concurrency():
    lock, running, peak = threading.Lock(), [0], [0]
    first_three = threading.Barrier(3, timeout=5)  # passes only if three calls run at once

    def work(n):
        with lock:
            running[0] += 1
            peak[0] = max(peak[0], running[0])
        if n < 3:
            first_three.wait()
        with lock:
            running[0] -= 1
        return n * n

    c, _ = client(FakeEve({}), concurrency=3)
    with c:
        assert c.map(work, range(12)) == [n * n for n in range(12)]
    assert peak[0] == 3
