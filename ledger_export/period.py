"""Accounting periods: a month (2025-06), a quarter (2025Q2) or a date range."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta

from dateutil.relativedelta import relativedelta

from .errors import PeriodError


@dataclass(frozen=True)
class Period:
    """Dates ``start`` up to and including ``end``; ``label`` names the output folder."""

    start: date
    end: date
    label: str

    def __post_init__(self) -> None:
        if self.end < self.start:
            raise PeriodError(f"period {self.label}: ends {self.end} before it starts {self.start}")

    @property
    def end_exclusive(self) -> date:
        return self.end + timedelta(days=1)

    def __contains__(self, day: date) -> bool:
        return self.start <= day <= self.end


def month(text: str) -> Period:
    m = re.fullmatch(r"(\d{4})-(\d{2})", text.strip())
    if not m or not 1 <= int(m.group(2)) <= 12:
        raise PeriodError(f"period '{text}' is not a month written YYYY-MM, e.g. 2025-06")
    start = date(int(m.group(1)), int(m.group(2)), 1)
    return Period(start, start + relativedelta(months=1) - timedelta(days=1), f"{start:%Y-%m}")


def quarter(text: str) -> Period:
    m = re.fullmatch(r"(\d{4})[Qq]([1-4])", text.strip())
    if not m:
        raise PeriodError(f"quarter '{text}' is not written YYYYQn, e.g. 2025Q2")
    year, q = int(m.group(1)), int(m.group(2))
    start = date(year, 3 * q - 2, 1)
    return Period(start, start + relativedelta(months=3) - timedelta(days=1), f"{year}Q{q}")


def parse_day(text: str, what: str = "date") -> date:
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise PeriodError(f"{what} '{text}' is not a date written YYYY-MM-DD") from None


def date_range(first: str, last: str) -> Period:
    start, end = parse_day(first, "--from"), parse_day(last, "--to")
    return Period(start, end, f"{start:%Y-%m-%d}_{end:%Y-%m-%d}")


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
