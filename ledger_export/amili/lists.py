"""Reading Eve lists whole, each item exactly once: one list carefully, or many in one round.

Why a round: every request waits a whole round trip to Amili, and a list's
later pages need not wait for its page 1 when the caller can say how long
the list will be (a payout's summary counts its specification lines). So
page 1 of every list, every further page the caller's count predicts, and
any other requests the caller has (the self-invoice PDFs) go out together,
as many at once as the client allows; only pages that page 1 reveals beyond
the prediction follow. A list of N items still costs ceil(N / page size)
requests.

Correctness does not rest on the prediction, nor on Amili's count. A
reading asks for a page only when a worker is free for it (the client's
map reads its arguments lazily), and stops at the first page that is short
or empty: so a count that lies, the caller's or
``_meta.total``, costs at most one request per worker beyond the list's
real end, never a plan of millions of pages. No list is read past
``[amili] max_pages``. A round's pages of a list are checked exactly as a
careful reading's are (paging.inconsistency: one total, one page size,
every page as full as the total says, no _id twice), and a list whose
pages do not fit together is read again the careful way, the round
counting as its first attempt. A total the pages keep contradicting is
refused.
"""

from __future__ import annotations

import json
import logging
import math
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any, TypeVar

import simplejson

from ledger_export.core.errors import InconsistentPagingError
from ledger_export.amili import paging
from ledger_export.amili.answers import readable
from ledger_export.amili.bounds import LimitExceededError

log = logging.getLogger("ledger_export.amili")

# Reading a list again after it changed under us: a few times, then give up loudly.
PAGING_ATTEMPTS = 3

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


def _items(pages: Sequence[paging.Page]) -> list[dict[str, Any]]:
    # Each item was decoded for this reading alone: handing it on needs no copy.
    return [item for page in pages for item in page.items]


class _Reading:
    """One reading of one list: the pages in so far, and how far it may still go.

    Pages arrive on the worker threads (``add``); the next page is chosen on
    the thread that feeds the workers (``take``), from what has arrived.
    """

    def __init__(self, resource: str, url: str, max_pages: int, predicted: int = 1):
        self.resource = resource
        self.url = url
        self.max_pages = max_pages
        self.predicted = min(predicted, max_pages)
        self.asked = 0
        self.first: paging.Page | None = None
        self.pages: dict[int, paging.Page] = {}
        # The first short or empty page: the server has nothing after it.
        self.end: int | None = None
        self._lock = threading.Lock()

    def bound(self) -> int:
        """The last page this reading may ask for, as far as is known now."""
        with self._lock:
            last = self.predicted if self.first is None else self.first.page_count
            return last if self.end is None else min(last, self.end)

    def take_first(self) -> int:
        """Page 1, asked for first by every reading: it tells how many pages follow."""
        self.asked = 1
        return 1

    def take(self) -> int | None:
        """The next page to ask for, or None when the reading is (as far as is known now) complete."""
        number = self.asked + 1
        if number > self.bound():
            return None
        self.asked = number
        return number

    def numbers(self) -> Iterator[int]:
        return iter(self.take, None)

    def per_page(self, asked: int) -> int:
        # Page 1 fixes the page size the server really serves; asking for
        # exactly that keeps every page's skip/limit arithmetic the same.
        first = self.first
        return asked if first is None else first.max_results

    def wanted(self, number: int) -> bool:
        """Whether page ``number``, chosen earlier, is still worth a request."""
        return number <= self.bound()

    def add(self, page: paging.Page) -> paging.Page:
        with self._lock:
            if page.number == 1:
                if page.page_count > self.max_pages:
                    raise LimitExceededError(
                        f"{self.resource} counts {page.total:,} items (_meta.total), {page.page_count:,} pages "
                        f"of {page.max_results}: more than [amili] max_pages ({self.max_pages:,}) allows; "
                        f"narrow the period or raise max_pages", url=self.url)
                self.first = page
            self.pages[page.number] = page
            if paging.is_last(page) and (self.end is None or page.number < self.end):
                self.end = page.number
        return page

    def reading(self) -> list[paging.Page]:
        """Pages 1 to the bound, in order: what paging.inconsistency judges."""
        return [self.pages[n] for n in range(1, self.bound() + 1)]


def _interleaved(readings: Sequence[_Reading]) -> Iterator[tuple[int, int]]:
    """(list, page) to ask for next: page 1 of every list first, then page 2 of each, and so on."""
    while True:
        chosen = False
        for i, reading in enumerate(readings):
            number = reading.take()
            if number is not None:
                chosen = True
                yield i, number
        if not chosen:
            return


@dataclass(frozen=True)
class ListReader:
    """Reads lists with a client's checked pages and its pool (see AmiliClient.list_items, list_many)."""

    page: Callable[[str, Mapping[str, str], int, int], paging.Page]  # resource, query, number, per page
    map: Callable[[Callable[[Any], Any], Iterable[Any]], list[Any]]
    page_size: int
    pause: Callable[[int], None]  # before reading a list again after attempt n failed
    url: Callable[[str], str]
    max_pages: int = 10_000

    def _reading(self, resource: str, query: Mapping[str, str], predicted: int = 1) -> _Reading:
        return _Reading(resource, readable(self.url(resource), query), self.max_pages, predicted)

    def read(self, resource: str, query: Mapping[str, str], *,
             failed: paging.Inconsistency | None = None) -> list[dict[str, Any]]:
        """Every item of one list, read until its pages fit together.

        ``failed``: why a reading made elsewhere (a round) did not fit; it was attempt 1.
        """
        attempt, problem = (0, None) if failed is None else (1, failed)
        while True:
            if problem is not None:
                log.info("%s did not read as one list (%s); reading it again (attempt %d of %d)",
                         resource, problem.text, attempt, PAGING_ATTEMPTS)
                if attempt == PAGING_ATTEMPTS:
                    raise self._gave_up(resource, query, problem)
                self.pause(attempt)
            attempt += 1
            reading = self._reading(resource, query)
            reading.add(self.page(resource, query, reading.take_first(), self.page_size))
            self.map(lambda n: reading.add(self.page(resource, query, n, reading.per_page(self.page_size))),
                     reading.numbers())
            pages = reading.reading()
            problem = paging.inconsistency(pages)
            if problem is None:
                return _items(pages)

    def _gave_up(self, resource: str, query: Mapping[str, str],
                 problem: paging.Inconsistency) -> InconsistentPagingError:
        url = readable(self.url(resource), query)
        if problem.total_contradicted:
            return InconsistentPagingError(
                f"{resource}: its pages end before the count Amili gives for it in _meta.total ({problem.text}), "
                f"in each of {PAGING_ATTEMPTS} readings; refused, as items may be missing", url=url)
        return InconsistentPagingError(
            f"{resource} kept changing while it was read ({problem.text}); gave up after "
            f"{PAGING_ATTEMPTS} attempts: run again when Amili is not updating it", url=url)

    def read_many(self, queries: Sequence[ListQuery], sort: str,
                  alongside: Sequence[Callable[[], R]] = ()) -> tuple[list[list[dict[str, Any]]], list[R]]:
        """Every item of each list (as ``read`` gives it), and the results of ``alongside``, in order."""
        built = [eve_query(q.where, sort) for q in queries]
        readings = [self._reading(q.resource, query, max(1, math.ceil((q.expected or 0) / self.page_size)))
                    for q, query in zip(queries, built)]

        def fetch(i: int, number: int) -> None:
            reading = readings[i]
            if reading.wanted(number):  # not past an end found since it was chosen
                reading.add(self.page(reading.resource, built[i], number, reading.per_page(self.page_size)))

        def jobs() -> Iterator[Callable[[], Any]]:
            yield from (partial(fetch, i, n) for i, n in _interleaved(readings))
            yield from alongside

        answers = self.map(lambda job: job(), jobs())
        # Pages page 1 revealed beyond the prediction.
        self.map(lambda key: fetch(*key), _interleaved(readings))
        lists = []
        for i, reading in enumerate(readings):
            pages = reading.reading()
            problem = paging.inconsistency(pages)
            lists.append(_items(pages) if problem is None else self.read(reading.resource, built[i], failed=problem))
        return lists, answers[len(answers) - len(alongside):]
