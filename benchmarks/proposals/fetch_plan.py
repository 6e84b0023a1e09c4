"""Proposal (monkeypatch, for the benchmark only): a fetch plan that keeps every known page in flight.

1. client.list_many(queries): several Eve lists read together. Page 1 of every
   list, and every further page its ``expected`` count predicts, go out in one
   concurrent round; only pages page 1 reveals beyond the prediction follow.
   A list whose pages do not fit together is read again the careful way
   (list_items), so correctness rests on the same paging checks as before.
2. fetch_period: the payouts first; then the lines of all payouts and the
   creditor payments in one round, the lines batched by plan_batches so that
   every batch but the last holds a whole number of pages (from the payouts'
   summary counts): requests = ceil(P/100) + ceil(S/100) + ceil(C/100)
   whatever P is, and no page waits for another batch's page 1.
3. list items are returned as they were decoded (no dict() copy of each).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import simplejson

from ledger_export.amili import client as client_module
from ledger_export.amili import fetch, paging


@dataclass(frozen=True)
class ListQuery:
    resource: str
    where: Mapping[str, Any]
    # Items the caller expects (e.g. from payout summaries); None: learn it from page 1.
    expected: int | None = None


def list_many(self, queries: Sequence[ListQuery], *, sort: str = "_created,_id", extra=None):
    built = [{"sort": sort, "where": simplejson.dumps(q.where, separators=(",", ":"), use_decimal=True)}
             for q in queries]

    def get(job):
        if callable(job):  # another request sharing the round (documents_prefetch.py)
            return job()
        index, number, per_page = job
        return self._page(queries[index].resource, built[index], number, per_page)

    size = self.page_size
    first_round = [(i, n, size) for i, q in enumerate(queries)
                   for n in range(1, max(1, math.ceil((q.expected or 0) / size)) + 1)]
    wants_extra = extra is not None
    extra = list(extra or ())
    answers = self._map(get, first_round + extra)
    extra_results = answers[len(first_round):]
    pages = {(i, n): page for (i, n, _), page in zip(first_round, answers)}
    # Pages page 1 reveals beyond the prediction (none when the summaries were right), at its page size.
    # (A server that serves fewer per page than asked served the predicted pages at its size too.)
    more = [(i, n, pages[i, 1].max_results) for i in range(len(queries))
            for n in range(2, pages[i, 1].page_count + 1) if (i, n) not in pages]
    pages.update({(i, n): page for (i, n, _), page in zip(more, self._map(get, more))})
    results = []
    for i, q in enumerate(queries):
        first = pages[i, 1]
        mine = [pages.get((i, n)) for n in range(1, first.page_count + 1)]
        if paging.inconsistency(mine) is None:
            results.append([item for page in mine for item in page.items])
        else:  # changed while it was read: the careful way, with its re-reads
            results.append(self.list_items(q.resource, q.where, sort=sort))
    return (results, extra_results) if wants_extra else results


def expected_lines(payout: Mapping[str, Any]) -> int | None:
    """The specification lines a payout's summary announces, or None when it cannot be read."""
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
                 limit: int = fetch.BATCH) -> list[tuple[list[str], int | None]]:
    """(payout ids, expected lines) per $in query; all but the last fill whole pages.

    Among any ``limit`` (>= page) payouts, two prefix sums of their line counts
    share a remainder modulo ``page`` (pigeonhole), so the payouts between them
    fill whole pages: take those as a batch, repeat. The payouts left over make
    the one batch whose last page is partly empty.
    """
    known = [(p["_id"], expected_lines(p)) for p in payouts]
    unknown = [pid for pid, n in known if n is None]
    # A payout announced empty still needs asking (its lines may exist); it rides with the leftovers.
    rest = [(pid, n) for pid, n in known if n]
    empty = [pid for pid, n in known if n == 0]
    batches: list[tuple[list[str], int | None]] = []
    while len(rest) > limit:
        seen = {0: 0}
        total = 0
        for j, (_, n) in enumerate(rest[:limit], start=1):
            total += n
            if total % page in seen:
                start = seen[total % page]
                break
            seen[total % page] = j
        chunk = rest[start:j]
        batches.append(([pid for pid, _ in chunk], sum(n for _, n in chunk)))
        rest = rest[:start] + rest[j:]
    last = [pid for pid, _ in rest] + empty
    expected = sum(n for _, n in rest)
    for start in range(0, len(last), limit):
        ids = last[start:start + limit]
        batches.append((ids, expected if start == 0 else 0))
    for start in range(0, len(unknown), limit):
        batches.append((unknown[start:start + limit], None))
    return batches


def fetch_period(client, creditor, period, *, created_since=None):
    in_period = {"$gte": fetch.timestamps.format(period.start),
                 "$lt": fetch.timestamps.format(period.end_exclusive)}
    where = {"creditor": creditor, "payout_date": in_period}
    if created_since is not None:
        where["_created"] = {"$gte": fetch.timestamps.format(created_since)}
    # Page 1 of the payouts alone first: every other request depends on it or can wait for it.
    (payouts,) = client.list_many([ListQuery(fetch.PAYOUTS, where)])
    fetch._check(fetch.PAYOUTS, payouts, creditor, "payout_date", period)
    batches = plan_batches(payouts, page=client.page_size)
    # The lines of all batches and the direct payments in one round.
    *found, payments = client.list_many(
        [ListQuery(fetch.SPECIFICATIONS, {"payout": {"$in": ids}}, expected) for ids, expected in batches]
        + [ListQuery(fetch.PAYMENTS, {"creditor": creditor, "booking_date": in_period})])
    fetch._check(fetch.PAYMENTS, payments, creditor, "booking_date", period)
    lines: list[dict] = []
    for (ids, _), batch in zip(batches, found):
        fetch._check_payout(batch, set(ids))
        lines.extend(batch)
    return fetch.RawPeriod(
        creditor=creditor, period=period, base_url=client.base_url,
        payouts=fetch._stable(fetch.PAYOUTS, payouts),
        specifications=fetch._stable(fetch.SPECIFICATIONS, fetch._unique(lines)),
        payments=fetch._stable(fetch.PAYMENTS, payments),
    )


client_module.AmiliClient.list_many = list_many
client_module.ListQuery = ListQuery  # where the real change would put them
fetch.plan_batches = plan_batches
fetch.expected_lines = expected_lines
fetch.fetch_period = fetch_period
