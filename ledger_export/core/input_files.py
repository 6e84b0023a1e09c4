"""Reading a file the user named: a regular file of bounded size, or a clear refusal.

A path given on the command line (``validate FILE``, ``--chart FILE``,
``--from-raw DIR``) may be anything: a FIFO, which blocks a plain ``open``
until someone writes to it; ``/dev/zero``, which ``read()`` drains forever
into memory; a folder; a file larger than the memory there is. Each is
refused with its reason before being read. The file is opened with
O_NONBLOCK, so a FIFO swapped in between the check and the open cannot hang
the open either, and it is checked again on the open descriptor.
"""

from __future__ import annotations

import math
import os
import stat
from pathlib import Path

from ledger_export.core.errors import LedgerExportError

MB = 2 ** 20
_CHUNK = 1 * MB


class _Refused(Exception):
    """The reason, without the path: read_regular_file names it."""


def _kind(mode: int) -> str | None:
    """What a non-regular file is, in words; None for a regular file."""
    if stat.S_ISREG(mode):
        return None
    for test, words in ((stat.S_ISDIR, "a folder"), (stat.S_ISFIFO, "a FIFO (named pipe)"),
                        (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"),
                        (stat.S_ISSOCK, "a socket")):
        if test(mode):
            return words
    return "no regular file"


def _check(mode: int, size: int, limit: int, what: str) -> None:
    kind = _kind(mode)
    if kind is not None:
        raise _Refused(f"it is {kind}, not a file")
    if size > limit:
        # Rounded up: a file one byte over the limit must not read as "256.0 MB, more than 256 MB".
        raise _Refused(f"it is {math.ceil(size * 10 / MB) / 10} MB, more than the {limit // MB} MB "
                       f"a {what} may be")


def _read(path: str | Path, limit: int, what: str) -> bytes:
    try:
        before = os.stat(path)
        _check(before.st_mode, before.st_size, limit, what)
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOCTTY", 0) | getattr(os, "O_CLOEXEC", 0))
    except FileNotFoundError:
        raise _Refused("it does not exist") from None
    except OSError as exc:
        raise _Refused(exc.strerror or str(exc)) from None
    except ValueError:  # a NUL in the name: no file can have it
        raise _Refused("its name holds a NUL character") from None
    try:
        opened = os.fstat(fd)
        _check(opened.st_mode, opened.st_size, limit, what)
        chunks: list[bytes] = []
        total = 0
        # One read of the size it has (plus the byte that shows it grew) holds the file once;
        # a file that keeps growing stops at the limit, not at the end of memory.
        want = opened.st_size + 1
        while chunk := os.read(fd, want):
            chunks.append(chunk)
            total += len(chunk)
            if total > limit:
                raise _Refused(f"it grew past the {limit // MB} MB a {what} may be while it was read")
            want = min(_CHUNK, limit + 1 - total)
        return b"".join(chunks)  # one chunk: that very object, not a copy
    except OSError as exc:
        raise _Refused(exc.strerror or str(exc)) from None
    finally:
        os.close(fd)


def read_regular_file(path: str | Path, limit: int, what: str, error: type[LedgerExportError]) -> bytes:
    """The bytes of the regular file at ``path``, at most ``limit`` of them.

    Anything else raises ``error`` with one line: "cannot read <path>: it is a
    FIFO (named pipe), not a file". ``what`` names the kind of file in a
    refusal for size ("SIE file").
    """
    try:
        return _read(path, limit, what)
    except _Refused as exc:
        raise error(f"cannot read {path}: {exc}") from None
