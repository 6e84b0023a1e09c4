"""Reading an Eve list page by page, and telling whether the pages fit together.

Eve pages by skip/limit, so a record created, deleted or changed while we
page shifts the rest of the list: an item can be read twice or not at all.
The checks below catch that from the pages alone; the client then reads the
whole list again.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

from ledger_export.core.errors import ResponseFormatError


# Fields whose few distinct values repeat across a period's lines: the
# creditor, the payout and its dates on every line of a payout, the article
# on most, an invoice's number on its three or so lines. Decoded JSON holds
# one str per field of every item; for 100,000 lines sharing them saves tens
# of megabytes. Fields that are unique per item (_id, _etag) are left out, a
# memo of them would cost more than it saves.
REPEATED_TEXTS = ("creditor", "currency", "payout", "payout_reference", "payout_interval", "payout_date",
                  "booking_date", "_updated", "article", "finance_category", "state",
                  "invoice_number", "reference_number")


def share_texts(items: Sequence[dict[str, Any]], memo: dict[str, str]) -> None:
    """Make equal values of ``REPEATED_TEXTS`` (and references.case) one str object each, in place."""
    for item in items:
        for key in REPEATED_TEXTS:
            value = item.get(key)
            if type(value) is str:
                item[key] = memo.setdefault(value, value)
        references = item.get("references")
        if type(references) is dict and type(references.get("case")) is str:
            references["case"] = memo.setdefault(references["case"], references["case"])


@dataclass(frozen=True)
class Page:
    number: int
    items: tuple[dict[str, Any], ...]
    # What the server says about the whole list at the moment it served this page.
    total: int
    max_results: int

    @property
    def page_count(self) -> int:
        """Pages the list needs at this page's size (an empty list still has page 1)."""
        return max(1, math.ceil(self.total / self.max_results))

    def expected_length(self) -> int:
        return max(0, min(self.max_results, self.total - (self.number - 1) * self.max_results))


def read_page(body: Any, resource: str, number: int, url: str, texts: dict[str, str] | None = None) -> Page:
    """One Eve list answer, checked for the fields paging relies on.

    ``texts``: a memo (one per fetch) through which repeated values are shared, see ``share_texts``.
    """

    def fail(problem: str) -> ResponseFormatError:
        return ResponseFormatError(f"page {number} of {resource} {problem} ({url})", url=url)

    if not isinstance(body, Mapping):
        raise fail("is not a JSON object")
    items, meta = body.get("_items"), body.get("_meta")
    if not isinstance(items, list):
        raise fail("has no _items list")
    if not isinstance(meta, Mapping):
        raise fail("has no _meta object")
    numbers = {}
    for name in ("total", "max_results"):
        value = meta.get(name)
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise fail(f"has no whole number in _meta.{name} (got {value!r:.30})")
        numbers[name] = value
    if numbers["max_results"] == 0:
        raise fail("says _meta.max_results is 0")
    served = meta.get("page", number)
    if served != number:
        raise fail(f"is page {served!r:.20} according to _meta.page")
    for position, item in enumerate(items, 1):
        if not isinstance(item, Mapping) or not isinstance(item.get("_id"), str) or not item["_id"]:
            raise fail(f"item {position} has no _id")
    if texts is not None:
        share_texts(items, texts)
    return Page(number, tuple(items), numbers["total"], numbers["max_results"])


class Inconsistency(NamedTuple):
    """Why a reading's pages do not fit together."""

    text: str
    # The pages agree with each other but end before page 1's _meta.total: either
    # items went missing between requests or the count is wrong (a list that grows
    # or shrinks shows in the totals of its later pages instead).
    total_contradicted: bool = False


def is_last(page: Page) -> bool:
    """Whether the server has nothing after ``page``: it is short or empty, whatever the total says."""
    return len(page.items) < page.max_results


def inconsistency(pages: Sequence[Page]) -> Inconsistency | None:
    """Why ``pages`` (page 1 first, in order) are not one consistent reading of a list, or None."""
    first = pages[0]
    seen: set[str] = set()
    for page in pages:
        if page.total != first.total:
            return Inconsistency(f"page {page.number} counted {page.total} items where page 1 counted {first.total}")
        if page.max_results != first.max_results:
            return Inconsistency(f"page {page.number} was served {page.max_results} per page "
                                 f"where page 1 was served {first.max_results}")
        if len(page.items) != page.expected_length():
            short = len(page.items) < page.expected_length()
            return Inconsistency(f"page {page.number} held {len(page.items)} items, expected "
                                 f"{page.expected_length()}", total_contradicted=short)
        for item in page.items:
            if item["_id"] in seen:
                return Inconsistency(f"item {item['_id']} came twice")
            seen.add(item["_id"])
    if len(pages) != first.page_count:
        return Inconsistency(f"{len(pages)} pages read, but page 1 makes it {first.page_count}")
    # Page lengths add up to the total and no id repeats, so len(seen) == total.
    return None
