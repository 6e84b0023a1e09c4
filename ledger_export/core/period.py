"""Accounting periods: a month (2025-06), a quarter (2025Q2) or a date range.

A period's label names its output folder and its entries in the export
register, so it is never taken as given: it is derived from the dates
(``label_for``), whoever constructs the Period. Text from outside (the
command line) is read with ASCII digits only: ``int()`` and
``date.fromisoformat`` would take full-width or Arabic-Indic digits too.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta

from dateutil.relativedelta import relativedelta

from ledger_export.core.errors import PeriodError

_MONTH = re.compile(r"([0-9]{4})-([0-9]{2})")
_QUARTER = re.compile(r"([0-9]{4})[Qq]([1-4])")
_DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def _last_of_month(first: date, months: int) -> date:
    return first + relativedelta(months=months) - timedelta(days=1)


def label_for(start: date, end: date) -> str:
    """The folder name of the period ``start``..``end``: 2025-06, 2025Q2 or 2025-06-10_2025-06-12.

    A whole calendar month or quarter is named as --period / --quarter name
    it, however it was given; anything else by its two days.
    """
    if start.day == 1 and end < date.max:
        if end == _last_of_month(start, 1):
            return f"{start.year:04d}-{start.month:02d}"
        if start.month % 3 == 1 and end == _last_of_month(start, 3):
            return f"{start.year:04d}Q{start.month // 3 + 1}"
    return f"{start.isoformat()}_{end.isoformat()}"


@dataclass(frozen=True)
class Period:
    """Dates ``start`` up to and including ``end``; ``label`` (derived from them) names the output folder."""

    start: date
    end: date
    # Given only to say what the caller expects; a label that is not the dates' is refused.
    label: str = ""

    def __post_init__(self) -> None:
        if self.end < self.start:
            raise PeriodError(f"period {self.start}_{self.end}: ends {self.end} before it starts {self.start}")
        if self.end >= date.max:
            # Its end_exclusive, the API query's upper bound, would not be a date.
            raise PeriodError(f"period {self.start}_{self.end}: must end before {date.max}")
        derived = label_for(self.start, self.end)
        if self.label and self.label != derived:
            raise PeriodError(f"period {self.start}_{self.end} is labelled {derived}, "
                              f"not {self.label[:40]!r}")
        object.__setattr__(self, "label", derived)

    @property
    def end_exclusive(self) -> date:
        return self.end + timedelta(days=1)

    def __contains__(self, day: date) -> bool:
        return self.start <= day <= self.end


def _calendar(year: int, first_month: int, months: int, text: str) -> Period:
    try:
        start = date(year, first_month, 1)
        return Period(start, _last_of_month(start, months))
    except (ValueError, OverflowError):
        # Year 0 and the end of year 9999 are no dates datetime can hold.
        raise PeriodError(f"period '{text}' is outside the years 0001 to 9998") from None


def month(text: str) -> Period:
    m = _MONTH.fullmatch(text.strip())
    if not m or not 1 <= int(m.group(2)) <= 12:
        raise PeriodError(f"period '{text}' is not a month written YYYY-MM, e.g. 2025-06")
    return _calendar(int(m.group(1)), int(m.group(2)), 1, text)


def quarter(text: str) -> Period:
    m = _QUARTER.fullmatch(text.strip())
    if not m:
        raise PeriodError(f"quarter '{text}' is not written YYYYQn, e.g. 2025Q2")
    return _calendar(int(m.group(1)), 3 * int(m.group(2)) - 2, 3, text)


def iso_day(text: str) -> date:
    """A day written YYYY-MM-DD in ASCII digits; ValueError for anything else.

    date.fromisoformat alone would also take 20250601 and 2025-W23-1.
    """
    if not _DAY.fullmatch(text):
        raise ValueError(f"{text!r:.40} is not a date written YYYY-MM-DD")
    return date.fromisoformat(text)


def parse_day(text: str, what: str = "date") -> date:
    try:
        return iso_day(text.strip())
    except ValueError:
        raise PeriodError(f"{what} '{text}' is not a date written YYYY-MM-DD") from None


def date_range(first: str, last: str) -> Period:
    return Period(parse_day(first, "--from"), parse_day(last, "--to"))


def choose(*, period: str | None = None, quarter_text: str | None = None,
           date_from: str | None = None, date_to: str | None = None) -> Period:
    """The one period a command line asked for; exactly one form must be given."""
    forms = [f for f in (period, quarter_text, date_from or date_to) if f]
    if len(forms) != 1:
        raise PeriodError("give exactly one of --period YYYY-MM, --quarter YYYYQn or --from/--to")
    if period:
        return month(period)
    if quarter_text:
        return quarter(quarter_text)
    if not (date_from and date_to):
        raise PeriodError("--from and --to go together")
    return date_range(date_from, date_to)
