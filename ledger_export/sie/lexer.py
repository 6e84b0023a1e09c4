"""SIE lines into records and fields (§5.3-5.7).

Fields are separated by spaces or tabs; a field may be quoted, and inside
any field, quoted or not, ``\\"`` is a quote (§5.7). There is no escape for
the backslash itself, so a backslash before anything but a quote is an
ordinary character. ``{...}`` is an object list (or, alone on a line, the
start or end of a voucher's rows). Problems are collected per record, never raised: a validator wants
every one of them with its line number.

Within one ``lex`` call, equal short fields and labels are one object: an
account, ``""``, ``{}`` and "#TRANS" repeat on every row. Sharing them took
reading back our own 100,000-row file from 131 MB of Python objects to 92 MB.
Fields are frozen, so nothing can tell a shared one from a copy.
"""

from __future__ import annotations

from ledger_export.sie.model import SieField, SieRecord

_BLANKS = " \t"
# What is shared: texts up to this long (accounts, dates, small amounts, "") and
# object lists of at most one pair. Longer ones are mostly unique, and sharing
# them would only add a table entry each.
_SHARED_TEXT = 6
_SHARED_OBJECTS = 2


# A shared field's key: its text, whether it was quoted, its object list.
_FieldKey = tuple[str, bool, tuple[str, ...] | None]


class Shared:
    """One file's shared objects: fields by (text, quoted, objects), and labels."""

    __slots__ = ("fields", "labels")

    def __init__(self) -> None:
        self.fields: dict[_FieldKey, SieField] = {}
        self.labels: dict[str, str] = {}


def _control(ch: str) -> bool:
    return ch < " " and ch != "\t" or ch == "\x7f"


def _quoted(line: str, i: int, problems: list[str]) -> tuple[str, int]:
    """Read a quoted field starting after its opening quote; returns (text, next index)."""
    out: list[str] = []
    n = len(line)
    while i < n:
        ch = line[i]
        if ch == "\\" and i + 1 < n and line[i + 1] == '"':
            out.append('"')
            i += 2
            continue
        if ch == '"':
            i += 1
            if i < n and line[i] not in _BLANKS and line[i] != "}":
                problems.append(f"text directly after a closing quote: {line[i:i + 10]!r}")
            return "".join(out), i
        if ch == "\t":
            problems.append("tab inside a quoted text (control characters are not allowed in texts)")
        out.append(ch)
        i += 1
    problems.append("a quote is opened but never closed")
    return "".join(out), i


def _plain(line: str, i: int, stop: str) -> tuple[str, int]:
    start = i
    while i < len(line) and line[i] not in _BLANKS and line[i] not in stop:
        i += 1
    return line[start:i], i


def _objects(line: str, i: int, problems: list[str]) -> tuple[tuple[str, ...], int]:
    """Tokens of an object list, starting after its '{'."""
    tokens: list[str] = []
    n = len(line)
    while i < n:
        ch = line[i]
        if ch in _BLANKS:
            i += 1
        elif ch == "}":
            return tuple(tokens), i + 1
        elif ch == '"':
            text, i = _quoted(line, i + 1, problems)
            tokens.append(text)
        elif ch == "{":
            problems.append("an object list inside an object list")
            i += 1
        else:
            text, i = _plain(line, i, '{}"')
            tokens.append(text)
    problems.append("an object list '{' is never closed with '}'")
    return tuple(tokens), i


def _field(shared: dict[_FieldKey, SieField] | None, text: str, quoted: bool = False,
           objects: tuple[str, ...] | None = None) -> SieField:
    if shared is None or len(text) > _SHARED_TEXT or (objects is not None and len(objects) > _SHARED_OBJECTS):
        return SieField(text, quoted, objects)
    key = (text, quoted, objects)
    field = shared.get(key)
    if field is None:
        field = shared[key] = SieField(text, quoted, objects)
    return field


def lex_line(line: str, number: int, shared: Shared | None = None) -> SieRecord | None:
    """One line into a record; None for a blank line (allowed anywhere, §5.6).

    ``shared``: the table of one file's shared fields and labels (see above), kept by ``lex``.
    """
    problems: list[str] = []
    if any(_control(ch) for ch in line):
        problems.append("control character in the line (ASCII 0-31 other than tab, or 127)")
    stripped = line.strip(_BLANKS)
    if not stripped:
        return None
    if stripped[0] in "{}":
        if stripped[1:].strip(_BLANKS):
            problems.append(f"'{stripped[0]}' must stand alone on its line (§5.4)")
        return SieRecord(number, stripped[0], (), tuple(problems))
    label, i = _plain(line, len(line) - len(line.lstrip(_BLANKS)), "")
    if shared is not None:
        label = shared.labels.setdefault(label, label)
    table = shared.fields if shared is not None else None
    fields: list[SieField] = []
    n = len(line)
    while i < n:
        ch = line[i]
        if ch in _BLANKS:
            i += 1
        elif ch == '"':
            text, i = _quoted(line, i + 1, problems)
            fields.append(_field(table, text, quoted=True))
        elif ch == "{":
            tokens, i = _objects(line, i + 1, problems)
            fields.append(_field(table, "", objects=tokens))
        elif ch == "}":
            problems.append("'}' without an opening '{'")
            i += 1
        else:
            text, i = _plain(line, i, "")
            if '"' in text:
                # §5.7: a quote inside any field, quoted or not, is written \"
                if '"' in text.replace('\\"', ""):
                    problems.append(f"quote inside an unquoted field without its backslash: {text[:20]!r}")
                text = text.replace('\\"', '"')
            fields.append(_field(table, text))
    return SieRecord(number, label, tuple(fields), tuple(problems))


def lex(text: str) -> tuple[tuple[SieRecord, ...], bool]:
    """All records of a decoded file, and whether its last record ends with a line feed (§5.5)."""
    lines = text.split("\n")
    ends_with_newline = lines[-1] == ""
    if ends_with_newline:
        lines.pop()
    records = []
    shared = Shared()  # for this file only: dropped with it, so it never grows across files
    for number, line in enumerate(lines, start=1):
        # A CR before the LF is allowed (§5.5), so it is part of the line end, not the line.
        record = lex_line(line[:-1] if line.endswith("\r") else line, number, shared)
        if record is not None:
            records.append(record)
    return tuple(records), ends_with_newline
