"""Reading whole Eve lists: page geometry, concurrency, and lists that change under us."""

from __future__ import annotations

import json
import threading

import pytest

from ledger_export.amili.client import AmiliClient
from ledger_export.core.errors import InconsistentPagingError, ResponseFormatError
from support.http_fakes import BASE, FakeEve, FakeTokens, ScriptedAdapter, item, query, scripted_client, sequence

RESOURCE = "finance--payout-specifications"


def client(handler, **options) -> tuple[AmiliClient, ScriptedAdapter, list[float]]:
    sleeps: list[float] = []
    c, adapter = scripted_client(handler, seed=3, sleeps=sleeps, **options)
    return c, adapter, sleeps


def ids(items):
    return [i["_id"] for i in items]


def test_a_long_list_is_read_page_by_page_in_sort_order():
    data = [item(n) for n in range(250)]
    eve = FakeEve({RESOURCE: list(reversed(data))})
    c, adapter, _ = client(eve)
    got = c.list_items(RESOURCE, {"creditor": None})
    assert ids(got) == ids(data)
    assert sorted(eve.served) == [(RESOURCE, 1), (RESOURCE, 2), (RESOURCE, 3)]
    assert c.requests_made == 3


def test_query_parameters_are_eve_json():
    eve = FakeEve({RESOURCE: []})
    c, adapter, _ = client(eve)
    c.list_items(RESOURCE, {"payout": {"$in": ["a", "b"]}}, projection={"amount": 1})
    q = query(adapter.requests[0])
    assert json.loads(q["where"]) == {"payout": {"$in": ["a", "b"]}}
    assert json.loads(q["projection"]) == {"amount": 1}
    assert (q["sort"], q["page"], q["max_results"]) == ("_created,_id", "1", "100")


def test_an_empty_list_costs_one_request():
    c, adapter, _ = client(FakeEve({}))
    assert c.list_items(RESOURCE, {}) == []
    assert len(adapter.requests) == 1


def test_a_server_that_serves_fewer_per_page_than_asked_is_paged_by_what_it_says():
    data = [item(n) for n in range(95)]
    eve = FakeEve({RESOURCE: data}, cap=10)
    c, adapter, _ = client(eve)
    assert ids(c.list_items(RESOURCE, {})) == ids(data)
    assert len(adapter.requests) == 10
    later = [query(r)["max_results"] for r in adapter.requests if query(r)["page"] != "1"]
    assert set(later) == {"10"}


def test_remaining_pages_are_fetched_concurrently():
    # Pages 2 and 3 each wait for the other: only concurrent fetching gets past the barrier.
    barrier = threading.Barrier(2, timeout=5)
    eve = FakeEve({RESOURCE: [item(n) for n in range(300)]})

    def handler(request):
        if query(request)["page"] in ("2", "3"):
            barrier.wait()
        return eve(request)

    c, adapter, _ = client(handler, concurrency=4)
    assert len(c.list_items(RESOURCE, {})) == 300
    assert len(adapter.threads) >= 2
    c.close()


def test_concurrency_is_bounded():
    lock = threading.Lock()
    in_flight = [0]
    peak = [0]
    eve = FakeEve({RESOURCE: [item(n) for n in range(1000)]})
    gate = threading.Event()

    def handler(request):
        with lock:
            in_flight[0] += 1
            peak[0] = max(peak[0], in_flight[0])
            if in_flight[0] == 3:
                gate.set()
        # Hold each later page until the pool has had the chance to run three at once.
        if query(request)["page"] != "1":
            gate.wait(timeout=2)
        try:
            return eve(request)
        finally:
            with lock:
                in_flight[0] -= 1

    c, _, _ = client(handler, concurrency=3)
    assert len(c.list_items(RESOURCE, {})) == 1000
    assert peak[0] == 3
    c.close()


def test_each_worker_thread_has_its_own_session():
    made = []
    eve = FakeEve({RESOURCE: [item(n) for n in range(500)]})
    adapter = ScriptedAdapter(eve)

    def factory():
        made.append(threading.current_thread().name)
        return adapter.session_factory()()

    with AmiliClient(BASE, FakeTokens(), session_factory=factory, concurrency=2) as c:
        c.list_items(RESOURCE, {})
    assert len(made) == len(set(made)) and 2 <= len(made) <= 3


def test_an_item_inserted_after_page_1_makes_the_list_read_again():
    data = [item(n) for n in range(1, 251)]
    inserted = item(0)

    def before(resource, page):
        if page == 2 and inserted not in data:
            data.insert(0, inserted)  # shifts every later page by one

    eve = FakeEve({RESOURCE: data}, before=before)
    c, _, sleeps = client(eve, concurrency=1)
    got = c.list_items(RESOURCE, {})
    assert ids(got) == ids(data) and len(got) == 251 and len(set(ids(got))) == 251
    assert eve.served.count((RESOURCE, 1)) == 2
    assert len(sleeps) == 1


def test_an_item_deleted_mid_list_makes_the_list_read_again():
    data = [item(n) for n in range(250)]

    def before(resource, page):
        if page == 3 and len(data) == 250:
            del data[10]

    eve = FakeEve({RESOURCE: data}, before=before)
    c, _, _ = client(eve, concurrency=1)
    got = c.list_items(RESOURCE, {})
    assert len(got) == 249 and ids(got) == ids(data)


def test_an_item_that_moves_within_the_list_is_caught_by_the_duplicate_check():
    # The total stays the same, but item 150 jumps in front of page 2 and is served twice.
    data = [item(n) for n in range(250)]
    moved_once = []

    def before(resource, page):
        if page == 2 and not moved_once:
            moved_once.append(True)
            moved = data.pop(50)
            moved["_created"] = item(250)["_created"]
            data.append(moved)

    eve = FakeEve({RESOURCE: data}, before=before)
    c, _, _ = client(eve, concurrency=1)
    got = c.list_items(RESOURCE, {})
    assert len(got) == 250 and len(set(ids(got))) == 250
    assert eve.served.count((RESOURCE, 1)) == 2


def test_a_list_that_never_settles_is_an_inconsistent_paging_error():
    data = [item(n) for n in range(150)]
    counter = [1000]

    def before(resource, page):
        if page == 2:
            counter[0] += 1
            data.insert(0, item(counter[0]))

    eve = FakeEve({RESOURCE: data}, before=before)
    c, _, sleeps = client(eve, concurrency=1)
    with pytest.raises(InconsistentPagingError) as err:
        c.list_items(RESOURCE, {})
    assert RESOURCE in str(err.value) and "3 attempts" in str(err.value)
    assert eve.served.count((RESOURCE, 1)) == 3 and len(sleeps) == 2


def test_a_short_page_before_the_end_is_an_inconsistency():
    page = {"_items": [item(n) for n in range(100)], "_meta": {"page": 1, "max_results": 100, "total": 150}}
    short = {"_items": [item(n) for n in range(100, 140)], "_meta": {"page": 2, "max_results": 100, "total": 150}}
    c, _, _ = client(lambda r: (200, page if query(r)["page"] == "1" else short))
    with pytest.raises(InconsistentPagingError, match="page 2 held 40 items, expected 50"):
        c.list_items(RESOURCE, {})


@pytest.mark.parametrize("body, problem", [
    ({"_meta": {"total": 0, "max_results": 100}}, "no _items"),
    ({"_items": []}, "no _meta"),
    ({"_items": [], "_meta": {"max_results": 100}}, "_meta.total"),
    ({"_items": [{"amount": 1}], "_meta": {"total": 1, "max_results": 100}}, "item 1 has no _id"),
    ({"_items": [], "_meta": {"page": 2, "total": 0, "max_results": 100}}, "_meta.page"),
    ([], "not a JSON object"),
])
def test_a_list_answer_without_the_eve_fields_is_a_format_error(body, problem):
    c, _, _ = client(sequence((200, body)))
    with pytest.raises(ResponseFormatError, match=problem) as err:
        c.list_items(RESOURCE, {})
    assert RESOURCE in str(err.value)
