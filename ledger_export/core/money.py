"""Money is Decimal from the moment JSON is parsed, and is rounded in one place."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

ORE = Decimal("0.01")
ZERO = Decimal("0.00")


def round_ore(value: Decimal) -> Decimal:
    """The only rounding in ledger-export: half up to whole öre."""
    return value.quantize(ORE, rounding=ROUND_HALF_UP)


def parse_amount(value: object) -> Decimal:
    """An amount as the API gives it (JSON number parsed with parse_float=Decimal).

    Raises ValueError with a short reason; the caller adds which record and
    field it was. More than two decimals is refused rather than rounded away,
    because a fraction of an öre in a payout means the data is not what we
    think it is.
    """
    if isinstance(value, bool) or not isinstance(value, (int, Decimal)):
        raise ValueError(f"must be a number, got {type(value).__name__} {value!r:.40}")
    try:
        amount = Decimal(value)
    except InvalidOperation as exc:  # pragma: no cover - int/Decimal always convert
        raise ValueError(f"is not a number: {value!r:.40}") from exc
    if not amount.is_finite():
        raise ValueError(f"is not a finite number: {value}")
    # Size first: quantizing a number this large would exceed Decimal's precision.
    if abs(amount) >= Decimal("1e13"):
        raise ValueError(f"is implausibly large: {value}")
    if amount != amount.quantize(ORE, rounding=ROUND_HALF_UP):
        raise ValueError(f"has more than two decimals: {value}")
    return amount.quantize(ORE)


def format_amount(value: Decimal) -> str:
    """Two decimals, point, minus in front, never a plus: the SIE and report form."""
    return f"{value.quantize(ORE):f}"
