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
    """
    text = text.strip()
    if len(text) <= limit:
        return text
    if not keep:
        return text[:limit - 3].rstrip() + "..."
    tail = f" ref {keep}"
    if len(tail) + 4 > limit:
        return tail.strip()[:limit]
    body = re.sub(rf"(?i)(\bref\b[.:]?\s*)?{re.escape(keep)}", " ", text)
    body = _WHITESPACE.sub(" ", body).strip()
    if len(body) + len(tail) <= limit:
        return body + tail
    return body[:limit - len(tail) - 3].rstrip() + "..." + tail


def escape(text: str) -> str:
    """A quoted field's content: a quote inside is written \\" (§5.7)."""
    return text.replace('"', '\\"')


def quote(text: str) -> str:
    """Any text as a quoted SIE field."""
    return '"' + escape(clean_text(text)) + '"'
