"""The Fortnox token file: the current access token and the one refresh token that still works.

Fortnox rotates refresh tokens: each works once, and the answer to a refresh
carries the next. A run that refreshed and then lost the new token would
leave the company with none, and the bookkeeper would have to log in again.
So the new pair is written (atomically, flushed to disk) before the new
access token is used for anything, and a failure to write it stops the run.

The file holds secrets. It is written by core/files.py's write_atomic: a
temporary file in the same folder, created with mode 0600 from the first
byte (mkstemp; no moment at which another user could open it), flushed and
renamed over the old one, so a reader sees the old pair or the new, never
half. An existing file that group or others may
read is refused rather than quietly tightened: whoever could read it may
hold a working refresh token, which a chmod does not take back; the message
says to tighten it and, to be safe, to log in again. Links are not followed.

Nothing here prints a token: TokenSet's repr hides them, and messages name
the file, never its content.
"""

from __future__ import annotations

import json
import os
import secrets
import stat
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ledger_export.core.errors import FortnoxAuthError, OutputError
from ledger_export.core.files import write_atomic
from ledger_export.core.lock import OutputLock

FORMAT = 1
LOGIN_AGAIN = "run `ledger-export fortnox login` again"
# A token file is a few kilobytes; anything much larger is not ours.
_MAX_BYTES = 64 * 1024


@dataclass(frozen=True)
class TokenSet:
    """An access token, when it expires (seconds since the epoch), the refresh token if any, the scopes granted."""

    access_token: str = field(repr=False)
    expires_at: float
    refresh_token: str | None = field(default=None, repr=False)
    scopes: frozenset[str] = frozenset()

    def __repr__(self) -> str:
        refresh = "<redacted>" if self.refresh_token else None
        return (f"TokenSet(access_token=<redacted>, refresh_token={refresh}, expires_at={self.expires_at:.0f}, "
                f"scopes={sorted(self.scopes)})")

    def fresh(self, now: float, margin: float = 60.0) -> bool:
        """Usable for at least ``margin`` more seconds (a request started now ends before it expires)."""
        return bool(self.access_token) and now + margin < self.expires_at

    @classmethod
    def from_answer(cls, body: Any, now: float, *, what: str) -> TokenSet:
        """The tokens in an answer of Fortnox's token endpoint, received at ``now``."""
        if not isinstance(body, dict):
            raise FortnoxAuthError(f"the answer to {what} is not a JSON object")
        access = body.get("access_token")
        if not isinstance(access, str) or not access.strip() or not access.isascii() or any(c.isspace() for c in access):
            raise FortnoxAuthError(f"the answer to {what} carries no usable access_token "
                                   f"(fields: {', '.join(sorted(map(str, body)))[:200]})")
        refresh = body.get("refresh_token")
        if refresh is not None and (not isinstance(refresh, str) or not refresh.strip()):
            raise FortnoxAuthError(f"the answer to {what} carries a refresh_token that is not text")
        expires_in = body.get("expires_in", 3600)
        if isinstance(expires_in, bool) or not isinstance(expires_in, (int, float)) or expires_in <= 0:
            expires_in = 3600  # Fortnox documents one hour; an odd value must not make a token look fresh forever
        scope = body.get("scope")
        scopes = frozenset(scope.split()) if isinstance(scope, str) else frozenset()
        return cls(access_token=access, expires_at=now + float(expires_in), refresh_token=refresh or None,
                   scopes=scopes)


class TokenStore:
    """The token file at ``path`` (``[fortnox] token_file``)."""

    def __init__(self, path: Path | str):
        self.path = Path(path)

    def __repr__(self) -> str:
        return f"TokenStore({str(self.path)!r})"

    @contextmanager
    def locked(self) -> Iterator[None]:
        """Hold the file against other ledger-export processes while a refresh spends its refresh token.

        Two runs refreshing with one refresh token at once would both send it;
        the second is refused and its run fails. The lock never waits (LockedError).
        """
        self._folder()
        with OutputLock(self.path.parent, f"{self.path.name}.lock",
                        holder="another ledger-export run refreshing the Fortnox token"):
            yield

    def load(self) -> TokenSet | None:
        """The stored tokens, or None when there is no file yet (or an empty one)."""
        flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_NONBLOCK", 0)
        try:
            fd = os.open(self.path, flags)
        except FileNotFoundError:
            return None
        except OSError as exc:
            if self.path.is_symlink():
                raise self._refused("is a symbolic link: ledger-export does not follow links to its token "
                                    "file (replace the link by the file)") from None
            raise self._refused(f"cannot be read: {exc.strerror or exc}") from None
        try:
            info = os.fstat(fd)
            if not stat.S_ISREG(info.st_mode):
                raise self._refused("is not a regular file")
            if hasattr(os, "getuid") and info.st_uid != os.getuid():
                raise self._refused("belongs to another user: it must be yours alone")
            if info.st_mode & 0o077:
                raise self._refused(
                    f"may be read by others (mode {stat.S_IMODE(info.st_mode):04o}): run `chmod 600 {self.path}`, "
                    f"and, since whoever could read it may hold a working token, {LOGIN_AGAIN}")
            data = os.read(fd, _MAX_BYTES + 1)
        finally:
            os.close(fd)
        if not data.strip():
            return None
        if len(data) > _MAX_BYTES:
            raise self._refused("is too large to be a token file")
        return self._parse(data)

    def save(self, tokens: TokenSet) -> None:
        """Replace the file by ``tokens``, atomically, mode 0600 from creation; flushed before it returns."""
        folder = self._folder()
        if self.path.is_symlink():
            raise self._refused("is a symbolic link: ledger-export does not write through links to its token file")
        data = json.dumps({
            "format": FORMAT,
            "access_token": tokens.access_token,
            "expires_at": tokens.expires_at,
            "refresh_token": tokens.refresh_token,
            "scopes": sorted(tokens.scopes),
            "saved_at": time.time(),
        }, indent=2).encode("ascii") + b"\n"
        try:
            write_atomic(folder / self.path.name, data, mode=0o600)
        except OutputError as exc:
            problem = exc.__cause__.strerror if isinstance(exc.__cause__, OSError) else None
            raise FortnoxAuthError(f"cannot write the Fortnox token file {self.path}: "
                                   f"{problem or exc.__cause__ or exc}") from None

    def _folder(self) -> Path:
        folder = self.path.parent
        try:
            folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        except OSError as exc:
            raise FortnoxAuthError(f"cannot create the folder of the Fortnox token file {self.path}: "
                                   f"{exc.strerror or exc}") from None
        return folder

    def _refused(self, problem: str) -> FortnoxAuthError:
        return FortnoxAuthError(f"[fortnox] token_file {self.path} {problem}")

    def _parse(self, data: bytes) -> TokenSet:
        damaged = self._refused(f"is not a token file ledger-export wrote: remove it and {LOGIN_AGAIN}")
        try:
            body = json.loads(data.decode("utf-8"))
        except (UnicodeDecodeError, ValueError, RecursionError):
            raise damaged from None
        if not isinstance(body, dict) or body.get("format") != FORMAT:
            raise damaged
        access, refresh, expires = body.get("access_token"), body.get("refresh_token"), body.get("expires_at")
        scopes = body.get("scopes", [])
        if (not isinstance(access, str) or (refresh is not None and not isinstance(refresh, str))
                or isinstance(expires, bool) or not isinstance(expires, (int, float))
                or not isinstance(scopes, list) or not all(isinstance(s, str) for s in scopes)):
            raise damaged
        return TokenSet(access_token=access, expires_at=float(expires), refresh_token=refresh or None,
                        scopes=frozenset(scopes))
