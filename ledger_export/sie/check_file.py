"""Checks of a SIE file as a whole: bytes, which records, their order, the header values, #KSUMMA."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import PurePath

from ledger_export.sie import rules
from ledger_export.sie.model import ERROR, WARNING, SieFile, SieFinding, SieRecord

# A UTF-8 multibyte sequence. In CP437 these bytes are a box-drawing or Greek
# character followed by accented letters ("├Ñ" for "å"): never Swedish text.
_UTF8 = re.compile(rb"[\xc2-\xdf][\x80-\xbf]|[\xe0-\xef][\x80-\xbf]{2}|[\xf0-\xf4][\x80-\xbf]{3}")
# å ä ö Å Ä Ö é in Latin-1/Windows-1252 next to a letter; in CP437 these bytes
# are σ Σ ÷ ┼ ─ ╓ Θ, which do not stand inside Swedish words. Next to a digit
# only Å Ä Ö: an object or account name such as "Å1" ("┼1" in CP437) is no word,
# so the letter rule alone misses it, while "÷" or "Σ" beside a digit may be
# meant (10÷2); the box-drawing ┼ ─ ╓ beside a digit never is.
_LATIN1 = re.compile(rb"[A-Za-z][\xe5\xe4\xf6\xc5\xc4\xd6\xe9]|[\xe5\xe4\xf6\xc5\xc4\xd6\xe9][a-z]"
                     rb"|[0-9][\xc5\xc4\xd6]|[\xc5\xc4\xd6][0-9]")


def _lines_matching(data: bytes, pattern: re.Pattern[bytes],
                    valid: Callable[[re.Match[bytes]], bool] = lambda m: True) -> list[tuple[int, bytes]]:
    hits = []
    for number, line in enumerate(data.split(b"\n"), start=1):
        match = next((m for m in pattern.finditer(line) if valid(m)), None)
        if match:
            hits.append((number, match.group()))
    return hits


def _decodes_as_utf8(match: re.Match[bytes]) -> bool:
    try:
        match.group().decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def check_encoding(data: bytes, file: SieFile) -> Iterator[SieFinding]:
    if file.format is not None and file.format != "PC8":
        line = next(r.line for r in file.records if r.label == "#FORMAT")
        yield SieFinding(ERROR, line, "encoding", f"#FORMAT {file.format!r}: the only character set "
                                                  "SIE allows is PC8 (CP437, §11 #FORMAT)")
    data = data.removeprefix(b"\xef\xbb\xbf")  # the reader reports a byte order mark itself
    utf8 = _lines_matching(data, _UTF8, _decodes_as_utf8)
    if utf8:
        line, sample = utf8[0]
        yield SieFinding(ERROR, line, "encoding", (
            f"UTF-8 text in a PC8 file on {len(utf8)} line(s), first here: {sample.decode('utf-8')!r} "
            f"reads as {sample.decode('cp437')!r}; SIE files must be CP437 (§5.8)"))
        return
    latin1 = _lines_matching(data, _LATIN1)
    if latin1:
        line, sample = latin1[0]
        yield SieFinding(ERROR, line, "encoding", (
            f"Latin-1/Windows-1252 text in a PC8 file on {len(latin1)} line(s), first here: "
            f"{sample.decode('latin-1')!r} reads as {sample.decode('cp437')!r}; SIE files must be "
            "CP437 (§5.8)"))


def _first(records: tuple[SieRecord, ...], label: str) -> SieRecord | None:
    return next((r for r in records if r.label == label), None)


def check_kind(file: SieFile, kind: str, name: str) -> Iterator[SieFinding]:
    """A name whose extension says the other kind: a warning, since §5.1 leaves names free."""
    expected = rules.extension_disagrees(kind, name)
    if expected is None:
        return
    what = ("holds balance records, so it is an export" if kind == "4E" else
            "holds no balance records, so it is an import file" if kind == "4I" else "is an export")
    yield SieFinding(WARNING, None, "file-name", (
        f"the file {what} (type {kind}) but is named {PurePath(name).suffix}; §5.1 recommends "
        f"{expected.upper()} for it, and a program that goes by the name may refuse it"))


def check_records(file: SieFile, kind: str) -> Iterator[SieFinding]:
    """Mandatory, forbidden and unknown records for the file's type (§6, §7.2)."""
    present = {r.label for r in file.records}
    for label in rules.MANDATORY[kind]:
        if label in present:
            continue
        if label in rules.INFORMATIVE:
            yield SieFinding(WARNING, None, "missing-record", (
                f"{label} is missing; §6 asks for it in a type {kind} file, but no import needs "
                f"it ({'it only dates the balances' if label == '#OMFATTN' else 'SRU codes serve a tax return'})"))
        else:
            yield SieFinding(ERROR, None, "missing-record", f"{label} is missing; it is mandatory in "
                                                            f"a type {kind} file (§6)")
    seen: dict[str, list[int]] = {}  # label -> [first line, count]
    for record in file.records:
        if record.label in rules.FORBIDDEN[kind] or record.label not in rules.KNOWN:
            seen.setdefault(record.label, [record.line, 0])[1] += 1
    for label, (line, count) in seen.items():
        times = f" ({count} records, the first here)" if count > 1 else ""
        if label in rules.KNOWN:
            why = " (a type 4 file without balance records is an import file)" if kind == "4I" else ""
            yield SieFinding(ERROR, line, "forbidden-record",
                             f"{label} may not appear in a type {kind} file{why}{times}")
        elif label.startswith("#"):
            yield SieFinding(WARNING, line, "unknown-record",
                             f"{label} is not a SIE record; only the standard's labels may appear "
                             f"(§7.2){times}")
        else:
            yield SieFinding(ERROR, line, "syntax", f"line does not start with a #label: {label[:20]!r}{times}")


def check_order(file: SieFile) -> Iterator[SieFinding]:
    """§5.12: flag record, identification, chart of accounts, then balances and vouchers.

    #FLAGGA anywhere but first is an error: an importing program marks the
    file as read by setting the flag of its first record (§7.4, §11). The
    order of the other groups is a warning: a reader collects the chart before
    it books (Mamut writes #KONTO after #IB and is read everywhere), so the
    spec's letter is broken but nothing goes wrong.
    """
    records = file.records
    if records and records[0].label != "#FLAGGA":
        yield SieFinding(ERROR, records[0].line, "record-order",
                         f"the file starts with {records[0].label}; #FLAGGA must be the first record (§11)")
    latest: SieRecord | None = None
    late: dict[str, tuple[SieRecord, SieRecord]] = {}  # label -> (first late record, what it follows)
    late_count: dict[str, int] = {}
    for record in records:
        group = rules.GROUPS.get(record.label)
        if group is None or record.label == "#FLAGGA":  # a late #FLAGGA is reported above
            continue
        if latest is not None and group[0] < rules.GROUPS[latest.label][0]:
            late.setdefault(record.label, (record, latest))
            late_count[record.label] = late_count.get(record.label, 0) + 1
        elif latest is None or group[0] > rules.GROUPS[latest.label][0]:
            latest = record
    for label, (record, after) in late.items():
        count = late_count[label]
        times = f" ({count} records, the first here)" if count > 1 else ""
        yield SieFinding(WARNING, record.line, "record-order", (
            f"{label} ({rules.GROUPS[label][1]}) comes after {after.label} on line {after.line} "
            f"({rules.GROUPS[after.label][1]}); §5.12 orders flag, identification, chart of accounts, "
            f"balances and vouchers{times}"))


def check_header(file: SieFile, kind: str) -> Iterator[SieFinding]:
    for record in file.records:
        if record.label in rules.NEVER_QUOTED and record.fields and record.fields[0].quoted:
            yield SieFinding(WARNING, record.line, "quoted-value", (
                f"{record.label} \"{record.fields[0].text}\": the value is quoted; Fortnox refuses a "
                "quoted #FLAGGA, #SIETYP, #ORGNR or #FORMAT value"))
    orgnr = _first(file.records, "#ORGNR")
    if file.orgnr and not re.fullmatch(r"[0-9]{6}-[0-9]{4}", file.orgnr):
        yield SieFinding(WARNING, orgnr.line if orgnr else None, "orgnr", (
            f"#ORGNR {file.orgnr!r} is not written nnnnnn-nnnn: the spec wants a hyphen after the "
            "sixth digit (§11 #ORGNR) and Fortnox refuses it without"))
    if kind == "4I" and file.flag not in (None, 0):
        flag = _first(file.records, "#FLAGGA")
        yield SieFinding(WARNING, flag.line if flag else None, "flag-set", (
            f"#FLAGGA {file.flag}: the file is marked as already imported (§11 #FLAGGA); importing it "
            "again books its vouchers twice"))
    if not file.ends_with_newline:
        yield SieFinding(WARNING, file.records[-1].line, "line-end",
                         "the last record does not end with a line feed (§5.5)")


def check_ksumma(file: SieFile) -> Iterator[SieFinding]:
    """§10: opened right after #FLAGGA, closed by the last record, and the CRC must match."""
    marks = [(i, r) for i, r in enumerate(file.records) if r.label == "#KSUMMA"]
    if not marks:
        return
    opening = [(i, r) for i, r in marks if not r.fields]
    closing = [(i, r) for i, r in marks if r.fields]
    if not opening:
        yield SieFinding(ERROR, closing[0][1].line, "ksumma",
                         "#KSUMMA with a value but no opening #KSUMMA after #FLAGGA (§10.4)")
        return
    index, record = opening[0]
    if index != 1 or file.records[0].label != "#FLAGGA":
        yield SieFinding(ERROR, record.line, "ksumma", "the opening #KSUMMA must directly follow "
                                                       "#FLAGGA (§10.4)")
    if not closing:
        yield SieFinding(ERROR, record.line, "ksumma", (
            "#KSUMMA opens a checksum but the closing '#KSUMMA <n>' is missing: the file may be cut "
            "short, and should not be imported (§10.6)"))
        return
    end_index, end = closing[0]
    if end_index != len(file.records) - 1:
        yield SieFinding(ERROR, end.line, "ksumma", "the closing #KSUMMA must be the last record (§10.4)")
    if file.ksumma is not None and file.ksumma != file.ksumma_computed:
        yield SieFinding(ERROR, end.line, "ksumma", (
            f"#KSUMMA {file.ksumma} does not match the records, whose CRC-32 is "
            f"{file.ksumma_computed}: the file was changed or damaged after it was written (§10)"))
