"""Texts for a SIE file: CP437 only, no control characters, quotes escaped, at most 50 characters.

Amili's strings are Unicode from anywhere. SIE is CP437 (§5.8), so a
character CP437 lacks is written as its nearest CP437 spelling: first our
table (chosen for a Swedish reader: "ø" is "ö" in Swedish, "€" is "EUR"),
then its Unicode compatibility decomposition without accents ("č" -> "c",
"ﬁ" -> "fi"), and only then REPLACEMENT, a visible "¿", never a silent "?".
"""

from __future__ import annotations

import re
import unicodedata

# Every key here fails str.encode("cp437"); tests check that, and that every value encodes.
TRANSLITERATION = {
    "€": "EUR", "–": "-", "—": "-", "‒": "-", "―": "-", "−": "-", "‐": "-", "‑": "-",
    "’": "'", "‘": "'", "‚": "'", "′": "'", "“": '"', "”": '"', "„": '"', "″": '"',
    "…": "...", "§": "par.", "ø": "ö", "Ø": "Ö", "×": "x", "•": "*", "©": "(c)", "®": "(R)",
    "ł": "l", "Ł": "L", "đ": "d", "Đ": "D", "ð": "d", "Ð": "D", "þ": "th", "Þ": "Th",
    "œ": "oe", "Œ": "OE", "ı": "i", "‰": "o/oo",
}
REPLACEMENT = "¿"

_WHITESPACE = re.compile(r"\s+")
# Finds a character CP437 lacks. One search is five times faster than str.encode("cp437"),
# whose codec looks each character up in a dict, and clean_text asks it of every text.
_NOT_CP437 = re.compile("[^" + re.escape(bytes(range(256)).decode("cp437")) + "]")


def _encodable(ch: str) -> bool:
    try:
        ch.encode("cp437")
    except UnicodeEncodeError:
        return False
    return True


def _transliterate_char(ch: str) -> str:
    if _encodable(ch):
        return ch
    if ch in TRANSLITERATION:
        return TRANSLITERATION[ch]
    if unicodedata.category(ch) == "Cf":
        return ""  # invisible formatting (zero-width space, soft hyphen, bidi marks): nothing to read
    out = []
    for part in unicodedata.normalize("NFKD", ch):
        if unicodedata.combining(part):
            continue  # the accent of a decomposed letter: keep the letter
        out.append(part if _encodable(part) else TRANSLITERATION.get(part, REPLACEMENT))
    return "".join(out) if out else REPLACEMENT


def transliterate(text: str) -> str:
    """``text`` with every character CP437 can hold kept and every other one spelled in CP437."""
    return "".join(_transliterate_char(ch) for ch in text)


def _is_control(ch: str) -> bool:
    return unicodedata.category(ch) in ("Cc", "Zl", "Zp")


def clean_text(text: str) -> str:
    """One line of CP437 text: control characters and line breaks become spaces, runs of
    spaces one space, and backslashes slashes.

    The backslash goes because SIE has no escape for it (§5.7): a text
    ending in one would escape its own closing quote, and readers disagree
    on what "\\\\" means. A slash reads the same to a person.
    """
    # Fast path, same result as _clean_full (a test compares them over any text): the
    # full path looks at every character in Python, and every text of a 100,000-row
    # file passes here. A printable text holds no control, format or separator
    # character but the ASCII space; if CP437 also holds all of it, nothing is left to
    # do but the backslashes and the spaces. Both checks run in C.
    if text.isprintable() and (text.isascii() or not _NOT_CP437.search(text)):
        if "\\" in text:
            text = text.replace("\\", "/")
        if "  " in text or text[:1] == " " or text[-1:] == " ":
            text = " ".join(text.split())  # the only blank a printable text has is " "
        return text
    return _clean_full(text)


def _clean_full(text: str) -> str:
    """clean_text for any text: each character looked at in turn."""
    text = "".join(" " if _is_control(ch) or ch.isspace() else ch for ch in text)
    text = transliterate(text).replace("\\", "/")
    return _WHITESPACE.sub(" ", text).strip()


def shorten(text: str, keep: str | None = None, limit: int = 50) -> str:
    """``text`` in at most ``limit`` characters, ending in " ref <keep>" when it must be cut.

    The payout reference is what a bookkeeper searches for, so it survives
    whole: the middle of the text is cut ("...") instead. A reference
    already in the text is taken out of it first so it is not cut in half
    or shown twice. Deterministic: same text, same result. Characters are
    counted as a reader sees the text: an escaped quote is one.

    A text and ``keep`` that clean_text made stay clean (no blank at either
    end, none doubled), so the SIE writer need not clean the result again.
    """
    text = text.strip()
    if len(text) <= limit:
        return text
    if not keep:
        return text[:limit - 3].rstrip() + "..."
    tail = f" ref {keep}"
    if len(tail) + 4 > limit:
        return tail.strip()[:limit].rstrip()
    body = re.sub(rf"(?i)(\bref\b[.:]?\s*)?{re.escape(keep)}", " ", text)
    body = _WHITESPACE.sub(" ", body).strip()
    if len(body) + len(tail) <= limit:
        return (body + tail).lstrip()  # the body is empty when the text was only the reference
    return body[:limit - len(tail) - 3].rstrip() + "..." + tail


def reference_key(reference: str | None) -> str | None:
    """The payout reference as ``shorten`` keeps it whole in every text of its voucher."""
    return clean_text(reference) if reference else None


def as_written(text: str, keep: str | None) -> str:
    """A voucher or line text exactly as a SIE record holds it (before quoting): cleaned,
    then shortened keeping ``keep`` (from ``reference_key``). The workbook shows this too."""
    return shorten(clean_text(text), keep)


def escape(text: str) -> str:
    """A quoted field's content: a quote inside is written \\" (§5.7)."""
    return text.replace('"', '\\"')


def quote(text: str) -> str:
    """Any text as a quoted SIE field."""
    return '"' + escape(clean_text(text)) + '"'
