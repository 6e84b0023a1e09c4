"""Fetching one period from Amili: its payouts, their specification lines, the direct payments.

Requests made, with P payouts, S specification lines and C creditor payments
(page size 100, none empty): ceil(P/100) + ceil(S/100) + ceil(C/100), plus
one for the API-code token when that flow is used. An empty list still costs
its one page (the spec query is skipped when there are no payouts). Above
100 payouts the lines are asked for in batches of 100 payout ids, and each
extra batch can add at most one more page (its last, partly filled one).
A server that serves fewer than 100 per page puts its own page size in
place of 100. Retries, token refreshes and re-reads of a list that changed
come on top.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ..errors import InconsistentPagingError, ResponseFormatError
from ..period import Period
from . import timestamps
from .client import AmiliClient

PAYOUTS = "finance--payouts"
SPECIFICATIONS = "finance--payout-specifications"
PAYMENTS = "creditor--payments"
# Ids per $in query: keeps the URL short (about 3 kB) and matches the page size.
BATCH = 100


@dataclass(frozen=True)
class RawPeriod:
    """The JSON items exactly as Amili sent them (numbers as Decimal), in (_created, _id) order."""

    creditor: str
    period: Period
    base_url: str
    payouts: tuple[dict, ...]
    specifications: tuple[dict, ...]
    payments: tuple[dict, ...]


def fetch_period(client: AmiliClient, creditor: str, period: Period, *,
                 created_since: datetime | None = None) -> RawPeriod:
    """``created_since`` (``--since-last``, see ledger_export/incremental.py): only payouts
    created from then on, and their lines; the direct payments are always the whole period's."""
    in_period = {"$gte": timestamps.format(period.start), "$lt": timestamps.format(period.end_exclusive)}
    where: dict[str, Any] = {"creditor": creditor, "payout_date": in_period}
    if created_since is not None:
        where["_created"] = {"$gte": timestamps.format(created_since)}
    payouts = client.list_items(PAYOUTS, where)
    _check(PAYOUTS, payouts, creditor, "payout_date", period)
    ids = [item["_id"] for item in payouts]
    lines: list[dict] = []
    for start in range(0, len(ids), BATCH):
        batch = ids[start:start + BATCH]
        found = client.list_items(SPECIFICATIONS, {"payout": {"$in": batch}})
        _check_payout(found, set(batch))
        lines.extend(found)
    payments = client.list_items(PAYMENTS, {"creditor": creditor, "booking_date": in_period})
    _check(PAYMENTS, payments, creditor, "booking_date", period)
    return RawPeriod(
        creditor=creditor,
        period=period,
        base_url=client.base_url,
        payouts=_stable(PAYOUTS, payouts),
        # Batches are each in order; together they need sorting again.
        specifications=_stable(SPECIFICATIONS, _unique(lines)),
        payments=_stable(PAYMENTS, payments),
    )


def check_raw(raw: RawPeriod) -> None:
    """The checks an answer from Amili gets, for a raw snapshot read from disk (--from-raw)."""
    _check(PAYOUTS, raw.payouts, raw.creditor, "payout_date", raw.period)
    _check_payout(raw.specifications, {item.get("_id") for item in raw.payouts})
    _unique(list(raw.specifications))
    _check(PAYMENTS, raw.payments, raw.creditor, "booking_date", raw.period)


def _reference(value: Any) -> Any:
    """An id Eve may give as a plain string or embedded as {"_id": ...}."""
    return value.get("_id") if isinstance(value, Mapping) else value


def _check(resource: str, items: Iterable[dict], creditor: str, date_field: str, period: Period) -> None:
    # The where filter does this on the server; an answer that ignored it must not reach the books.
    for item in items:
        found = _reference(item.get("creditor"))
        if found != creditor:
            raise ResponseFormatError(f"{resource} {item.get('_id')}: field 'creditor' is {found!r:.40}, "
                                      f"not the creditor {creditor} that was asked for")
        try:
            day = timestamps.parse_day(item.get(date_field))
        except ValueError as exc:
            raise ResponseFormatError(f"{resource} {item.get('_id')}: field '{date_field}' {exc}") from None
        if day not in period:
            raise ResponseFormatError(f"{resource} {item.get('_id')}: field '{date_field}' is {day}, "
                                      f"outside the period {period.label} that was asked for")


def _check_payout(lines: Iterable[dict], asked: set[str]) -> None:
    for line in lines:
        payout = _reference(line.get("payout"))
        if payout not in asked:
            raise ResponseFormatError(f"{SPECIFICATIONS} {line.get('_id')}: field 'payout' is {payout!r:.40}, "
                                      f"not one of the payouts asked for")


def _unique(lines: list[dict]) -> list[dict]:
    # Batches ask for different payouts, so a line in two of them was moved
    # from one payout to another while we read: the data is not one picture.
    seen: set[str] = set()
    for line in lines:
        if line["_id"] in seen:
            raise InconsistentPagingError(f"{SPECIFICATIONS} {line['_id']} moved to another payout "
                                          f"while the period was read: run again")
        seen.add(line["_id"])
    return list(lines)


def _stable(resource: str, items: Iterable[dict]) -> tuple[dict, ...]:
    def key(item: dict) -> tuple:
        try:
            return timestamps.parse(item.get("_created")), item["_id"]
        except ValueError as exc:
            raise ResponseFormatError(f"{resource} {item['_id']}: field '_created' {exc}") from None

    return tuple(sorted(items, key=key))
