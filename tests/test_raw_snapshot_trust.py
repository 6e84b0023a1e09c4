"""A raw snapshot read by ``export --from-raw`` is data from outside: nothing in it is taken as given.

Each test starts from a real snapshot (the demo's June, fetched over HTTP from
the bundled sandbox), changes one thing the way a damaged or doctored copy
would (keeping the SHA-256 in snapshot.json consistent where the change is in
a list, so the check under test is the one that fires), and runs the command.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from datetime import date
from pathlib import Path

import pytest

from ledger_export import cli
from ledger_export.amili.snapshot import INDEX, RESOURCES, load_snapshot
from ledger_export.core.errors import PeriodError, SnapshotError
from ledger_export.core.resources import SAMPLES
from ledger_export.core.period import Period, date_range, label_for, month, quarter

PAYOUTS, LINES, PAYMENTS = RESOURCES["payouts"], RESOURCES["specifications"], RESOURCES["payments"]


@pytest.fixture
def raw(raw_copy) -> Path:
    return raw_copy.raw


def files_under(root: Path) -> set[Path]:
    return {p for p in root.rglob("*") if p.is_file()}


def export_from_raw(tmp_path: Path, raw: Path, capsys, *extra: str) -> tuple[int, str, str]:
    code = cli.main(["export", "-q", "-c", str(SAMPLES / "ledger-export.toml"), "--out", str(tmp_path / "out"),
                     "--base-url", "http://127.0.0.1:9", "--from-raw", str(raw), "--gen-date", "2025-07-01",
                     *extra])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def assert_one_line_error(code: int, err: str, *names: str) -> None:
    assert code == 1, err
    assert err.count("\n") == 1 and err.startswith("ledger-export: error: ") and "Traceback" not in err, err
    for name in names:
        assert name in err, f"{name!r} not in {err!r}"


# -- the period label is derived from the dates, never read ------------------------------------------

@pytest.mark.parametrize("start, end, label", [
    (date(2025, 6, 1), date(2025, 6, 30), "2025-06"),
    (date(2024, 2, 1), date(2024, 2, 29), "2024-02"),
    (date(2025, 4, 1), date(2025, 6, 30), "2025Q2"),
    (date(2025, 10, 1), date(2025, 12, 31), "2025Q4"),
    (date(2025, 5, 1), date(2025, 7, 31), "2025-05-01_2025-07-31"),   # three months, not a quarter
    (date(2025, 6, 1), date(2025, 6, 29), "2025-06-01_2025-06-29"),
    (date(2025, 6, 2), date(2025, 6, 30), "2025-06-02_2025-06-30"),
    (date(5, 1, 1), date(5, 1, 31), "0005-01"),
])
def test_the_label_is_the_dates_own(start, end, label):
    assert label_for(start, end) == label
    assert Period(start, end).label == label


def test_every_constructor_labels_through_the_same_function():
    for period in (month("2025-06"), quarter("2025Q2"), date_range("2025-06-10", "2025-06-12"),
                   date_range("2025-06-01", "2025-06-30")):
        assert period.label == label_for(period.start, period.end)
    # A whole month given as a range is that month: same folder, same register entries.
    assert date_range("2025-06-01", "2025-06-30") == month("2025-06")


@pytest.mark.parametrize("label", ["../x", "2025-07", "/tmp/evil", "2025-06-01_2025-06-30"])
def test_a_period_cannot_carry_a_label_that_is_not_its_dates(label):
    with pytest.raises(PeriodError):
        Period(date(2025, 6, 1), date(2025, 6, 30), label)
    assert Period(date(2025, 6, 1), date(2025, 6, 30), "2025-06").label == "2025-06"


@pytest.mark.parametrize("label", ["../x", "../../../../tmp/evil", "/tmp/evil", "2025-07", "2025-06/../.."])
def test_a_doctored_label_writes_nothing_outside_out_and_is_one_line(label, raw, raw_copy, tmp_path, capsys):
    raw_copy.change_index(lambda index: index["period"].update(label=label))
    # The lists are untouched, so every SHA-256 in the index still holds.
    before = files_under(tmp_path)
    code, out, err = export_from_raw(tmp_path, raw, capsys)
    written = files_under(tmp_path) - before
    assert not {p for p in written if tmp_path / "out" not in p.parents}, sorted(map(str, written))
    assert not any(p.suffix in (".si", ".xlsx") for p in written)
    assert not (tmp_path / "x").exists() and not (tmp_path / "out" / "2025-07").exists()
    assert_one_line_error(code, err, str(raw / INDEX), "'period.label'")


def test_an_untouched_snapshot_still_books(raw, tmp_path, capsys):
    code, out, err = export_from_raw(tmp_path, raw, capsys)
    assert (code, err) == (0, "")
    assert (tmp_path / "out" / "2025-06" / "ledger-2025-06.si").is_file()


# -- snapshot.json is checked like an answer from Amili -------------------------------------------

def _set(path: str | tuple[str, str], value) -> Callable[[dict], None]:
    """Set (or with DROP, remove) the field ``path``: "creditor", "period.start" or ("sha256", file)."""
    *parents, last = path.split(".", 1) if isinstance(path, str) else path

    def change(index: dict) -> None:
        for key in parents:
            index = index[key]
        if value is DROP:
            del index[last]
        else:
            index[last] = value
    return change


DROP = object()
HASH = f"sha256.{LINES}"

INDEX_CASES = [
    ("a list", lambda index: [], "is not a JSON object"),
    ("a string", lambda index: "snapshot", "is not a JSON object"),
    ("format as text", _set("format", "1"), "'format'"),
    ("format true", _set("format", True), "'format'"),
    ("format 2", _set("format", 2), "'format'"),
    ("creditor missing", _set("creditor", DROP), "'creditor'"),
    ("creditor a number", _set("creditor", 42), "'creditor'"),
    ("creditor not an id", _set("creditor", "../../etc"), "'creditor'"),
    ("creditor upper-case", _set("creditor", "686E6ED854377058C2DD10BD"), "'creditor'"),
    ("base_url a list", _set("base_url", ["http://x"]), "'base_url'"),
    ("base_url with a line break", _set("base_url", "http://x\nledger-export: ok"), "'base_url'"),
    ("period a list", _set("period", ["2025-06-01", "2025-06-30"]), "'period'"),
    ("period.start missing", _set("period.start", DROP), "'period.start'"),
    ("period.start a number", _set("period.start", 20250601), "'period.start'"),
    ("period.start compact", _set("period.start", "20250601"), "'period.start'"),
    ("period.start a week date", _set("period.start", "2025-W23-1"), "'period.start'"),
    ("period.start full-width digits", _set("period.start", "２０２５-06-01"), "'period.start'"),
    ("period.end not a day", _set("period.end", "2025-06-31"), "'period.end'"),
    ("period.end before start", _set("period.end", "2025-05-31"), "'period'"),
    ("period.end the last day of time", _set("period.end", "9999-12-31"), "'period'"),
    ("period.label a number", _set("period.label", 202506), "'period.label'"),
    ("period.label missing", _set("period.label", DROP), "'period.label'"),
    ("counts missing", _set("counts", DROP), "'counts'"),
    ("counts.payouts as text", _set("counts.payouts", "13"), "'counts.payouts'"),
    ("counts.payouts true", _set("counts.payouts", True), "'counts.payouts'"),
    ("counts.payouts 13.0", _set("counts.payouts", 13.0), "'counts.payouts'"),
    ("counts.payouts negative", _set("counts.payouts", -1), "'counts.payouts'"),
    ("counts.specifications one short", _set("counts.specifications", 486), "'counts.specifications'"),
    ("counts.payments one more", _set("counts.payments", 6), "'counts.payments'"),
    ("sha256 a list", _set("sha256", []), "'sha256'"),
    ("sha256 of a list missing", _set(("sha256", PAYMENTS), DROP), f"'sha256.{PAYMENTS}'"),
    ("sha256 too short", _set(("sha256", PAYOUTS), "ab" * 16), f"'sha256.{PAYOUTS}'"),
    ("sha256 not hex", _set(("sha256", PAYOUTS), "g" * 64), f"'sha256.{PAYOUTS}'"),
    ("sha256 a number", _set(("sha256", PAYOUTS), 1), f"'sha256.{PAYOUTS}'"),
]


@pytest.mark.parametrize("name, change, field", INDEX_CASES, ids=[c[0] for c in INDEX_CASES])
def test_a_damaged_index_is_one_line_naming_the_file_and_the_field(name, change, field, raw, raw_copy):
    raw_copy.change_index(change)
    with pytest.raises(SnapshotError) as caught:
        load_snapshot(raw)
    message = str(caught.value)
    assert message.splitlines() == [message]
    assert str(raw / INDEX) in message and field in message, message


def deep(n: int) -> bytes:
    return b"[" * n + b"]" * n


BYTES_CASES = [
    ("index nested 100,000 deep", INDEX, deep(100_000), "nested too deeply"),
    ("index not UTF-8", INDEX, b'{"format": 1, "creditor": "\xff"}', "not UTF-8"),
    ("index empty", INDEX, b"", "not valid JSON"),
    ("index with a 5000-digit count", INDEX, b'{"format": 1' + b"0" * 5000 + b"}", "not valid JSON"),
    ("index with NaN", INDEX, b'{"format": NaN}', INDEX),
]


@pytest.mark.parametrize("name, file, data, problem", BYTES_CASES, ids=[c[0] for c in BYTES_CASES])
def test_an_index_that_is_not_json_is_one_line_naming_it(name, file, data, problem, raw):
    (raw / file).write_bytes(data)
    with pytest.raises(SnapshotError) as caught:
        load_snapshot(raw)
    message = str(caught.value)
    assert message.splitlines() == [message] and str(raw / file) in message and problem in message, message


LIST_CASES = [
    ("payouts an object", PAYOUTS, b'{"_items": []}', "not a JSON list"),
    ("payouts a string", PAYOUTS, b'"payouts"', "not a JSON list"),
    ("a line that is a string", LINES, b'["INV-1;1000.00"]', "item [0] is not a JSON object"),
    ("a payment that is a number", PAYMENTS, b"[1]", "item [0] is not a JSON object"),
    ("a payment that is null", PAYMENTS, b"[null]", "item [0] is not a JSON object"),
    ("lines nested 100,000 deep", LINES, deep(100_000), "nested too deeply"),
    ("lines not UTF-8", LINES, b'[{"_id": "\xc3\x28"}]', "not UTF-8"),
    ("lines cut short", LINES, b'[{"_id": "6650', "not valid JSON"),
]


@pytest.mark.parametrize("name, file, data, problem", LIST_CASES, ids=[c[0] for c in LIST_CASES])
def test_a_list_file_that_is_not_a_list_of_records_is_one_line_naming_it(name, file, data, problem, raw, raw_copy):
    raw_copy.write_list(file, data)  # its SHA-256 vouches for it: the content check must catch it
    with pytest.raises(SnapshotError) as caught:
        load_snapshot(raw)
    message = str(caught.value)
    assert message.splitlines() == [message] and str(raw / file) in message and problem in message, message


def test_a_list_with_a_record_more_than_its_count_is_refused(raw, raw_copy):
    lines = raw_copy.read(LINES)
    raw_copy.write_list(LINES, lines + [dict(lines[0], _id="6650000000000000000bffff")])
    with pytest.raises(SnapshotError, match=r"'counts.specifications' is 487, but .* holds 488"):
        load_snapshot(raw)


def test_a_damaged_snapshot_through_the_command_line_is_one_line(raw, raw_copy, tmp_path, capsys):
    raw_copy.change_index(_set("creditor", {"_id": "686e6ed854377058c2dd10bd"}))
    code, out, err = export_from_raw(tmp_path, raw, capsys)
    assert_one_line_error(code, err, str(raw / INDEX), "'creditor'")
    assert not (tmp_path / "out" / "2025-06").exists()


# -- files of a snapshot that are not files ---------------------------------------------------------

def run_cli(*args: str, timeout: float = 20) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "ledger_export", *args], capture_output=True, text=True,
                          timeout=timeout, stdin=subprocess.DEVNULL)


@pytest.mark.parametrize("kind", ["fifo", "dev-zero", "folder", "huge"])
def test_a_list_file_that_is_no_regular_file_is_refused_without_waiting(kind, raw, tmp_path):
    target = raw / LINES
    target.unlink()
    if kind == "fifo":
        os.mkfifo(target)
    elif kind == "dev-zero":
        target.symlink_to("/dev/zero")
    elif kind == "folder":
        target.mkdir()
    else:
        with target.open("wb") as f:
            f.truncate(1025 * 2 ** 20)  # sparse: takes no disk
    done = run_cli("export", "-q", "-c", str(SAMPLES / "ledger-export.toml"), "--out", str(tmp_path / "out"),
                   "--base-url", "http://127.0.0.1:9", "--from-raw", str(raw))
    assert done.returncode == 1, done.stderr
    assert done.stderr.count("\n") == 1 and "Traceback" not in done.stderr, done.stderr
    assert str(target) in done.stderr
    if kind == "huge":
        assert "1024 MB" in done.stderr
