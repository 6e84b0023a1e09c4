"""Outputs appear whole or not at all: written beside the target, then renamed."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Mapping
from pathlib import Path

from .errors import OutputError

# mkstemp/mkdtemp create private (0600/0700) entries; finished outputs should
# get what any other file the user writes gets. Reading the umask means
# setting it, so do it once.
_UMASK = os.umask(0o022)
os.umask(_UMASK)
FILE_MODE = 0o666 & ~_UMASK
FOLDER_MODE = 0o777 & ~_UMASK


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


def write_folder_atomic(folder: Path, files: Mapping[str, bytes]) -> None:
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
            for name, data in sorted(files.items()):
                target = (staging / name).resolve()
                if staging.resolve() not in target.parents:
                    raise OutputError(f"refusing to write {name!r} outside {folder}")
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(data)
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


def publish(folder: Path, outputs: Mapping[str, bytes], *, last: str | None = None) -> None:
    """Put a run's outputs into ``folder``: all of them, or (on any failure) none.

    Every file is first written and flushed into a hidden staging folder
    beside its target; only when all are complete are they renamed into
    place, top-level entry by entry (``raw/x.json`` moves ``raw/`` as one
    folder), with ``last`` (the manifest, which vouches for the others)
    renamed last. Entries of ``folder`` not named here (self-invoices/) are
    left alone.
    """
    folder = Path(folder)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=".staging-", dir=folder))
        try:
            for name, data in sorted(outputs.items()):
                target = (staging / name).resolve()
                if staging.resolve() not in target.parents:
                    raise OutputError(f"refusing to write {name!r} outside {folder}")
                target.parent.mkdir(parents=True, exist_ok=True)
                with open(target, "wb") as fh:
                    fh.write(data)
                    fh.flush()
                    os.fsync(fh.fileno())
                os.chmod(target, FILE_MODE)
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
