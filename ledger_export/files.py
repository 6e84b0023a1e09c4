"""Outputs appear whole or not at all: written beside the target, then renamed."""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from .errors import OutputError

# mkstemp/mkdtemp create private (0600/0700) entries; finished outputs should
# get what any other file the user writes gets. Reading the umask means
# setting it, so do it once.
_UMASK = os.umask(0o022)
os.umask(_UMASK)
FILE_MODE = 0o666 & ~_UMASK
FOLDER_MODE = 0o777 & ~_UMASK


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


@contextmanager
def staging_folder(root: Path) -> Iterator[Path]:
    """A hidden folder in ``root`` for files not yet published; removed, with what is left in it, on exit."""
    root = Path(root)
    try:
        root.mkdir(parents=True, exist_ok=True)
        folder = Path(tempfile.mkdtemp(prefix=".staging-", dir=root))
    except OSError as exc:
        raise OutputError(f"cannot write in {root}: {exc.strerror or exc}") from exc
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def stage_file(path: Path, chunks: Iterable[bytes]) -> StagedFile:
    """Write ``chunks`` to ``path`` (inside a staging folder), hashing them on the way."""
    digest, size = hashlib.sha256(), 0
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "wb") as fh:
            for chunk in chunks:
                fh.write(chunk)
                digest.update(chunk)
                size += len(chunk)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(path, FILE_MODE)
    except OSError as exc:
        raise OutputError(f"cannot write {path}: {exc.strerror or exc}") from exc
    return StagedFile(path, size, digest.hexdigest())


def output_digest(data: Output) -> tuple[int, str]:
    """Size and SHA-256 of an output, whether held in memory or staged."""
    if isinstance(data, StagedFile):
        return data.size, data.sha256
    return len(data), hashlib.sha256(data).hexdigest()


def write_atomic(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` so that readers see the old file or the new one, never half."""
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
                fh.flush()
                os.fsync(fh.fileno())
            os.chmod(tmp, FILE_MODE)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
    except OSError as exc:
        raise OutputError(f"cannot write {path}: {exc.strerror or exc}") from exc


def _place(target: Path, data: Output) -> None:
    """Put one output at ``target`` inside a staging folder: written and flushed, or moved there."""
    target.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(data, StagedFile):
        # Already flushed and given FILE_MODE by stage_file; a move within one
        # file system is a rename (shutil copies only across file systems).
        shutil.move(data.path, target)
        return
    with open(target, "wb") as fh:
        fh.write(data)
        fh.flush()
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


def write_folder_atomic(folder: Path, files: Mapping[str, Output]) -> None:
    """Replace ``folder`` by one holding exactly ``files`` (relative names), in one rename.

    The new folder is built next to the old one; the old one is moved aside
    only once the new one is complete, so a crash leaves either the old
    folder or the new one in place.
    """
    folder = Path(folder)
    try:
        folder.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f".{folder.name}.", suffix=".tmp", dir=folder.parent))
        try:
            _fill(staging, files, folder)
            os.chmod(staging, FOLDER_MODE)
            old = None
            if folder.exists():
                old = Path(tempfile.mkdtemp(prefix=f".{folder.name}.", suffix=".old", dir=folder.parent))
                os.replace(folder, old / folder.name)
            os.replace(staging, folder)
            if old is not None:
                shutil.rmtree(old, ignore_errors=True)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
    except OSError as exc:
        raise OutputError(f"cannot write {folder}: {exc.strerror or exc}") from exc


def publish(folder: Path, outputs: Mapping[str, Output], *, last: str | None = None) -> None:
    """Put a run's outputs into ``folder``: all of them, or (on any failure) none.

    Every file is first written and flushed into a hidden staging folder
    beside its target; only when all are complete are they renamed into
    place, top-level entry by entry (``raw/x.json`` moves ``raw/`` as one
    folder), with ``last`` (the manifest, which vouches for the others)
    renamed last. Entries of ``folder`` not named here (self-invoices/) are
    left alone. A ``StagedFile`` is moved, not copied.
    """
    folder = Path(folder)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=".staging-", dir=folder))
        try:
            _fill(staging, outputs, folder)
            entries = sorted({Path(name).parts[0] for name in outputs}, key=lambda e: (e == last, e))
            for entry in entries:
                staged, final = staging / entry, folder / entry
                if staged.is_dir():
                    os.chmod(staged, FOLDER_MODE)
                    if final.exists():
                        os.replace(final, staging / f".old-{entry}")
                os.replace(staged, final)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
    except OSError as exc:
        raise OutputError(f"cannot write {folder}: {exc.strerror or exc}") from exc
