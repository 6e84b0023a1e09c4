"""RFC 1123 timestamps, as Eve writes them ("Fri, 13 Jun 2025 00:00:00 GMT")."""

from __future__ import annotations

from datetime import date, datetime, time, timezone
from email.utils import format_datetime, parsedate_to_datetime
from functools import lru_cache

# Amili repeats a few date strings across a period's many lines (every line
# of a payout has its payout_date): reading each once keeps one datetime/date
# per distinct string, not one per line. Both results are immutable.
_DISTINCT = 8192


def parse(text: object) -> datetime:
    """Any valid RFC 1123/2822 form; the result is always timezone-aware UTC.

    Raises ValueError for anything else, a JSON value that is no string included.
    """
    if not isinstance(text, str):
        raise ValueError(f"must be an RFC 1123 date string, got {type(text).__name__}")
    return _parse(text)


@lru_cache(maxsize=_DISTINCT)
def _parse(text: str) -> datetime:
    if not text.isascii():
        # RFC 1123 is ASCII; the email parser's int() would read "１３" (full-width) as 13.
        raise ValueError(f"is not an RFC 1123 date: {text!r:.60}")
    try:
        moment = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        raise ValueError(f"is not an RFC 1123 date: {text!r:.60}") from None
    if moment.tzinfo is None:  # "-0000" means UTC with unknown local offset
        moment = moment.replace(tzinfo=timezone.utc)
    try:
        return moment.astimezone(timezone.utc)
    except OverflowError:  # e.g. the last second of year 9999 with a negative offset
        raise ValueError(f"is not a date that can be booked: {text!r:.60}") from None


def parse_day(text: object) -> date:
    """The calendar day of a date field. Amili stores dates as midnight GMT."""
    return _parse_day(parse(text))


@lru_cache(maxsize=_DISTINCT)
def _parse_day(moment: datetime) -> date:
    return moment.date()


def format(moment: datetime | date) -> str:
    if not isinstance(moment, datetime):
        moment = datetime.combine(moment, time(), tzinfo=timezone.utc)
    elif moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return format_datetime(moment.astimezone(timezone.utc), usegmt=True)
