"""Fetching one period from Amili: its payouts, their specification lines, the direct payments.

Two rounds of requests, as many at once as the client allows: the payouts
first (the lines' queries and the PDFs' addresses come from them), then
every page of the lines and of the direct payments together
(AmiliClient.list_many), with any self-invoice PDFs the caller names, so no
request waits for another it does not need (amili/lists.py says why that is
as safe as reading one list after another).

Requests made, with P payouts, S specification lines and C creditor payments
(page size 100): ceil(P/100) + ceil(S/100) + ceil(C/100), plus one for the
API-code token when that flow is used, plus the PDFs asked for. An empty
list still costs its one page (the spec query is skipped when there are no
payouts). Above 100 payouts the lines are asked for in batches of at most
100 payout ids, packed by the payouts' summary counts so that every batch
but one fills whole pages (plan_batches): no batch adds a page. A server
that serves fewer than 100 per page puts its own page size in place of
100. Retries, token refreshes, re-reads of a list that changed, and pages
hidden by a summary count that is wrong come on top.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from datetime import datetime
from functools import partial
from typing import Any

from ledger_export.core.errors import InconsistentPagingError, LedgerExportError, ResponseFormatError
from ledger_export.core.period import Period
from ledger_export.amili import timestamps
from ledger_export.amili.client import AmiliClient
from ledger_export.amili.lists import ListQuery

PAYOUTS = "finance--payouts"
SPECIFICATIONS = "finance--payout-specifications"
PAYMENTS = "creditor--payments"
# Ids per $in query: keeps the URL short (about 3 kB) and matches the page size.
BATCH = 100

# Given the period's payouts as fetched, the URLs of the documents to download with the lines.
DocumentUrls = Callable[[Sequence[dict[str, Any]]], Iterable[str]]
# One such download: the bytes, or the error the client raised (what it means is the caller's to say).
Download = bytes | LedgerExportError


@dataclass(frozen=True)
class RawPeriod:
    """The JSON items exactly as Amili sent them (numbers as Decimal), in (_created, _id) order."""

    creditor: str
    period: Period
    base_url: str
    payouts: tuple[dict[str, Any], ...]
    specifications: tuple[dict[str, Any], ...]
    payments: tuple[dict[str, Any], ...]


@dataclass(frozen=True)
class FetchedPeriod:
    """What fetch_period brings back: the period's records, and the documents asked for with them.

    ``downloads``: URL -> the bytes, or the client's error (a failed download
    is no failed fetch: what it means is the caller's to say); empty when no
    documents were asked for.
    """

    raw: RawPeriod
    downloads: Mapping[str, Download] = field(default_factory=dict)


def fetch_period(client: AmiliClient, creditor: str, period: Period, *, created_since: datetime | None = None,
                 documents: DocumentUrls | None = None) -> FetchedPeriod:
    """The period as Amili has it.

    ``created_since`` (``--since-last``, see ledger_export/incremental.py): only payouts
    created from then on, and their lines; the direct payments are always the whole period's.
    ``documents``: names the files to download in the lines' round (``downloads``).
    """
    in_period = {"$gte": timestamps.format(period.start), "$lt": timestamps.format(period.end_exclusive)}
    where: dict[str, Any] = {"creditor": creditor, "payout_date": in_period}
    if created_since is not None:
        where["_created"] = {"$gte": timestamps.format(created_since)}
    payouts = client.list_items(PAYOUTS, where)
    _check(PAYOUTS, payouts, creditor, "payout_date", period)
    batches = plan_batches(payouts, page=client.page_size)
    urls = list(dict.fromkeys(documents(payouts))) if documents is not None else []
    (*found, payments), downloads = client.list_many(
        [ListQuery(SPECIFICATIONS, {"payout": {"$in": ids}}, expected) for ids, expected in batches]
        + [ListQuery(PAYMENTS, {"creditor": creditor, "booking_date": in_period})],
        alongside=[partial(_download, client, url) for url in urls])
    lines: list[dict[str, Any]] = []
    for (ids, _), batch in zip(batches, found):
        _check_payout(batch, set(ids))
        lines.extend(batch)
    _check_creditor(SPECIFICATIONS, lines, creditor)
    _check(PAYMENTS, payments, creditor, "booking_date", period)
    raw = RawPeriod(
        creditor=creditor,
        period=period,
        base_url=client.base_url,
        payouts=_stable(PAYOUTS, payouts),
        # Batches are each in order; together they need sorting again.
        specifications=_stable(SPECIFICATIONS, _unique(lines)),
        payments=_stable(PAYMENTS, payments),
    )
    return FetchedPeriod(raw, dict(zip(urls, downloads)))


def _download(client: AmiliClient, url: str) -> Download:
    # A self-invoice that cannot be had is a finding for amili.documents.collect_documents to
    # make (a warning), not a failed fetch; the round goes on.
    try:
        return client.download(url)
    except LedgerExportError as exc:
        return exc


def expected_lines(payout: Mapping[str, Any]) -> int | None:
    """The specification lines a payout's summary counts, or None when the counts cannot be read."""
    summary = payout.get("summary")
    if not isinstance(summary, Mapping):
        return None
    total = 0
    for entry in summary.values():
        count = entry.get("count") if isinstance(entry, Mapping) else None
        if isinstance(count, bool) or not isinstance(count, int) or count < 0:
            return None
        total += count
    return total


def plan_batches(payouts: Sequence[Mapping[str, Any]], page: int = 100,
                 limit: int = BATCH) -> list[tuple[list[str], int | None]]:
    """The lines' $in queries: (payout ids, lines expected or None), at most ``limit`` ids each.

    Every batch of counted payouts but the last holds whole pages. Why that is
    always possible (for limit >= page): among ``limit`` payouts, two of the
    limit + 1 prefix sums of their line counts share a remainder modulo
    ``page`` (pigeonhole), so the payouts between them fill whole pages. Take
    those as a batch and repeat; the payouts left over make the last batch.
    Payouts counted empty still get asked (a count may be wrong) and ride
    with the leftovers; payouts without readable counts get batches of their own.
    """
    counts = [(p["_id"], expected_lines(p)) for p in payouts]
    rest = [(pid, n) for pid, n in counts if n]
    batches: list[tuple[list[str], int | None]] = []
    while len(rest) > limit:
        start, end = _whole_pages([n for _, n in rest[:limit]], page)
        chunk = rest[start:end]
        batches.append(([pid for pid, _ in chunk], sum(n for _, n in chunk)))
        rest = rest[:start] + rest[end:]
    last = [pid for pid, _ in rest] + [pid for pid, n in counts if n == 0]
    for start in range(0, len(last), limit):
        batches.append((last[start:start + limit], sum(n for _, n in rest) if start == 0 else 0))
    unknown = [pid for pid, n in counts if n is None]
    batches += [(unknown[start:start + limit], None) for start in range(0, len(unknown), limit)]
    return batches


def _whole_pages(counts: Sequence[int], page: int) -> tuple[int, int]:
    """A run ``counts[start:end]`` whose sum is a multiple of ``page``; all of them when there is none."""
    seen = {0: 0}
    total = 0
    for end, n in enumerate(counts, start=1):
        total += n
        start = seen.setdefault(total % page, end)
        if start != end:
            return start, end
    return 0, len(counts)  # possible only when page > limit: one partly filled page more


def check_raw(raw: RawPeriod) -> None:
    """The checks an answer from Amili gets, for a raw snapshot read from disk (--from-raw)."""
    _check(PAYOUTS, raw.payouts, raw.creditor, "payout_date", raw.period)
    _check_payout(raw.specifications, {item.get("_id") for item in raw.payouts})
    _check_creditor(SPECIFICATIONS, raw.specifications, raw.creditor)
    _unique(list(raw.specifications))
    _check(PAYMENTS, raw.payments, raw.creditor, "booking_date", raw.period)


def _reference(value: Any) -> Any:
    """An id Eve may give as a plain string or embedded as {"_id": ...}."""
    return value.get("_id") if isinstance(value, Mapping) else value


def _check_creditor(resource: str, items: Iterable[dict[str, Any]], creditor: str) -> None:
    """Every record is the creditor's own. A line is asked for by its payout, not by creditor,
    so a line of another creditor hung on our payout would pass every other check and be
    booked as ours. Amili sends ``creditor`` on every record (all of samples/amili/ carry
    it), so a record without one is refused too, not assumed to be ours."""
    for item in items:
        found = _reference(item.get("creditor"))
        if found != creditor:
            shown = "missing" if found is None else f"{found!r:.40}"
            raise ResponseFormatError(f"{resource} {item.get('_id')}: field 'creditor' is {shown}, "
                                      f"not the creditor {creditor} that was asked for")


def _check(resource: str, items: Sequence[dict[str, Any]], creditor: str, date_field: str, period: Period) -> None:
    # The where filter does this on the server; an answer that ignored it must not reach the books.
    _check_creditor(resource, items, creditor)
    for item in items:
        try:
            day = timestamps.parse_day(item.get(date_field))
        except ValueError as exc:
            raise ResponseFormatError(f"{resource} {item.get('_id')}: field '{date_field}' {exc}") from None
        if day not in period:
            raise ResponseFormatError(f"{resource} {item.get('_id')}: field '{date_field}' is {day}, "
                                      f"outside the period {period.label} that was asked for")


def _check_payout(lines: Iterable[dict[str, Any]], asked: AbstractSet[str | None]) -> None:
    for line in lines:
        payout = _reference(line.get("payout"))
        if payout not in asked:
            raise ResponseFormatError(f"{SPECIFICATIONS} {line.get('_id')}: field 'payout' is {payout!r:.40}, "
                                      f"not one of the payouts asked for")


def _unique(lines: list[dict[str, Any]]) -> list[dict[str, Any]]:
    # Batches ask for different payouts, so a line in two of them was moved
    # from one payout to another while we read: the data is not one picture.
    seen: set[str] = set()
    for line in lines:
        if line["_id"] in seen:
            raise InconsistentPagingError(f"{SPECIFICATIONS} {line['_id']} moved to another payout "
                                          f"while the period was read: run again")
        seen.add(line["_id"])
    return list(lines)


def _stable(resource: str, items: Iterable[dict[str, Any]]) -> tuple[dict[str, Any], ...]:
    def key(item: dict[str, Any]) -> tuple[datetime, str]:
        try:
            return timestamps.parse(item.get("_created")), item["_id"]
        except ValueError as exc:
            raise ResponseFormatError(f"{resource} {item['_id']}: field '_created' {exc}") from None

    return tuple(sorted(items, key=key))
