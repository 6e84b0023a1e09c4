from decimal import Decimal

import pytest

from ledger_export.core.money import format_amount, parse_amount, round_ore


def test_round_ore_is_half_up_not_bankers():
    assert round_ore(Decimal("0.125")) == Decimal("0.13")
    assert round_ore(Decimal("0.135")) == Decimal("0.14")
    assert round_ore(Decimal("-0.125")) == Decimal("-0.13")


@pytest.mark.parametrize("value, expected", [
    (Decimal("75.0"), Decimal("75.00")),
    (1064, Decimal("1064.00")),
    (Decimal("-12.5"), Decimal("-12.50")),
    (Decimal("1234.570"), Decimal("1234.57")),
    (Decimal("9999999999999.99"), Decimal("9999999999999.99")),  # the largest amount accepted
    (Decimal("-9999999999999.99"), Decimal("-9999999999999.99")),
])
def test_parse_amount_accepts_numbers_with_up_to_two_decimals(value, expected):
    assert parse_amount(value) == expected
    assert str(parse_amount(value)) == str(expected)


@pytest.mark.parametrize("value, reason", [
    (Decimal("0.125"), "more than two decimals"),
    ("100.00", "must be a number"),
    (True, "must be a number"),
    (None, "must be a number"),
    (1.5, "must be a number"),  # a float means someone parsed JSON without Decimal
    (Decimal("NaN"), "finite"),
    (Decimal("1e20"), "implausibly large"),
    (Decimal("-1e20"), "implausibly large"),  # a refund as large: the size, not the sign, is implausible
    (Decimal("1e13"), "implausibly large"),   # the first amount refused
    (Decimal("-1e13"), "implausibly large"),
])
def test_parse_amount_refuses_what_a_ledger_cannot_trust(value, reason):
    with pytest.raises(ValueError, match=reason):
        parse_amount(value)


def test_format_amount_has_two_decimals_and_no_plus():
    assert format_amount(Decimal("5")) == "5.00"
    assert format_amount(Decimal("-0.5")) == "-0.50"
    assert format_amount(Decimal("1E+3")) == "1000.00"
