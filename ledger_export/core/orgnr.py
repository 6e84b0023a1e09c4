"""The company's organisation number: read in the forms people write it, checked, written nnnnnn-nnnn.

Fortnox compares a SIE file's #ORGNR with the company it imports into, and
SIE (§11 #ORGNR) writes it nnnnnn-nnnn. A typo in one digit still looks
like a number, so the last digit is checked the way Bolagsverket and
Skatteverket make it: Luhn over the ten digits.

Accepted: ``556677-8899`` and ``5566778899``, and the twelve-digit forms
``16556677-8899`` (Skatteverket writes a legal person's number with 16
before it) and ``19640823-3234`` / ``20...`` (a sole trader's organisation
number is the owner's personnummer, often written with its century). The
century is dropped: SIE has room for ten digits only. 18 is not taken: no
one born in the 1800s runs a business, so it is more likely a typo.
"""

from __future__ import annotations

import re

FORM = "nnnnnn-nnnn"
# [0-9], not \d: full-width or other scripts' digits pass \d and then fail in the SIE file's PC8 encoding.
_WRITTEN = re.compile(r"(?P<century>16|19|20)?(?P<head>[0-9]{6})-?(?P<tail>[0-9]{4})")


class OrgnrProblem(ValueError):
    """What is wrong with a written organisation number (one line, for a ConfigError)."""


def luhn_ok(digits: str) -> bool:
    """The last digit is the Luhn check digit of the ones before it."""
    total = 0
    for position, ch in enumerate(reversed(digits)):
        value = int(ch) * (2 if position % 2 else 1)
        total += value - 9 if value > 9 else value
    return total % 10 == 0


def normalise(text: str) -> str:
    """``text`` as nnnnnn-nnnn; OrgnrProblem saying what is wrong with it."""
    match = _WRITTEN.fullmatch(text)
    if match is None:
        raise OrgnrProblem(f"must be an organisation number written {FORM} (or nnnnnnnnnn, or with the "
                           f"century 16, 19 or 20 before it) with digits 0-9, got {text!r}")
    digits = match["head"] + match["tail"]
    if set(digits) == {"0"}:
        raise OrgnrProblem(f"{text!r} is a placeholder, not an organisation number")
    if not luhn_ok(digits):
        raise OrgnrProblem(f"{text!r}: the check digit is wrong (a digit is mistyped); copy the number "
                           "from Bolagsverket's registration certificate or your ledger's company settings")
    return f"{match['head']}-{match['tail']}"


def canonical(text: str) -> str:
    """A number as stored (by this or an older version): normalised when it can be, else as written.

    A register or manifest holds the number as it was written when it was
    made; "5566778899" there is the company whose configuration now says
    "556677-8899".
    """
    try:
        return normalise(text)
    except OrgnrProblem:
        return text


def same(a: str, b: str) -> bool:
    """Whether two organisation numbers as stored name the same company."""
    return canonical(a) == canonical(b)
