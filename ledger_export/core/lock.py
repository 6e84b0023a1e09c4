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

import errno
import os
import stat
from pathlib import Path
from typing import IO

from ledger_export.core.errors import LedgerExportError, OutputError

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

    def __init__(self, root: Path, name: str = LOCK_FILE, *, holder: str = "another ledger-export run"):
        self.root = Path(root)
        self.path = self.root / name
        # Who the refusal says holds it: "another payments run for creditor ...".
        self.holder = holder
        self._fh: IO[str] | None = None

    @property
    def held(self) -> bool:
        return self._fh is not None

    def acquire(self) -> None:
        if self._fh is not None:
            raise RuntimeError(f"{self.path} is already held by this OutputLock")
        fh = _open_lock_file(self.root, self.path)
        if not _try_lock(fh):
            holder = _holder(fh)
            fh.close()
            raise LockedError(f"{self.holder} is using {self.root} ({holder}); "
                              f"wait for it to finish, then run again")
        # Only the holder writes: the pid is for the message above, nothing trusts it,
        # so a full disk here costs the message its pid, not the run.
        try:
            fh.seek(0)
            fh.truncate()
            fh.write(f"{os.getpid()}\n")
            fh.flush()
        except OSError:
            pass
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


def _open_lock_file(root: Path, path: Path) -> IO[str]:
    """The lock file, opened for reading and writing without following a symbolic link.

    A link planted at the lock's name would make the holder truncate the file
    it points to; a FIFO there would hang the open. Problems with the folder
    itself (read-only, full, a file where the folder should be) are
    OutputErrors (exit 1), not "another run holds it" (exit 5).
    """
    try:
        root.mkdir(parents=True, exist_ok=True)
    except FileExistsError:
        pass  # something that is not a folder is there: said just below, in words, not as "File exists"
    except OSError as exc:
        raise OutputError(f"cannot use {root} as the output folder: {exc.strerror or exc}") from exc
    if not root.is_dir():
        raise OutputError(f"cannot use {root} as the output folder: it is not a folder")
    flags = os.O_RDWR | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)
    flags |= getattr(os, "O_CLOEXEC", 0)
    try:
        fd = os.open(path, flags, 0o644)
    except OSError as exc:
        if exc.errno == errno.ELOOP or path.is_symlink():
            raise OutputError(f"{path} is a symbolic link: refusing to use it as the lock file "
                              f"(remove it; ledger-export makes its own)") from exc
        raise OutputError(f"cannot create the lock file {path}: {exc.strerror or exc} "
                          f"(is {root} read-only or full?)") from exc
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise OutputError(f"{path} is not a regular file: refusing to use it as the lock file")
        if hasattr(os, "set_blocking"):
            os.set_blocking(fd, True)
        return os.fdopen(fd, "r+", encoding="ascii", errors="replace")
    except BaseException:
        os.close(fd)
        raise


def _holder(fh: IO[str]) -> str:
    try:
        fh.seek(0)
        text = fh.read(32).strip()
    except OSError:  # pragma: no cover - Windows: the holder's locked byte cannot be read
        text = ""
    return f"pid {text}" if text.isdigit() else "pid unknown"
