"""Reading Eve lists whole, each item exactly once: one list carefully, or many in one round.

Why a round: every request waits a whole round trip to Amili, and a list's
later pages need not wait for its page 1 when the caller can say how long
the list will be (a payout's summary counts its specification lines). So
page 1 of every list, every further page the caller's count predicts, and
any other requests the caller has (the self-invoice PDFs) go out together,
as many at once as the client allows; only pages that page 1 reveals beyond
the prediction follow. A list of N items still costs ceil(N / page size)
requests.

Correctness does not rest on the prediction. A round's pages of a list are
checked exactly as a careful reading's are (paging.inconsistency: one total,
one page size, every page as full as the total says, no _id twice), and a
list whose pages do not fit together is read again the careful way, the
round counting as its first attempt. A wrong count costs requests, never
items: too low, the missing pages follow page 1; too high, a page past the
end is not asked for once page 1 is in (one asked before is left unread).
"""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any, TypeVar

import simplejson

from ..errors import InconsistentPagingError
from . import paging
from .answers import readable

log = logging.getLogger("ledger_export.amili")

# Reading a list again after it changed under us: a few times, then give up loudly.
PAGING_ATTEMPTS = 3
# The count comes from data: past this many pages a list's pages wait for its
# page 1 (as unpredicted ones do), so an absurd count cannot queue millions of jobs.
MAX_PREDICTED_PAGES = 1000

R = TypeVar("R")


@dataclass(frozen=True)
class ListQuery:
    """One Eve list: its resource, Eve's ``where`` filter, and the items expected (None: unknown)."""

    resource: str
    where: Mapping[str, Any]
    expected: int | None = None


def eve_query(where: Mapping[str, Any], sort: str, projection: Mapping[str, Any] | None = None) -> dict[str, str]:
    query = {"sort": sort, "where": simplejson.dumps(where, separators=(",", ":"), use_decimal=True)}
    if projection is not None:
        query["projection"] = json.dumps(projection, separators=(",", ":"))
    return query


def _items(pages: Sequence[paging.Page]) -> list[dict]:
    # Each item was decoded for this reading alone: handing it on needs no copy.
    return [item for page in pages for item in page.items]


@dataclass(frozen=True)
class ListReader:
    """Reads lists with a client's checked pages and its pool (see AmiliClient.list_items, list_many)."""

    page: Callable[[str, Mapping[str, str], int, int], paging.Page]  # resource, query, number, per page
    map: Callable[[Callable[[Any], Any], Iterable[Any]], list]
    page_size: int
    pause: Callable[[int], None]  # before reading a list again after attempt n failed
    url: Callable[[str], str]

    def read(self, resource: str, query: Mapping[str, str], *, failed: str | None = None) -> list[dict]:
        """Every item of one list, read until its pages fit together.

        ``failed``: why a reading made elsewhere (a round) did not fit; it was attempt 1.
        """
        attempt, problem = (0, None) if failed is None else (1, failed)
        while True:
            if problem is not None:
                log.info("%s changed while it was read (%s); reading it again (attempt %d of %d)",
                         resource, problem, attempt, PAGING_ATTEMPTS)
                if attempt == PAGING_ATTEMPTS:
                    raise InconsistentPagingError(
                        f"{resource} kept changing while it was read ({problem}); gave up after "
                        f"{PAGING_ATTEMPTS} attempts: run again when Amili is not updating it",
                        url=readable(self.url(resource), query))
                self.pause(attempt)
            attempt += 1
            first = self.page(resource, query, 1, self.page_size)
            # Page 1 fixes the page size the server really serves; asking for
            # exactly that keeps every page's skip/limit arithmetic the same.
            rest = range(2, first.page_count + 1)
            pages = [first, *self.map(lambda n: self.page(resource, query, n, first.max_results), rest)]
            problem = paging.inconsistency(pages)
            if problem is None:
                return _items(pages)

    def read_many(self, queries: Sequence[ListQuery], sort: str,
                  alongside: Sequence[Callable[[], R]] = ()) -> tuple[list[list[dict]], list[R]]:
        """Every item of each list (as ``read`` gives it), and the results of ``alongside``, in order."""
        built = [eve_query(q.where, sort) for q in queries]
        firsts: dict[int, paging.Page] = {}  # page 1 of a list, as soon as it is in

        def fetch(i: int, number: int, per_page: int) -> paging.Page | None:
            first = firsts.get(i)
            if first is not None and number > first.page_count:
                return None  # past the end page 1 announced: the count was too high
            page = self.page(queries[i].resource, built[i], number, per_page)
            if number == 1:
                firsts[i] = page
            return page

        def predicted(q: ListQuery) -> int:
            return min(MAX_PREDICTED_PAGES, max(1, math.ceil((q.expected or 0) / self.page_size)))

        # Every page 1 first, so that a too-high count is found before its last pages are asked for.
        wanted = sorted(((i, n) for i, q in enumerate(queries) for n in range(1, predicted(q) + 1)),
                        key=lambda key: (key[1], key[0]))
        jobs = [partial(fetch, i, n, self.page_size) for i, n in wanted]
        answers = self.map(lambda job: job(), [*jobs, *alongside])
        pages = {key: page for key, page in zip(wanted, answers) if page is not None}
        # Pages page 1 revealed beyond the prediction, at the size the server served it.
        more = [(i, n) for i in range(len(queries)) for n in range(2, pages[i, 1].page_count + 1)
                if (i, n) not in pages]
        pages.update(zip(more, self.map(lambda key: fetch(*key, pages[key[0], 1].max_results), more)))
        lists = []
        for i, q in enumerate(queries):
            first = pages[i, 1]
            # Pages read past the end page 1 announced are left out, as a careful reading never asks for them.
            reading = [pages[i, n] for n in range(1, first.page_count + 1)]
            problem = paging.inconsistency(reading)
            lists.append(_items(reading) if problem is None else self.read(q.resource, built[i], failed=problem))
        return lists, answers[len(jobs):]
