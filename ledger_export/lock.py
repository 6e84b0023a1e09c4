"""One ledger-export run at a time per output root: an OS file lock.

Two runs that both check the export register before either records would
both see a payout as new and both book it. Holding this lock from before the
register check until after the register record makes check-write-record one
step as far as other runs are concerned.

The lock is ``fcntl.flock`` on ``<root>/.ledger-export.lock``: the kernel
releases it when the process ends however it ends (crash, kill -9, power
loss), so there is never a stale lock to clean up by hand, and the file is
deliberately never deleted (deleting it would let a third run lock a fresh
file while the second still holds the old one). flock belongs to the open
file description, so two opens in one process exclude each other too.

Windows has no fcntl; ``msvcrt.locking`` on the file's first byte gives the
same exclusion there (also released when the process ends). That branch is
not exercised by the test suite, which runs on POSIX. Locks on network
shares (SMB, NFS) are only as good as the share's lock support: keep the
output root on a local disk, or make sure only one machine runs the job.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import IO

from .errors import LedgerExportError

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]
    import msvcrt

LOCK_FILE = ".ledger-export.lock"


class LockedError(LedgerExportError):
    """Another run holds the output root: retrying later is the fix, so it has its own exit code."""

    exit_code = 5


def _try_lock(fh: IO[str]) -> bool:
    if fcntl is not None:
        try:
            fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        return True
    fh.seek(0)  # pragma: no cover - Windows
    try:  # pragma: no cover - Windows
        msvcrt.locking(fh.fileno(), msvcrt.LK_NBLCK, 1)
    except OSError:  # pragma: no cover - Windows
        return False
    return True  # pragma: no cover - Windows


def _unlock(fh: IO[str]) -> None:
    if fcntl is not None:
        fcntl.flock(fh.fileno(), fcntl.LOCK_UN)
    else:  # pragma: no cover - Windows
        fh.seek(0)
        msvcrt.locking(fh.fileno(), msvcrt.LK_UNLCK, 1)


class OutputLock:
    """``with OutputLock(root):`` holds the root for this run or raises LockedError at once.

    Never waits: a bookkeeper who started a second run by mistake should
    hear so now, not watch a terminal hang.
    """

    def __init__(self, root: Path):
        self.root = Path(root)
        self.path = self.root / LOCK_FILE
        self._fh: IO[str] | None = None

    @property
    def held(self) -> bool:
        return self._fh is not None

    def acquire(self) -> None:
        if self._fh is not None:
            raise RuntimeError(f"{self.path} is already held by this OutputLock")
        try:
            self.root.mkdir(parents=True, exist_ok=True)
            # "a+" creates the file if needed and never truncates what a
            # holder wrote, so a refused run can still read the holder's pid.
            fh = open(self.path, "a+", encoding="ascii")
        except OSError as exc:
            raise LockedError(f"cannot open the lock file {self.path}: {exc.strerror or exc}") from exc
        if not _try_lock(fh):
            holder = _holder(fh)
            fh.close()
            raise LockedError(f"another ledger-export run is using {self.root} ({holder}); "
                              f"wait for it to finish, then run again")
        # Only the holder writes: the pid is for the message above, nothing trusts it.
        fh.seek(0)
        fh.truncate()
        fh.write(f"{os.getpid()}\n")
        fh.flush()
        self._fh = fh

    def release(self) -> None:
        fh, self._fh = self._fh, None
        if fh is None:
            return
        try:
            _unlock(fh)
        finally:
            fh.close()

    def __enter__(self) -> OutputLock:
        self.acquire()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


def _holder(fh: IO[str]) -> str:
    try:
        fh.seek(0)
        text = fh.read(32).strip()
    except OSError:  # pragma: no cover - Windows: the holder's locked byte cannot be read
        text = ""
    return f"pid {text}" if text.isdigit() else "pid unknown"
