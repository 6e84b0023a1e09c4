"""``--since-last``: fetch only payouts created since the last run, without ever losing one.

Amili's finance guide: fetch by ``_created`` (immutable), de-duplicate by
``_id``, move the mark only after the outputs are in place. The mark here is
per period and is Amili's own ``_created`` of records we saw, never our
clock, so a skewed local clock cannot make a run skip anything.

Why an overlap: a record can become visible after one with a later
``_created`` (Eve stamps ``_created`` before the write commits; replicas
lag), so ``_created >= mark`` alone could step over it. Asking from
``mark - overlap`` fetches a day of already-booked payouts again; the export
register recognises them by ``_id``, so an incremental run skips them (it
behaves as ``--only-new``). A day is far longer than any commit or
replication delay and costs at most a page.

Why the mark is not simply the newest ``_created`` fetched: a period's
query also asks for ``payout_date`` in the period, and ``payout_date`` stays
null until Amili's bank export. A payout created on the 25th and paid on
the 28th is invisible to a run on the 26th; if that run moved the mark past
the 25th, the run on the 30th would never ask for it again. So the mark may
only pass payouts that are in the register: ``fetch_seen`` lists the
payouts created since the start of the query that could still land in the
period (no ``payout_date`` yet, or one in or after the period), and
``next_mark`` stops at the oldest of them not yet exported.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass
from typing import Any, overload
from datetime import date, datetime, timedelta

from ledger_export.amili import timestamps
from ledger_export.amili.client import AmiliClient
from ledger_export.core.errors import ResponseFormatError
from ledger_export.core.period import Period

PAYOUTS = "finance--payouts"
DEFAULT_OVERLAP = timedelta(days=1)


@overload
def since_moment(mark: datetime, overlap: timedelta = ...) -> datetime: ...
@overload
def since_moment(mark: None, overlap: timedelta = ...) -> None: ...


def since_moment(mark: datetime | None, overlap: timedelta = DEFAULT_OVERLAP) -> datetime | None:
    """Where an incremental fetch starts: ``mark - overlap``, or None (everything) with no mark yet."""
    if overlap < timedelta(0):
        raise ValueError("the overlap cannot be negative")
    return None if mark is None else mark - overlap


def since_where(mark: datetime, overlap: timedelta = DEFAULT_OVERLAP) -> dict[str, Any]:
    """The ``where`` clause an incremental query adds: ``_created`` from ``mark - overlap`` on."""
    return {"_created": {"$gte": timestamps.format(since_moment(mark, overlap))}}


@dataclass(frozen=True)
class Seen:
    """A payout an incremental run saw, enough to decide how far the mark may move."""

    id: str
    created: datetime
    payout_date: date | None


def fetch_seen(client: AmiliClient, creditor: str, period: Period, since: datetime | None) -> tuple[Seen, ...]:
    """Payouts created from ``since`` that are, or may still become, part of ``period``.

    That is: no ``payout_date`` yet, or one on or after the period's first
    day (a payout_date can still be corrected backwards into the period).
    Payouts paid before the period belong to earlier periods and do not
    hold this period's mark. Usually one request (a page of ids).
    """
    where: dict[str, Any] = {"creditor": creditor,
                   "$or": [{"payout_date": None}, {"payout_date": {"$gte": timestamps.format(period.start)}}]}
    if since is not None:
        where["_created"] = {"$gte": timestamps.format(since)}
    items = client.list_items(PAYOUTS, where, projection={"_created": 1, "payout_date": 1})
    seen = []
    for item in items:
        try:
            created = timestamps.parse(item.get("_created"))
            paid = item.get("payout_date")
            day = timestamps.parse_day(paid) if paid is not None else None
        except ValueError as exc:
            raise ResponseFormatError(f"{PAYOUTS} {item.get('_id')}: {exc}") from None
        seen.append(Seen(item["_id"], created, day))
    return tuple(seen)


def next_mark(seen: Iterable[Seen], exported: Collection[str], previous: datetime | None) -> datetime | None:
    """The new mark: the newest payout seen, but never past one that is not yet exported.

    Stopping *at* (not after) the oldest unexported payout keeps it inside
    the next run's ``$gte``. The mark may move backwards when a late-visible
    payout turns up inside the overlap; that only fetches a little more.
    Nothing seen: the mark stays where it was.
    """
    seen = list(seen)
    waiting = [s.created for s in seen if s.id not in exported]
    if waiting:
        return min(waiting)
    if seen:
        return max(s.created for s in seen)
    return previous
