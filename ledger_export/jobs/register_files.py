"""What the register knows from the disk: periods already exported, files in place, files to take back."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Mapping
from pathlib import Path

from ledger_export.core.files import fs_step
from ledger_export.outputs.manifest import period_manifests
from ledger_export.jobs.register_check import RegisterError

class RegisterMissingError(RegisterError):
    """The output root holds exported periods but no register: never start afresh silently."""

    def __init__(self, path: Path, what: str, periods: list[str]):
        shown = ", ".join(periods[:6]) + (f" and {len(periods) - 6} more" if len(periods) > 6 else "")
        super().__init__(
            f"{path} {what}, but {path.parent} holds exported periods ({shown}): without the register every "
            f"payout would be booked again. Restore it from your backup, or rebuild it from the periods' "
            f"manifests with: ledger-export register rebuild --out {path.parent}")
        self.periods = tuple(periods)


def exported_periods(root: Path) -> list[str]:
    """Names of the period folders in ``root`` that hold a manifest: something was exported there."""
    try:
        entries = sorted(os.scandir(root), key=lambda e: e.name)
    except (FileNotFoundError, NotADirectoryError):
        return []
    except OSError as exc:
        raise RegisterError(f"cannot read {root}: {exc.strerror or exc}") from exc
    return [e.name for e in entries
            if not e.name.startswith(".") and e.is_dir(follow_symlinks=False) and period_manifests(Path(e.path))]


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def file_matches(path: Path, size: int, sha256: str) -> bool:
    """``path`` is a real file (no link) with exactly this size and SHA-256."""
    try:
        if path.is_symlink() or not path.is_file() or path.stat().st_size != size:
            return False
        return sha256_file(path) == sha256
    except OSError:
        return False


def undo_files(root: Path, files: Mapping[str, tuple[int, str]]) -> tuple[str, ...]:
    """Take away the files of a run that stopped half-way through publishing; the names taken away.

    Only files that are exactly what the run wrote (size and SHA-256) are
    removed: under the names of its own that every run publishes, those can
    only be its own. Folders left empty by that go too.
    """
    removed = []
    folders: set[Path] = set()
    for name, (size, sha) in sorted(files.items()):
        path = root / name
        if file_matches(path, size, sha):
            try:
                fs_step("unlink", path)
                path.unlink()
            except OSError as exc:
                raise RegisterError(f"cannot take away {path}, left half-published by a stopped run: "
                                    f"{exc.strerror or exc}") from exc
            removed.append(name)
        parent = path.parent
        while parent != root and root in parent.parents:
            folders.add(parent)
            parent = parent.parent
    for folder in sorted(folders, key=lambda f: len(f.parts), reverse=True):
        try:
            folder.rmdir()
        except OSError:
            pass  # not empty: other runs' files live there
    return tuple(removed)
