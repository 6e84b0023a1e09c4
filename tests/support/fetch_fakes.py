"""Eve items for the fetch tests: June 2025 payouts, their lines and payments, and the filters asked for."""

from __future__ import annotations

import json
from decimal import Decimal

from ledger_export.core.period import month
from support.http_fakes import item, query

CREDITOR = "686e6ed854377058c2dd10bd"
OTHER = "5f0000000000000000000001"
JUNE = month("2025-06")


def payout(n: int, day: str = "Fri, 13 Jun 2025 00:00:00 GMT", creditor: str = CREDITOR) -> dict:
    return item(n, creditor=creditor, payout_date=day, total_amount=Decimal("10.00"))


def line(n: int, of: dict) -> dict:
    return item(n, payout=of["_id"], creditor=CREDITOR, amount=Decimal("0.10"))


def payment(n: int, day: str = "Mon, 02 Jun 2025 00:00:00 GMT") -> dict:
    return item(n, creditor=CREDITOR, booking_date=day, amount=Decimal("99.90"))


def wheres(adapter, resource, first_pages_only=False):
    return [json.loads(query(r)["where"]) for r in adapter.requests
            if r.url.split("?")[0].endswith(resource) and (not first_pages_only or query(r)["page"] == "1")]
