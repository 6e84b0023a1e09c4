"""Other programs reading the workbook: python-calamine as stored, LibreOffice and Gnumeric recalculated.

Each reader turns .xlsx bytes into ``{sheet: rows of values}``. LibreOffice
(``soffice --convert-to``) and Gnumeric (``ssconvert --recalc``) get the
workbook with every formula's stored result taken out, so what they give
back can only be their own calculation; their output is then read with
python-calamine. Both run in their own process group with a timeout, and a
test skips, saying how to install them, where they are missing.
"""

from __future__ import annotations

import io
import os
import re
import shutil
import signal
import subprocess
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from python_calamine import CalamineWorkbook

Rows = dict[str, list[list[Any]]]

SOFFICE = ("soffice", "libreoffice", "/usr/lib/libreoffice/program/soffice",
           "/Applications/LibreOffice.app/Contents/MacOS/soffice")
INSTALL_SOFFICE = "apt-get install -y --no-install-recommends libreoffice-calc-nogui"
INSTALL_GNUMERIC = "apt-get install -y --no-install-recommends gnumeric"
TIMEOUT = 180


def find(candidates: tuple[str, ...]) -> str | None:
    for candidate in candidates:
        found = shutil.which(candidate)
        if found:
            return found
    return None


def calamine(xlsx: bytes) -> Rows:
    """Every sheet's values as stored in the file: what a reader that never recalculates shows."""
    book = CalamineWorkbook.from_filelike(io.BytesIO(xlsx))
    return {name: book.get_sheet_by_name(name).to_python(skip_empty_area=False) for name in book.sheet_names}


# A formula cell: its attributes, formula and stored result (<v>), in XlsxWriter's spelling.
_FORMULA_CELL = re.compile(r'<c ([^>]*?)( t="str")?><f>(.*?)</f><v>.*?</v></c>')


def without_results(xlsx: bytes) -> bytes:
    """The workbook with each formula's stored result removed: a reader must calculate it."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(xlsx)) as source, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            data = source.read(info)
            if info.filename.startswith("xl/worksheets/sheet"):
                text, count = _FORMULA_CELL.subn(r"<c \1><f>\3</f></c>", data.decode())
                data = text.encode()
            target.writestr(info, data)
    return out.getvalue()


def run(command: list[str], what: str) -> str:
    # Its own process group: soffice starts soffice.bin, which a timeout must end too.
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        output, _ = proc.communicate(timeout=TIMEOUT)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate()
        pytest.fail(f"{what} did not finish within {TIMEOUT} s")
    text = output.decode(errors="replace")
    assert proc.returncode == 0, f"{what} failed: {text}"
    return text


def libreoffice(folder: Path) -> Callable[[bytes, str], Path]:
    """``convert(xlsx, to)``: LibreOffice's conversion of the workbook (results removed) to ``to``."""
    soffice = find(SOFFICE)
    if soffice is None:
        pytest.skip(f"LibreOffice is not installed here ({INSTALL_SOFFICE}); .ci/run installs it where it can")
    profile = folder / "profile"
    count = 0

    def convert(xlsx: bytes, to: str) -> Path:
        nonlocal count
        count += 1
        work = folder / f"run{count}"
        source = work / "in" / "ledger.xlsx"
        source.parent.mkdir(parents=True)
        source.write_bytes(without_results(xlsx))
        run([soffice, f"-env:UserInstallation={profile.as_uri()}", "--headless", "--norestore",
             "--convert-to", to, "--outdir", str(work), str(source)], "LibreOffice")
        result = work / f"ledger.{to.split(':')[0]}"
        assert result.exists(), f"LibreOffice wrote no {result.name}"
        return result

    return convert


def gnumeric(folder: Path) -> Callable[[bytes], Path]:
    """``convert(xlsx)``: the workbook (results removed) recalculated by Gnumeric and saved as .xlsx."""
    ssconvert = shutil.which("ssconvert")
    if ssconvert is None:
        pytest.skip(f"Gnumeric is not installed here ({INSTALL_GNUMERIC}); .ci/run installs it where it can")
    count = 0

    def convert(xlsx: bytes) -> Path:
        nonlocal count
        count += 1
        source, result = folder / f"in{count}.xlsx", folder / f"out{count}.xlsx"
        source.write_bytes(without_results(xlsx))
        output = run([ssconvert, "--recalc", "--export-type=Gnumeric_Excel:xlsx2", str(source), str(result)],
                     "Gnumeric")
        # Gnumeric reports what it could not read as it goes; the workbook must give it nothing to report.
        assert not output.strip(), f"Gnumeric warned: {output}"
        return result

    return convert
