"""Files named on the command line that are no files: a FIFO, /dev/zero, a folder, a huge or missing file.

``validate FILE...`` and ``export --chart FILE`` read them as a user would
hand them over, in a real process with a time limit (a hang fails the test)
and an address-space limit (reading /dev/zero into memory fails it too).
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
from pathlib import Path

import pytest

from ledger_export.core.errors import LedgerExportError
from ledger_export.core.input_files import MB, read_regular_file
from ledger_export.core.resources import SAMPLES
from ledger_export.sie.reader import SIZE_LIMIT

GOOD = """#FLAGGA 0
#FORMAT PC8
#SIETYP 4
#PROGRAM "test" 1.0
#GEN 20250701
#FNAMN "Exempelbolaget AB"
#ORGNR 556677-8899
#RAR 0 20250101 20251231
#KONTO 1930 "Bank"
#KONTO 1510 "Kundfordringar"
#VER "" "" 20250613 "Amili"
{
#TRANS 1930 {} 100.00
#TRANS 1510 {} -100.00
}
"""


def _limit_memory() -> None:
    # 2 GB of address space: plenty for the program, far too little for /dev/zero read whole.
    resource.setrlimit(resource.RLIMIT_AS, (2 * 1024 * MB, 2 * 1024 * MB))


def run_cli(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "ledger_export", *args], capture_output=True, text=True,
                          timeout=30, stdin=subprocess.DEVNULL, preexec_fn=_limit_memory, cwd=cwd)


def not_files(folder: Path) -> dict[str, Path]:
    """One of each kind of path that is no SIE file to read."""
    folder.mkdir(exist_ok=True)
    fifo = folder / "pipe.si"
    os.mkfifo(fifo)
    huge = folder / "huge.si"
    with huge.open("wb") as f:
        f.truncate(SIZE_LIMIT + 1)  # sparse: no disk used
    zero = folder / "zero.si"
    zero.symlink_to("/dev/zero")
    (folder / "folder.si").mkdir()
    return {"fifo": fifo, "dev-zero": Path("/dev/zero"), "link to /dev/zero": zero, "folder": folder / "folder.si",
            "huge": huge, "missing": folder / "missing.si"}


REASONS = {"fifo": "FIFO", "dev-zero": "character device", "link to /dev/zero": "character device",
           "folder": "a folder", "huge": "more than the 256 MB a SIE file may be", "missing": "does not exist"}


def test_validate_reports_each_path_that_is_no_file_in_one_line_and_checks_the_rest(tmp_path):
    good = tmp_path / "good.si"
    good.write_bytes(GOOD.encode("cp437"))
    bad = not_files(tmp_path / "bad")
    done = run_cli("validate", str(bad["fifo"]), str(good), *(str(p) for k, p in bad.items() if k != "fifo"))
    assert done.returncode == 1 and done.stderr == "", done.stderr
    lines = done.stdout.splitlines()
    assert f"{good}: ok" in lines
    for kind, path in bad.items():
        mine = [line for line in lines if line.startswith(f"{path}: ")]
        # The finding (naming the file and why) and the file's summary line.
        assert len(mine) == 2, (kind, lines)
        assert mine[0].startswith(f"{path}: error: cannot read {path}: ") and REASONS[kind] in mine[0], mine[0]
        assert mine[1] == f"{path}: 1 error(s), 0 warning(s)"


def test_validate_of_dev_zero_alone_is_one_error_not_an_endless_read(tmp_path):
    done = run_cli("validate", "--json", "/dev/zero")
    assert done.returncode == 1 and done.stderr == "", done.stderr
    report = json.loads(done.stdout)
    assert report["ok"] is False
    assert [f["code"] for f in report["files"][0]["findings"]] == ["unreadable"]
    assert "character device" in report["files"][0]["findings"][0]["message"]


def test_a_file_name_with_a_line_break_stays_one_line_in_the_report(tmp_path):
    odd = tmp_path / "two\nlines.si"
    done = run_cli("validate", str(odd))
    assert done.returncode == 1
    assert len(done.stdout.splitlines()) == 2 and "two\\nlines.si" in done.stdout, done.stdout


@pytest.mark.parametrize("kind", list(REASONS))
def test_a_chart_that_is_no_file_is_one_line_and_no_wait(kind, tmp_path):
    chart = not_files(tmp_path / "charts")[kind]
    done = run_cli("export", "-q", "-c", str(SAMPLES / "ledger-export.toml"), "--out", str(tmp_path / "out"),
                   "--base-url", "http://127.0.0.1:9", "--period", "2025-06", "--chart", str(chart))
    assert done.returncode == 1, done.stderr
    assert done.stderr.count("\n") == 1 and done.stderr.startswith("ledger-export: error: cannot read "), done.stderr
    assert str(chart) in done.stderr and REASONS[kind] in done.stderr
    assert not (tmp_path / "out" / "2025-06").exists()


def test_a_fifo_swapped_in_after_the_check_does_not_block_the_open(tmp_path, monkeypatch):
    """The race the O_NONBLOCK open closes: stat saw a file, open meets a FIFO."""
    fifo = tmp_path / "pipe.si"
    os.mkfifo(fifo)
    real_stat = os.stat
    regular = real_stat(__file__)
    monkeypatch.setattr(os, "stat", lambda path, *a, **k: regular if Path(path) == fifo else real_stat(path, *a, **k))
    with pytest.raises(LedgerExportError, match=f"cannot read {fifo}: it is a FIFO"):
        read_regular_file(fifo, SIZE_LIMIT, "SIE file", LedgerExportError)  # a blocking open would wait here


def test_a_regular_file_is_read_whole_up_to_the_limit(tmp_path):
    data = os.urandom(3 * MB + 17)
    path = tmp_path / "f"
    path.write_bytes(data)
    assert read_regular_file(path, len(data), "file", LedgerExportError) == data
    with pytest.raises(LedgerExportError, match="is 3.1 MB, more than the 3 MB a SIE file may be"):
        read_regular_file(path, 3 * MB, "SIE file", LedgerExportError)


@pytest.mark.parametrize("command", [
    ["export", "--period", "2025-06", "--dry-run", "--config", "{path}"],
    ["payments", "register", "{path}", "--dry-run", "--config", str(SAMPLES / "ledger-export.toml")],
])
@pytest.mark.parametrize("kind", ["fifo", "dev-zero"])
def test_a_configuration_or_payments_file_that_is_no_file_is_one_line_and_no_wait(tmp_path, command, kind):
    if kind == "fifo":
        path = tmp_path / "named.pipe"
        os.mkfifo(path)
    else:
        path = Path("/dev/zero")
    result = run_cli(*(part.replace("{path}", str(path)) for part in command), cwd=tmp_path)
    assert result.returncode == 1, result.stderr
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
    assert f"cannot read" in result.stderr and ("FIFO" in result.stderr or "character device" in result.stderr)
