"""Files in the inbox and archive, and their connections to vouchers.

Fortnox API reference: Inbox, Archive, Voucher File Connections; Fortnox's
support article "Inbox": the inbox has sub-folders for daily takings,
supplier invoices and vouchers (``inbox_v``, "Verifikationer"); a file
connected to a voucher moves out of the inbox into the archive's folder of
connected files. So after connecting, a file is found through the voucher
file connections (which carry its Name), not in ``inbox_v`` any more.
Fortnox lets two files have the same name; a client recovering a lost
upload matches on name and size and must expect more than one.
"""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass, field
from typing import Any

# Folder id -> name, as GET /3/inbox lists them.
INBOX_FOLDERS = {"inbox_v": "Verifikationer", "inbox_s": "Leverantörsfakturor", "inbox_d": "Dagskassor",
                 "inbox_kf": "Kundfakturor", "inbox_a": "Anläggningsregister"}


@dataclass
class StoredFile:
    id: str
    archive_file_id: str
    name: str
    folder: str  # an INBOX_FOLDERS key, "inbox" for the root, "archive" once connected
    content: bytes
    comments: str = ""

    @property
    def size(self) -> int:
        return len(self.content)

    def to_json(self, api: str) -> dict[str, Any]:
        return {"@url": f"{api}/inbox/{self.id}", "Comments": self.comments, "Id": self.id,
                "ArchiveFileId": self.archive_file_id, "Name": self.name, "Path": self.folder,
                "Size": self.size}

    def state(self) -> dict[str, Any]:
        return {"Id": self.id, "ArchiveFileId": self.archive_file_id, "Name": self.name,
                "Folder": self.folder, "Size": self.size, "SHA256": hashlib.sha256(self.content).hexdigest()}


@dataclass
class Connection:
    file_id: str
    name: str
    voucher_series: str
    voucher_number: int
    voucher_year: int
    voucher_description: str

    def to_json(self, api: str) -> dict[str, Any]:
        # Numbers as strings, as the connection resource serialises them.
        return {"@url": f"{api}/voucherfileconnections/{self.file_id}", "FileId": self.file_id,
                "Name": self.name, "VoucherDescription": self.voucher_description,
                "VoucherNumber": str(self.voucher_number), "VoucherSeries": self.voucher_series,
                "VoucherYear": str(self.voucher_year)}


@dataclass
class Documents:
    files: list[StoredFile] = field(default_factory=list)
    connections: list[Connection] = field(default_factory=list)

    def upload(self, name: str, content: bytes, folder: str) -> StoredFile:
        stored = StoredFile(str(uuid.uuid4()), str(uuid.uuid4()), name, folder, content)
        self.files.append(stored)
        return stored

    def file(self, file_id: str) -> StoredFile | None:
        """By its inbox Id or its ArchiveFileId: connections accept either."""
        return next((f for f in self.files if file_id in (f.id, f.archive_file_id)), None)

    def in_folder(self, folder: str) -> list[StoredFile]:
        return [f for f in self.files if f.folder == folder]

    def connection(self, file_id: str) -> Connection | None:
        return next((c for c in self.connections if c.file_id == file_id), None)
