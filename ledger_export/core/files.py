"""Outputs appear whole or not at all, and a published file is never replaced.

Every file a run writes is first written and flushed into the run's hidden
staging folder (``.staging-*`` in the output root, so every rename is
within one file system); ``publish`` then checks every target, moves the
files into place without replacing anything, and on any failure moves back
what it had already placed. A run killed in the middle of ``publish`` is
settled by the register at the next start (jobs/register.py): the manifest is
placed last, so it present means the set is complete.

``fs_step`` names each file-system step (write, fsync, rename, mkdir,
unlink, commit) before it is taken. It does nothing in normal use; the crash tests
hook it to kill the process or fail with ENOSPC at exactly that step.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import errno
import hashlib
import os
import shutil
import stat
import tempfile
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from ledger_export.core.errors import OutputError

# mkstemp/mkdtemp create private (0600/0700) entries; finished outputs should
# get what any other file the user writes gets. Reading the umask means
# setting it, so do it once.
_UMASK = os.umask(0o022)
os.umask(_UMASK)
FILE_MODE = 0o666 & ~_UMASK
FOLDER_MODE = 0o777 & ~_UMASK
STAGING_PREFIX = ".staging-"

# The crash tests' seam: called as STEP_HOOK(kind, path) before each step.
STEP_HOOK: Callable[[str, Path], None] | None = None


def fs_step(kind: str, path: Path | str) -> None:
    if STEP_HOOK is not None:
        STEP_HOOK(kind, Path(path))


def _problem(exc: OSError) -> str:
    return exc.strerror or str(exc)


@dataclass(frozen=True)
class StagedFile:
    """An output already written to a staging folder, for ``publish`` to move into place.

    The raw snapshot of a large period is tens of megabytes of JSON made from
    hundreds of megabytes of decoded items; written out right after the fetch,
    neither has to stay in memory until the other outputs are rendered.
    """

    path: Path
    size: int
    sha256: str


Output = bytes | StagedFile


def refuse_links(root: Path, path: Path) -> None:
    """Refuse ``path`` when it, or a folder between ``root`` and it, is a symbolic link.

    A link planted inside the output root would send a run's files (or its
    deletions) somewhere the bookkeeper never chose. The root itself may be
    a link: that is the user's own choice of folder.
    """
    root, path = Path(root), Path(path)
    try:
        relative = path.relative_to(root)
    except ValueError:
        raise OutputError(f"refusing to write {path}: it is outside the output folder {root}") from None
    current = root
    for part in relative.parts:
        if part in ("", ".", ".."):
            raise OutputError(f"refusing to write {path}: the name {part!r} is not allowed")
        current = current / part
        if current.is_symlink():
            raise OutputError(f"{current} is a symbolic link: ledger-export does not write through links "
                              f"inside its output folder; replace it with a real folder")


@contextmanager
def staging_folder(root: Path) -> Iterator[Path]:
    """A hidden folder in ``root`` for files not yet published; removed, with what is left in it, on exit."""
    root = Path(root)
    try:
        root.mkdir(parents=True, exist_ok=True)
        fs_step("mkdir", root / STAGING_PREFIX)
        folder = Path(tempfile.mkdtemp(prefix=STAGING_PREFIX, dir=root))
    except OSError as exc:
        raise OutputError(f"cannot write in {root}: {_problem(exc)}") from exc
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def remove_stale_staging(root: Path, keep: Path | None = None) -> list[str]:
    """Remove the staging folders runs killed before their end left in ``root``; their names.

    Call only while holding the root's lock: a live run's staging folder is
    its own until it ends. Links are never followed, only unlinked.
    """
    removed: list[str] = []
    try:
        entries = list(os.scandir(root))
    except FileNotFoundError:
        return removed
    except OSError as exc:
        raise OutputError(f"cannot read {root}: {_problem(exc)}") from exc
    for entry in entries:
        if not entry.name.startswith(STAGING_PREFIX) or (keep is not None and entry.name == Path(keep).name):
            continue
        try:
            if entry.is_dir(follow_symlinks=False):
                shutil.rmtree(entry.path)
            else:
                os.unlink(entry.path)
        except OSError as exc:
            raise OutputError(f"cannot remove {entry.path}, left by a run that was stopped: "
                              f"{_problem(exc)}") from exc
        removed.append(entry.name)
    return removed


def stage_file(path: Path, chunks: Iterable[bytes]) -> StagedFile:
    """Write ``chunks`` to ``path`` (inside a staging folder), hashing them on the way."""
    digest, size = hashlib.sha256(), 0
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fs_step("write", path)
        with open(path, "wb") as fh:
            for chunk in chunks:
                fh.write(chunk)
                digest.update(chunk)
                size += len(chunk)
            fh.flush()
            fs_step("fsync", path)
            os.fsync(fh.fileno())
        os.chmod(path, FILE_MODE)
    except OSError as exc:
        raise OutputError(f"cannot write {path}: {_problem(exc)}") from exc
    return StagedFile(path, size, digest.hexdigest())


def output_digest(data: Output) -> tuple[int, str]:
    """Size and SHA-256 of an output, whether held in memory or staged."""
    if isinstance(data, StagedFile):
        return data.size, data.sha256
    return len(data), hashlib.sha256(data).hexdigest()


def write_atomic(path: Path, data: bytes, *, mode: int | None = None) -> None:
    """Write ``data`` to ``path`` so that readers see the old file or the new one, never half.

    For files the tool keeps for itself (a starter configuration the user asked
    to overwrite, the Fortnox token file); published outputs go through
    ``publish``, which never replaces. The temporary file is created with mode
    0600 (mkstemp) and only then given ``mode``, so a secret is never readable
    by others, whatever the umask. Once the rename is done the file is in
    place: the folder is then flushed as far as it can be, and a failure there
    is not reported, because the caller may already depend on the new content
    (a rotated refresh token whose predecessor Fortnox has spent).
    """
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
        try:
            with os.fdopen(fd, "wb") as fh:
                fs_step("write", path)
                fh.write(data)
                fh.flush()
                fs_step("fsync", path)
                os.fsync(fh.fileno())
            os.chmod(tmp, FILE_MODE if mode is None else mode)
            fs_step("rename", path)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
    except OSError as exc:
        raise OutputError(f"cannot write {path}: {_problem(exc)}") from exc
    try:
        _fsync_folder(path.parent)
    except OSError:
        pass  # the file itself is flushed; only the rename's durability is at stake


def _renameat2() -> Callable[[str, str], int] | None:
    """Linux's renameat2(RENAME_NOREPLACE): a rename that fails rather than replace, in one step."""
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        call = libc.renameat2
    except (OSError, AttributeError):
        return None
    call.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
    at_fdcwd, noreplace = -100, 1

    def rename(src: str, dst: str) -> int:
        if call(at_fdcwd, os.fsencode(src), at_fdcwd, os.fsencode(dst), noreplace) == 0:
            return 0
        return ctypes.get_errno()

    return rename


_RENAMEAT2 = _renameat2() if hasattr(os, "fsencode") and os.name == "posix" else None


def rename_noreplace(src: Path, dst: Path) -> None:
    """Move ``src`` to ``dst``; OSError(EEXIST) if ``dst`` exists. Never replaces anything.

    renameat2 where the kernel and file system have it; else a hard link
    (which also refuses to replace) for files, and a checked rename for
    folders (the output root's lock keeps our own runs out of that gap).
    """
    fs_step("rename", dst)
    if _RENAMEAT2 is not None:
        code = _RENAMEAT2(str(src), str(dst))
        if code == 0:
            return
        if code not in (errno.ENOSYS, errno.EINVAL, errno.ENOTSUP, errno.EOPNOTSUPP):
            raise OSError(code, os.strerror(code), str(dst))
    if os.path.lexists(dst):
        raise OSError(errno.EEXIST, os.strerror(errno.EEXIST), str(dst))
    if stat.S_ISDIR(os.lstat(src).st_mode):
        os.rename(src, dst)
        return
    try:
        os.link(src, dst, follow_symlinks=False)
    except OSError as exc:
        if exc.errno == errno.EEXIST:
            raise
        os.rename(src, dst)  # a file system without hard links (FAT, some shares)
        return
    os.unlink(src)


# What a file system that cannot flush a folder answers; it says nothing about the renames themselves.
_FOLDER_FSYNC_UNSUPPORTED = frozenset({errno.EINVAL, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EBADF})


def _fsync_folder(folder: Path) -> None:
    """Make the renames into ``folder`` survive a power cut (POSIX; a no-op where folders cannot be opened).

    Any other failure (EIO, ENOSPC) means the renames may not survive, so it
    fails the publish, which then moves everything back.
    """
    try:
        fd = os.open(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError:
        return
    try:
        fs_step("fsync", folder)
        os.fsync(fd)
    except OSError as exc:
        if exc.errno not in _FOLDER_FSYNC_UNSUPPORTED:
            raise
    finally:
        os.close(fd)


def _place(target: Path, data: Output) -> None:
    """Put one output at ``target`` inside a staging folder: written and flushed, or moved there."""
    target.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(data, StagedFile):
        # Already flushed and given FILE_MODE by stage_file; both are in the run's staging folder.
        fs_step("rename", target)
        os.replace(data.path, target)
        return
    fs_step("write", target)
    with open(target, "wb") as fh:
        fh.write(data)
        fh.flush()
        fs_step("fsync", target)
        os.fsync(fh.fileno())
    os.chmod(target, FILE_MODE)


def _fill(staging: Path, outputs: Mapping[str, Output], folder: Path) -> None:
    """Put every output under ``staging`` by its relative name; none may land outside it."""
    inside = staging.resolve()
    for name, data in sorted(outputs.items()):
        target = (staging / name).resolve()
        if inside not in target.parents:
            raise OutputError(f"refusing to write {name!r} outside {folder}")
        _place(target, data)


@dataclass
class _Moves:
    """What publish has placed so far, to be moved back if a later step fails."""

    done: list[tuple[Path, Path]]  # (where it came from in staging, where it went)
    made: list[Path]  # folders publish created

    def undo(self) -> None:
        for source, target in reversed(self.done):
            try:
                source.parent.mkdir(parents=True, exist_ok=True)
                os.rename(target, source)
            except OSError:
                pass  # the register settles what is left at the next start
        for made in reversed(self.made):
            try:
                os.rmdir(made)
            except OSError:
                pass


def _targets(staged: Path, final: Path) -> Iterator[tuple[Path, Path]]:
    """The moves that put ``staged`` at ``final``: whole when ``final`` is free, file by file into a folder."""
    if not os.path.lexists(final) or not staged.is_dir():
        yield staged, final
        return
    for child in sorted(staged.iterdir()):
        yield from _targets(child, final / child.name)


def publish(folder: Path, outputs: Mapping[str, Output], *, staging: Path, last: str | None = None,
            root: Path | None = None) -> tuple[Path, ...]:
    """Put a run's outputs into ``folder``: all of them, or (on any failure) none. Never replaces a file.

    ``outputs``: name relative to ``folder`` -> bytes, or a file already staged.
    Each is written and flushed under ``staging`` first. Then every target is
    checked (free, and no link on the way: ``root`` is where links stop
    being the user's choice, ``folder``'s parent by default), and the entries
    are moved in: a folder that does not exist yet (``raw/``) in one rename,
    files into a folder that does (``self-invoices/``) one by one, ``last``
    (the manifest, which vouches for the others) at the very end. If any move
    fails, those already made are moved back. Returns the placed paths.
    """
    folder = Path(folder)
    root = Path(root) if root is not None else folder.parent
    refuse_links(root, folder)
    batch = Path(tempfile.mkdtemp(prefix="publish-", dir=staging))
    moves = _Moves([], [])
    try:
        try:
            _fill(batch, outputs, folder)
            entries = sorted({Path(name).parts[0] for name in outputs}, key=lambda e: (e == last, e))
            plan = [move for entry in entries for move in _targets(batch / entry, folder / entry)]
            for _, target in plan:
                refuse_links(root, target.parent)
                if os.path.lexists(target):
                    raise OutputError(f"{target} exists already: ledger-export never replaces a file it "
                                      f"published; nothing of this run was put in place")
            if not folder.exists():
                fs_step("mkdir", folder)
                folder.mkdir(parents=True)
                moves.made.append(folder)
            for source, target in plan:
                if source.is_dir():
                    os.chmod(source, FOLDER_MODE)
                if not target.parent.exists():
                    fs_step("mkdir", target.parent)
                    target.parent.mkdir(parents=True)
                    moves.made.append(target.parent)
                rename_noreplace(source, target)
                moves.done.append((source, target))
            for parent in sorted({t.parent for _, t in plan} | {folder}):
                _fsync_folder(parent)
        except OSError as exc:
            moves.undo()
            where = f" ({exc.filename})" if exc.filename else ""
            raise OutputError(f"cannot publish into {folder}: {_problem(exc)}{where}; "
                              f"nothing of this run was put in place") from exc
        except BaseException:
            moves.undo()
            raise
    finally:
        shutil.rmtree(batch, ignore_errors=True)
    return tuple(target for _, target in moves.done)
