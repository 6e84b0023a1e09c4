"""Field values of SIE records: amounts (§5.9), dates (§5.10), numbers.

Each parser returns the value and a problem text; the caller turns the
problem into a finding with the record's line, and decides whether the
value is still usable (a plus sign or a third decimal still says what
amount was meant; "12,50" does not).
"""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal

# [0-9], not \d: a SIE field is ASCII digits, and Decimal()/int() would read other scripts' digits too.
# §5.9 asks for a decimal point and at most two decimals, not for a digit before the point:
# ".20" and "-.20" are 0.20 and -0.20, and real exports write "#RES 0 8999 .20".
_AMOUNT = re.compile(r"([+-]?)([0-9]*)(?:\.([0-9]*))?")
_NUMBER = re.compile(r"-?[0-9]+")


def parse_amount(text: str) -> tuple[Decimal | None, str | None]:
    m = _AMOUNT.fullmatch(text)
    if not m or not (m.group(2) or m.group(3)):  # a digit on one side of the point at least
        return None, f"amount {text!r} is not a number written with a decimal point"
    value = Decimal(text)
    if m.group(1) == "+":
        return value, f"amount {text!r} has a plus sign (§5.9: never a plus sign)"
    if m.group(3) is not None and len(m.group(3)) > 2:
        return value, f"amount {text!r} has more than two decimals (§5.9)"
    if m.group(3) == "":
        return value, f"amount {text!r} ends in a decimal point without decimals"
    return value, None


def parse_quantity(text: str) -> tuple[Decimal | None, str | None]:
    # A quantity is not money: any number of decimals is fine, but it must be a number.
    if re.fullmatch(r"-?[0-9]+(\.[0-9]+)?", text):
        return Decimal(text), None
    return None, f"quantity {text!r} is not a number"


def parse_date(text: str) -> tuple[date | None, str | None]:
    if not re.fullmatch(r"[0-9]{8}", text):
        return None, f"date {text!r} is not written YYYYMMDD"
    try:
        return date(int(text[:4]), int(text[4:6]), int(text[6:])), None
    except ValueError:
        return None, f"date {text!r} does not exist"


def parse_int(text: str, what: str) -> tuple[int | None, str | None]:
    if _NUMBER.fullmatch(text):
        try:
            return int(text), None
        except ValueError:  # beyond int()'s 4300 digits: no year, type or checksum is that long
            return None, f"{what} {text:.20}... ({len(text)} digits) is not a whole number that can be read"
    return None, f"{what} {text!r} is not a whole number"


def is_account(text: str) -> bool:
    """#KONTO: the account number shall be numeric."""
    return text.isascii() and text.isdigit()
