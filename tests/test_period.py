from datetime import date

import pytest

from ledger_export.core import period
from ledger_export.core.errors import PeriodError


def test_month_covers_whole_month_including_leap_day():
    p = period.month("2024-02")
    assert (p.start, p.end, p.end_exclusive, p.label) == (
        date(2024, 2, 1), date(2024, 2, 29), date(2024, 3, 1), "2024-02")
    assert date(2024, 2, 29) in p and date(2024, 3, 1) not in p


def test_december_ends_on_new_years_eve():
    p = period.month("2025-12")
    assert p.end == date(2025, 12, 31) and p.end_exclusive == date(2026, 1, 1)


def test_quarter():
    p = period.quarter("2025Q2")
    assert (p.start, p.end, p.label) == (date(2025, 4, 1), date(2025, 6, 30), "2025Q2")


def test_date_range_is_inclusive():
    p = period.choose(date_from="2025-06-01", date_to="2025-06-15")
    assert p.end_exclusive == date(2025, 6, 16)
    assert p.label == "2025-06-01_2025-06-15"


@pytest.mark.parametrize("kwargs, message", [
    ({"period": "2025-13"}, "YYYY-MM"),
    ({"period": "June"}, "YYYY-MM"),
    ({"quarter_text": "2025Q5"}, "YYYYQn"),
    ({"date_from": "2025-06-01"}, "go together"),
    ({"date_from": "2025-06-31", "date_to": "2025-07-01"}, "--from '2025-06-31'"),
    ({"date_from": "2025-06-10", "date_to": "2025-06-01"}, "before it starts"),
    ({}, "exactly one"),
    ({"period": "2025-06", "quarter_text": "2025Q2"}, "exactly one"),
])
def test_bad_periods_say_what_is_wrong(kwargs, message):
    with pytest.raises(PeriodError, match=message.replace("?", r"\?")):
        period.choose(**kwargs)
