"""The register's Fortnox actions: schema version 3, migrated from 2 in place; what settling keeps; status."""

from __future__ import annotations

import sqlite3
from datetime import date, datetime, timezone

import pytest

from ledger_export.core.period import month
from ledger_export.jobs.fortnox_books import VoucherRef
from ledger_export.jobs.fortnox_status import fortnox_check, fortnox_status
from ledger_export.jobs.register import _PAYOUTS, _RUNS, _TABLES, REGISTER_FILE, Register
from support.fortnox_fake import FakeFortnox, Killed
from support.fortnox_run import fortnox_config, post_month

AT = "2025-07-02T09:30:00+00:00"


def _version_2(path) -> bytes:
    db = sqlite3.connect(path)
    db.executescript(f"{_TABLES}{_RUNS}{_PAYOUTS}\nPRAGMA user_version = 2;")
    db.execute("INSERT INTO runs (id, period, mode, status, exported_at, manifest) "
               "VALUES (1, '2025-06', 'normal', 'exported', ?, '2025-06/manifest.json')", (AT,))
    db.execute("INSERT INTO exported_payouts VALUES ('p1', 1, 'e1', '2025-06-02', 'ref', '10.00', '2025-06', "
               "'2025-06/ledger-2025-06.si', ?, ?)", ("0" * 64, AT))
    db.commit()
    db.close()
    return path.read_bytes()


def test_a_version_2_register_is_read_as_it_is_and_migrated_in_place_by_a_run(tmp_path):
    before = _version_2(tmp_path / REGISTER_FILE)
    with Register.open(tmp_path, read_only=True) as register:  # dry runs and reports read it unchanged
        assert register.fortnox.unknown() == () and register.fortnox.actions_of(["p1"]) == {}
        assert [r.status for r in register.runs()] == ["exported"]
    assert (tmp_path / REGISTER_FILE).read_bytes() == before
    with Register.open(tmp_path) as register:
        assert [e.payout_id for e in register.payouts_of(1)] == ["p1"]  # what was booked stays booked
    db = sqlite3.connect(tmp_path / REGISTER_FILE)
    assert db.execute("PRAGMA user_version").fetchone()[0] == 3
    assert "fortnox_actions" in {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}


def test_each_action_is_pending_before_its_request_and_confirmed_after(demo_period, tmp_path):
    seen: list[tuple[str, list[str]]] = []

    class Watching(FakeFortnox):
        def create_voucher(self, *args, **kwargs):
            with Register.open(tmp_path, read_only=True) as register:  # another reader, as a crash would leave it
                seen.append(("voucher", [a.status for a in register.fortnox.unknown()]))
            return super().create_voucher(*args, **kwargs)

    post_month(demo_period / "raw", tmp_path, Watching())
    assert seen and all(statuses == ["pending"] for _, statuses in seen)
    with Register.open(tmp_path) as register:
        assert register.fortnox.unknown() == ()


def test_a_run_with_nothing_in_fortnox_is_abandoned_one_that_may_have_something_is_kept(demo_period, tmp_path):
    from ledger_export.jobs.fortnox_post import PostingStoppedError

    with pytest.raises(PostingStoppedError, match="Fortnox refused the voucher"):
        post_month(demo_period / "raw", tmp_path / "a", FakeFortnox(faults={0: "refused"}))
    with Register.open(tmp_path / "a") as register:
        assert [r.status for r in register.runs()] == ["abandoned"]  # its only request was refused
    for fault in ("kill-before", "kill"):  # died before or after the request: Fortnox may hold it
        with pytest.raises(Killed):
            post_month(demo_period / "raw", tmp_path / fault, FakeFortnox(faults={0: fault}))
        with Register.open(tmp_path / fault) as register:
            assert [r.status for r in register.runs()] == ["pending"]
            assert [s.status for s in register.settled] == ["pending"]


def test_status_lists_what_the_register_and_fortnox_disagree_on(demo_period, tmp_path):
    books = FakeFortnox()
    post_month(demo_period / "raw", tmp_path, books)
    config = fortnox_config(tmp_path)
    report, differences = fortnox_status(config, books, month("2025-06"))
    assert differences == 0 and "13 payout(s) in the register" in report and "0 difference(s)." in report
    gone = books.vouchers.pop(0)
    books.links.pop()
    report, differences = fortnox_status(config, books, month("2025-06"))
    assert differences == 2
    assert f"voucher {gone.ref} is in the register but not in Fortnox as ours" in report
    assert "is not connected to voucher A13 (year 1)" in report
    assert str(VoucherRef("A", 13, 1)) == "A13 (year 1)"


def test_check_alone_names_what_to_fix_and_says_what_it_checked(tmp_path):
    config = fortnox_config(tmp_path)
    assert fortnox_check(config, FakeFortnox(), month("2025-06")).startswith(
        "Fortnox is ready: company 556677-8899, series A")
    with pytest.raises(Exception, match="account 3921 is missing"):
        fortnox_check(config, FakeFortnox(chart={1930: True}), today=date(2025, 7, 1))
    assert datetime.now(timezone.utc)  # the check reads no clock when a period is given
