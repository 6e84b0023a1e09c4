"""Records share one object per repeated value (amounts, days, texts) without changing any value."""

from datetime import date
from decimal import Decimal

import pytest
import simplejson

from ledger_export.amili import paging

from ledger_export.amili import timestamps
from ledger_export.amili.models import Specification
from ledger_export.core.errors import RecordError

LINE = {
    "_id": "l1", "_etag": "e1", "_created": "Wed, 11 Jun 2025 12:00:00 GMT", "creditor": "c1", "currency": "SEK",
    "amount": Decimal("2050.00"), "vat_amount": Decimal("0.00"), "total_amount": Decimal("2050.00"),
    "article": "capital", "booking_date": "Wed, 11 Jun 2025 00:00:00 GMT", "finance_category": "capital",
    "invoice_number": "INV-1", "reference_number": "1", "references": {"case": "k1"}, "payout": "p1",
}


def line(**change):
    return Specification.from_api({**LINE, **change})


def test_equal_amounts_and_days_of_different_lines_are_one_object():
    a, b = line(_id="a"), line(_id="b", amount=Decimal("2050.0"))
    assert a.amount is b.amount and a.vat_amount is b.vat_amount
    assert a.booking_date is b.booking_date == date(2025, 6, 11)


def test_a_negative_zero_stays_negative_after_a_positive_one_was_shared():
    line(_id="plus", vat_amount=Decimal("0.00"))
    minus = line(_id="minus", vat_amount=Decimal("-0.00"))
    assert str(minus.vat_amount) == "-0.00"


@pytest.mark.parametrize("value, problem", [
    (True, "must be a number"),
    (Decimal("NaN"), "not a finite number"),
    (Decimal("sNaN"), "not a finite number"),
    (Decimal("1.001"), "more than two decimals"),
    ([1], "must be a number"),
])
def test_amounts_the_cache_does_not_cover_still_fail_naming_the_field(value, problem):
    with pytest.raises(RecordError, match=f"field 'amount' .*{problem}"):
        line(amount=value)


@pytest.mark.parametrize("value", [["Wed, 11 Jun 2025"], {"a": 1}, 5])
def test_an_unhashable_or_non_text_date_is_a_named_error_not_a_crash(value):
    with pytest.raises(RecordError, match="booking_date.*RFC 1123 date string"):
        line(booking_date=value)
    with pytest.raises(ValueError, match="RFC 1123 date string"):
        timestamps.parse_day(value)


def test_read_page_shares_repeated_texts_and_changes_no_value():
    memo: dict[str, str] = {}
    body = '{"_items": [%s], "_meta": {"total": 2, "max_results": 100, "page": 1}}' % ",".join(
        simplejson.dumps({**LINE, "_id": i, "_etag": "e" + i}, use_decimal=True) for i in ("a", "b"))
    page = paging.read_page(simplejson.loads(body, use_decimal=True), "x", 1, "u", texts=memo)
    first, second = page.items
    assert first == {**LINE, "_id": "a", "_etag": "ea"}
    for key in ("creditor", "article", "invoice_number", "payout", "booking_date"):
        assert first[key] is second[key]
    assert first["references"]["case"] is second["references"]["case"]
    assert first["_id"] not in memo and first["_etag"] not in memo  # unique values are not memoised


def test_read_page_without_a_memo_leaves_items_as_decoded():
    body = simplejson.loads('{"_items": [{"_id": "a", "article": "reminder fee"}, {"_id": "b", "article": "reminder fee"}],'
                            ' "_meta": {"total": 2, "max_results": 100}}')
    first, second = paging.read_page(body, "x", 1, "u").items
    assert first["article"] == second["article"] and first["article"] is not second["article"]


def test_decoded_answers_share_one_decimal_per_number_text_and_keep_signs():
    from ledger_export.amili.answers import decode_json

    items = decode_json(b'[{"a": 0.0, "b": 12.5}, {"a": 0.0, "b": -0.0, "c": 12.50}]')
    assert items[0]["a"] is items[1]["a"] and str(items[0]["a"]) == "0.0"
    assert str(items[1]["b"]) == "-0.0"
    assert str(items[1]["c"]) == "12.50"  # equal to 12.5, but its own text: digits stay as sent
