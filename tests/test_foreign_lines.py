"""A specification line of another creditor, hung on one of our payouts, is refused, never booked.

The lines are asked for by payout id, not by creditor, so nothing in the
query keeps such a line out; it must be caught by reading its ``creditor``,
as payouts and direct payments are. Amili sends ``creditor`` on every line
(all 603 lines in samples/amili/ carry it), so a line without one is refused
too rather than assumed to be ours.
"""

from __future__ import annotations

from datetime import datetime

import pytest
from bson import ObjectId

from ledger_export import cli
from ledger_export.core.resources import SAMPLES

LINES = "finance--payout-specifications"
OTHER = "5f0000000000000000000001"


def june_line(db) -> dict:
    """A line of a payout paid out in June: one the export books."""
    payout = db["finance--payouts"].find_one({"payout_date": {"$gte": datetime(2025, 6, 1),
                                                              "$lt": datetime(2025, 7, 1)}})
    return db[LINES].find_one({"payout": payout["_id"]})


def run_export(tmp_path, capsys, *args: str) -> tuple[int, str]:
    code = cli.main(["export", "-q", "-c", str(SAMPLES / "ledger-export.toml"), "--out", str(tmp_path / "out"),
                     "--gen-date", "2025-07-01", *args])
    return code, capsys.readouterr().err


def assert_refused(code: int, err: str, line_id: str, shown: str, tmp_path) -> None:
    assert code == 1, err
    assert err.count("\n") == 1 and err.startswith("ledger-export: error: ") and "Traceback" not in err, err
    assert f"{LINES} {line_id}: field 'creditor' is {shown}" in err, err
    assert not (tmp_path / "out" / "2025-06" / "ledger-2025-06.si").exists()


@pytest.mark.parametrize("change, shown", [
    ({"$set": {"creditor": ObjectId(OTHER)}}, f"'{OTHER}'"),
    ({"$unset": {"creditor": ""}}, "missing"),
], ids=["another creditor's", "without creditor"])
def test_a_foreign_line_from_amili_is_refused_by_name(change, shown, sandbox, tmp_path, capsys, monkeypatch):
    line = june_line(sandbox.db)
    sandbox.db[LINES].update_one({"_id": line["_id"]}, change)
    monkeypatch.setenv("AMILI_API_KEY", sandbox.api_key)
    code, err = run_export(tmp_path, capsys, "--period", "2025-06", "--base-url", sandbox.base_url)
    assert_refused(code, err, str(line["_id"]), shown, tmp_path)


def test_our_own_lines_still_book(sandbox, tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("AMILI_API_KEY", sandbox.api_key)
    code, err = run_export(tmp_path, capsys, "--period", "2025-06", "--base-url", sandbox.base_url)
    assert (code, err) == (0, "")


@pytest.mark.parametrize("value, shown", [(OTHER, f"'{OTHER}'"), ({"_id": OTHER}, f"'{OTHER}'"), (None, "missing")],
                         ids=["another creditor's", "embedded", "without creditor"])
def test_a_foreign_line_in_a_raw_snapshot_is_refused_by_name(value, shown, raw_copy, tmp_path, capsys):
    lines = raw_copy.read(f"{LINES}.json")
    line = lines[len(lines) // 2]
    if value is None:
        del line["creditor"]
    else:
        line["creditor"] = value
    raw_copy.write_list(f"{LINES}.json", lines)
    code, err = run_export(tmp_path, capsys, "--from-raw", str(raw_copy.raw), "--base-url", "http://127.0.0.1:9")
    assert_refused(code, err, line["_id"], shown, tmp_path)
