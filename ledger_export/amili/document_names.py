"""Local file names for the self-invoice PDFs, safe on every file system.

Amili's ``document.name`` is data from outside: it may carry directories
(``../../etc/passwd``, ``C:\\x\\y.pdf``), control characters, characters
Windows refuses, reserved device names (``CON``, ``COM1``), or repeat another
payout's name. The voucher text and the workbook name the PDF by the result,
so the mapping depends on the payouts and the files already in the folder
alone: same payouts, same folder, same names.
"""

from __future__ import annotations

import re
import unicodedata
import itertools
from collections.abc import Callable, Sequence

from ledger_export.amili.models import Payout, stable_order

SUFFIX = ".pdf"
# Room for write_atomic's temporary ".<name>.XXXXXXXX.tmp" and a duplicate
# suffix inside the 255-byte limit of common file systems, and short enough
# to read in a voucher text.
MAX_STEM_CHARS = 80
MAX_STEM_BYTES = 160
FALLBACK_STEM = "self-invoice"

_WINDOWS_ILLEGAL = re.compile(r'[<>:"|?*\x00-\x1f\x7f]')
# Device names Windows reserves whatever the extension (CON.pdf, nul.tar.pdf).
_RESERVED = frozenset(
    ["CON", "PRN", "AUX", "NUL", "CONIN$", "CONOUT$"]
    + [f"{dev}{n}" for dev in ("COM", "LPT") for n in (*"0123456789", "¹", "²", "³")]
)


def _base_name(name: str) -> str:
    # Both separators count: a name made on Windows may reach a POSIX host.
    return name.replace("\\", "/").rsplit("/", 1)[-1]


def _visible(text: str) -> str:
    """Drop control and format characters (incl. bidi overrides that disguise an extension)."""
    text = unicodedata.normalize("NFC", text)
    text = "".join(ch for ch in text if unicodedata.category(ch) not in ("Cc", "Cf", "Cs", "Co", "Cn"))
    # Line and paragraph separators would break the one-line voucher text.
    return re.sub(r"\s", " ", text)


def _cap(stem: str) -> str:
    stem = stem[:MAX_STEM_CHARS]
    while len(stem.encode("utf-8")) > MAX_STEM_BYTES:
        stem = stem[:-1]
    return stem


def _tidy(stem: str) -> str:
    # Windows drops trailing dots and spaces silently; leading dots hide a file on POSIX.
    return re.sub(r"^[\s.]+|[\s.]+$", "", stem)


def clean_stem(name: str) -> str:
    """The safe stem (no ``.pdf``) of one document name; empty when nothing usable is left."""
    stem = _visible(_base_name(name))
    stem = _WINDOWS_ILLEGAL.sub("_", stem).rstrip(" .")
    if stem.lower().endswith(SUFFIX):
        stem = stem[: -len(SUFFIX)]
    stem = _tidy(_cap(_tidy(stem)))
    if stem.split(".", 1)[0].rstrip(" ").upper() in _RESERVED:
        stem = "_" + stem
    return stem


def _id_tag(payout_id: str, length: int) -> str:
    # Amili ids are hex; anything else is reduced to characters safe everywhere.
    return re.sub(r"[^0-9A-Za-z_-]", "_", payout_id)[-length:] or "payout"


def _never_taken(name: str, payout: Payout) -> bool:
    return False


def document_file_names(payouts: Sequence[Payout],
                        taken: Callable[[str, Payout], bool] = _never_taken) -> dict[str, str]:
    """Payout id -> local file name of its self-invoice, for every payout with a ``document``.

    Duplicates (compared case-insensitively, as Windows and macOS do) keep the
    plain name for the payout created first; later ones get the last eight
    characters of their payout id, the whole id (up to 32) if that still collides, then
    a counter. ``taken(name, payout)``: the name is held in the folder by a file
    that is not this payout's document (an earlier run's, someone's own), so
    it is skipped like a duplicate: a published PDF is never written over.
    The result does not depend on the order ``payouts`` come in.
    """
    used: set[str] = set()
    names: dict[str, str] = {}
    for payout in sorted(payouts, key=stable_order):
        if payout.document is None:
            continue
        stem = clean_stem(payout.document.name) or FALLBACK_STEM
        whole = f"{stem}-{_id_tag(payout.id, 32)}"
        # Then counters, as many as it takes: every payout and every file already there gets one.
        candidates = itertools.chain([stem, f"{stem}-{_id_tag(payout.id, 8)}", whole],
                                     (f"{whole}-{n}" for n in itertools.count(2)))
        for candidate in candidates:
            name = candidate + SUFFIX
            if name.casefold() not in used and not taken(name, payout):
                break
        used.add(name.casefold())
        names[payout.id] = name
    return names
