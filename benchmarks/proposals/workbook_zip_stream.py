"""Proposal (monkeypatch, for the benchmark only):
the workbook's zip copies each streamed sheet from its temp file in chunks.

_FixedTimeZip.write read the whole temporary sheet XML into memory (tens of
MB per sheet at 100k lines) before compressing it; ZipFile.open(info, "w")
takes it a megabyte at a time with the same fixed timestamp, so the bytes
written are the same.
"""
import os
import shutil
import zipfile
from ledger_export.writers import xlsx


def write(self, filename, arcname=None, compress_type=None, compresslevel=None):
    info = zipfile.ZipInfo(arcname or str(filename), date_time=self.fixed_date_time)
    info.compress_type = compress_type if compress_type is not None else self.compression
    info.external_attr = 0o600 << 16
    if compresslevel is not None:
        info._compresslevel = compresslevel
    # The size known up front lets zipfile choose zip64 only when a sheet needs it, as writestr does.
    info.file_size = os.path.getsize(filename)
    with open(filename, "rb") as source, self.open(info, "w") as target:
        shutil.copyfileobj(source, target, 1 << 20)


xlsx._FixedTimeZip.write = write
