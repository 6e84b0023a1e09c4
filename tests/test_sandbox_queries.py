"""Eve's paging and where/sort over the sample data, as a client sees them."""

from __future__ import annotations

import json

import pytest
import requests
import simplejson

from ledger_export.amili import timestamps
from ledger_export.core.resources import SAMPLES

JUNE = {"$gte": "Sun, 01 Jun 2025 00:00:00 GMT", "$lt": "Tue, 01 Jul 2025 00:00:00 GMT"}


def sample(resource: str) -> list[dict]:
    return simplejson.loads((SAMPLES / "amili" / f"{resource}.json").read_text("utf-8"), use_decimal=True)


def in_june(item: dict, field: str) -> bool:
    return item.get(field) is not None and timestamps.parse_day(item[field]).strftime("%Y-%m") == "2025-06"


def get(sandbox, resource: str, **params) -> dict:
    for key in ("where", "projection"):
        if isinstance(params.get(key), dict):
            params[key] = json.dumps(params[key])
    response = requests.get(f"{sandbox.base_url}/{resource}", params=params,
                            headers={"X-API-Key": sandbox.api_key}, timeout=5)
    assert response.status_code == 200, response.text
    return response.json()


def all_pages(sandbox, resource: str, **params) -> list[dict]:
    items, page = [], 1
    while True:
        body = get(sandbox, resource, page=page, max_results=100, sort="_created,_id", **params)
        items += body["_items"]
        if page * body["_meta"]["max_results"] >= body["_meta"]["total"]:
            return items
        page += 1


def test_default_page_is_25_with_eves_meta_and_links(sandbox):
    body = get(sandbox, "finance--payout-specifications")
    assert body["_meta"] == {"page": 1, "max_results": 25, "total": len(sample("finance--payout-specifications"))}
    assert len(body["_items"]) == 25
    assert "next" in body["_links"] and "last" in body["_links"]


def test_max_results_above_100_is_capped_silently(sandbox):
    body = get(sandbox, "finance--payout-specifications", max_results=500)
    assert body["_meta"]["max_results"] == 100 and len(body["_items"]) == 100


def test_a_server_can_cap_lower_than_asked(sandbox_factory):
    sandbox = sandbox_factory(page_limit=7)
    body = get(sandbox, "finance--payout-specifications", max_results=100, page=2)
    assert body["_meta"] == {"page": 2, "max_results": 7, "total": len(sample("finance--payout-specifications"))}
    assert len(body["_items"]) == 7


def test_pages_in_created_order_cover_every_line_once(sandbox):
    items = all_pages(sandbox, "finance--payout-specifications")
    assert [i["_id"] for i in items] == [i["_id"] for i in sample("finance--payout-specifications")]


def test_where_on_payout_date_returns_exactly_the_june_payouts(sandbox):
    items = all_pages(sandbox, "finance--payouts",
                      where={"creditor": "686e6ed854377058c2dd10bd", "payout_date": JUNE})
    expected = {p["_id"] for p in sample("finance--payouts") if in_june(p, "payout_date")}
    assert {i["_id"] for i in items} == expected and len(expected) == 13


def test_where_payout_in_returns_exactly_the_lines_of_those_payouts(sandbox):
    june = {p["_id"] for p in sample("finance--payouts") if in_june(p, "payout_date")}
    items = all_pages(sandbox, "finance--payout-specifications", where={"payout": {"$in": sorted(june)}})
    expected = {s["_id"] for s in sample("finance--payout-specifications") if s.get("payout") in june}
    assert {i["_id"] for i in items} == expected and len(expected) > 300


def test_where_on_booking_date_returns_exactly_the_june_creditor_payments(sandbox):
    items = all_pages(sandbox, "creditor--payments", where={"booking_date": JUNE})
    expected = {p["_id"] for p in sample("creditor--payments") if in_june(p, "booking_date")}
    assert {i["_id"] for i in items} == expected and len(expected) >= 4


def test_items_come_back_exactly_as_the_sample_files_hold_them(sandbox):
    served = get(sandbox, "finance--payouts", max_results=100)["_items"]
    for item in served:
        del item["_links"]
    # Same ids, dates, nested ids and amounts (as JSON numbers, compared exactly).
    assert simplejson.loads(json.dumps(served), use_decimal=True) == sample("finance--payouts")


def test_item_endpoint_and_projection(sandbox):
    payout = sample("finance--payouts")[0]
    response = requests.get(f"{sandbox.base_url}/finance--payouts/{payout['_id']}",
                            headers={"X-API-Key": sandbox.api_key}, timeout=5)
    item = simplejson.loads(response.text, use_decimal=True)
    assert item["_etag"] == payout["_etag"] and item["summary"] == payout["summary"]
    projected = get(sandbox, "finance--payouts", projection={"amount": 1}, max_results=1)["_items"][0]
    assert set(projected) == {"_id", "_created", "_updated", "_etag", "_links", "amount"}
    assert projected["_created"] == payout["_created"]


@pytest.mark.parametrize("where", ['{"$where": "1"}', "{not json"])
def test_bad_where_is_eves_400(sandbox, where):
    response = requests.get(f"{sandbox.base_url}/finance--payouts", params={"where": where},
                            headers={"X-API-Key": sandbox.api_key}, timeout=5)
    assert response.status_code == 400 and response.json()["_status"] == "ERR"


def test_seed_folder_with_unknown_fields_serves_them(sandbox_factory, tmp_path):
    payout = dict(sample("finance--payouts")[0], new_field_from_amili="kept")
    (tmp_path / "finance--payouts.json").write_text(simplejson.dumps([payout], use_decimal=True), "utf-8")
    sandbox = sandbox_factory(tmp_path)
    items = get(sandbox, "finance--payouts")["_items"]
    assert [i["new_field_from_amili"] for i in items] == ["kept"]
    assert get(sandbox, "finance--payout-specifications")["_meta"]["total"] == 0
