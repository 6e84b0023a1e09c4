"""#KSUMMA (§10): CRC-32 over what the records say, not how they are laid out.

The spec's CRC (polynomial EDB88320, preset FFFFFFFF, result inverted) is
exactly ``zlib.crc32``. It runs over the CP437 bytes of every record after
the opening #KSUMMA up to the closing one: each label and each field's
content, leaving out the blanks and tabs between fields, the quotes that
open and close a field, the braces of object lists and voucher blocks, and
the backslash of an escaped quote. Checked against Norstedts Bokslut's file.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterable, Sequence

from ledger_export.sie.model import SieRecord


def record_bytes(record: SieRecord) -> bytes:
    if record.label in ("{", "}"):
        return b""
    parts = [record.label]
    for field in record.fields:
        parts.extend(field.objects if field.objects is not None else (field.text,))
    return "".join(parts).encode("cp437")


def crc(records: Iterable[SieRecord]) -> int:
    value = 0
    for record in records:
        value = zlib.crc32(record_bytes(record), value)
    return value


def between_marks(records: Sequence[SieRecord]) -> int | None:
    """CRC of the records after the opening #KSUMMA up to the closing one (or the end);
    None when the file has no opening #KSUMMA."""
    starts = [i for i, r in enumerate(records) if r.label == "#KSUMMA" and not r.fields]
    if not starts:
        return None
    body = []
    for record in records[starts[0] + 1:]:
        if record.label == "#KSUMMA":
            break
        body.append(record)
    return crc(body)
