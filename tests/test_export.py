"""The export job end to end against the sandbox: the SIE file, raw snapshot, re-runs."""

from datetime import date, datetime, timezone
from decimal import Decimal

import pytest
import simplejson

from ledger_export.jobs.demo import run_demo
from ledger_export.jobs.export import ExportOptions, ReconciliationFailed, export
from ledger_export.core.resources import SAMPLES
from ledger_export.sie.reader import read_sie
from support.export_run import run, sample_config


def test_sample_period_sie_file_is_stable(sandbox, tmp_path, snapshot):
    result = run(sandbox, tmp_path)
    si = tmp_path / "2025-06" / "ledger-2025-06.si"
    assert si in result.files
    assert si.read_bytes().decode("cp437") == snapshot


def test_sie_file_reads_back_to_the_same_vouchers(sandbox, tmp_path):
    result = run(sandbox, tmp_path)
    sie = read_sie((tmp_path / "2025-06" / "ledger-2025-06.si").read_bytes(), "ledger-2025-06.si")
    assert len(sie.vouchers) == len(result.ledger.vouchers) == 13
    for ours, theirs in zip(result.ledger.vouchers, sie.vouchers):
        assert theirs.date == ours.date
        assert [(int(t.account), t.amount) for t in theirs.transactions] == [
            (line.account, line.amount) for line in ours.lines]
    assert sie.orgnr == "556677-8899"
    assert sie.fiscal_years[0] == (date(2025, 1, 1), date(2025, 12, 31))
    assert {int(a) for a in sie.accounts} == set(result.ledger.account_totals())


def test_rerun_from_raw_snapshot_gives_identical_bytes_without_network(sandbox, tmp_path):
    run(sandbox, tmp_path / "online")
    raw = tmp_path / "online" / "2025-06" / "raw"
    offline_config = sample_config("http://127.0.0.1:9", tmp_path / "offline")  # nothing listens there
    export(offline_config, None, ExportOptions(generated=date(2025, 7, 1), from_raw=raw))
    name = "2025-06/ledger-2025-06.si"
    assert (tmp_path / "offline" / name).read_bytes() == (tmp_path / "online" / name).read_bytes()


def test_same_input_same_bytes_with_default_generation_date(sandbox, tmp_path):
    run(sandbox, tmp_path / "a", ExportOptions())
    run(sandbox, tmp_path / "b", ExportOptions())
    name = "2025-06/ledger-2025-06.si"
    first = (tmp_path / "a" / name).read_bytes()
    assert first == (tmp_path / "b" / name).read_bytes()
    assert b"#GEN 20250627" in first  # the newest record fetched, not the wall clock


def _sample(name):
    return simplejson.loads((SAMPLES / "amili" / name).read_text(encoding="utf-8"), use_decimal=True)


def test_demo_snapshot_holds_exactly_the_june_records(tmp_path):
    run_demo(tmp_path)
    raw = tmp_path / "2025-06" / "raw"
    got = {name: {i["_id"] for i in simplejson.loads((raw / name).read_text())} for name in
           ("finance--payouts.json", "finance--payout-specifications.json", "creditor--payments.json")}

    payouts = [p for p in _sample("finance--payouts.json") if p.get("payout_date")
               and ", " in p["payout_date"] and " Jun 2025 " in p["payout_date"]]
    june_ids = {p["_id"] for p in payouts}
    lines = [s for s in _sample("finance--payout-specifications.json") if s.get("payout") in june_ids]
    payments = [c for c in _sample("creditor--payments.json") if " Jun 2025 " in (c.get("booking_date") or "")]
    assert got["finance--payouts.json"] == june_ids and len(june_ids) == 13
    assert got["finance--payout-specifications.json"] == {s["_id"] for s in lines} and len(lines) == 487
    assert got["creditor--payments.json"] == {c["_id"] for c in payments} and len(payments) == 5
    unlinked = [s["_id"] for s in _sample("finance--payout-specifications.json") if not s.get("payout")]
    assert unlinked and not set(unlinked) & got["finance--payout-specifications.json"]
    assert (tmp_path / "2025-06" / "ledger-2025-06.si").is_file()


def test_a_payout_that_does_not_reconcile_writes_nothing(sandbox, tmp_path):
    payouts = sandbox.db["finance--payouts"]
    june = {"$gte": datetime(2025, 6, 1, tzinfo=timezone.utc), "$lt": datetime(2025, 7, 1, tzinfo=timezone.utc)}
    target = payouts.find_one({"finance_category": "capital", "payout_date": june})
    payouts.update_one({"_id": target["_id"]}, {"$set": {"amount": float(Decimal(str(target["amount"])) + 1),
                                                         "total_amount": float(Decimal(str(target["total_amount"])) + 1)}})
    with pytest.raises(ReconciliationFailed) as failed:
        run(sandbox, tmp_path)
    assert failed.value.exit_code == 3
    assert str(target["_id"]) in str(failed.value)
    assert not (tmp_path / "2025-06" / "ledger-2025-06.si").exists()
    assert not list(tmp_path.glob(".staging-*"))  # the raw snapshot staged after the fetch went too


def test_dry_run_writes_nothing(sandbox, tmp_path):
    result = run(sandbox, tmp_path, ExportOptions(dry_run=True, generated=date(2025, 7, 1)))
    assert len(result.ledger.vouchers) == 13
    assert not (tmp_path / "2025-06").exists()
    assert not any(r.path.startswith("/media/") for r in sandbox.requests)  # no self-invoice downloaded
    assert "nothing was written" in result.describe()
    assert not list(tmp_path.glob(".*"))  # not even a staged raw snapshot


def test_demo_can_be_run_again_and_writes_the_same_books_in_files_of_their_own(tmp_path):
    run_demo(tmp_path)
    first = (tmp_path / "2025-06" / "ledger-2025-06.si").read_bytes()
    result = run_demo(tmp_path)
    assert (tmp_path / "2025-06" / "ledger-2025-06.si").read_bytes() == first
    assert (tmp_path / "2025-06" / "ledger-2025-06-run2.si").read_bytes() == first
    assert "ledger-2025-06-run2.xlsx" in result.describe()


def test_the_raw_snapshot_staged_after_the_fetch_lands_whole_and_as_the_manifest_says(sandbox, tmp_path):
    import hashlib

    run(sandbox, tmp_path)
    manifest = simplejson.loads((tmp_path / "2025-06" / "manifest.json").read_text())
    listed = {e["name"]: e for e in manifest["outputs"] if e["name"].startswith("raw/")}
    assert sorted(listed) == ["raw/creditor--payments.json", "raw/finance--payout-specifications.json",
                              "raw/finance--payouts.json", "raw/snapshot.json"]
    for name, entry in listed.items():
        data = (tmp_path / "2025-06" / name).read_bytes()
        assert (entry["size"], entry["sha256"]) == (len(data), hashlib.sha256(data).hexdigest())
    assert not list(tmp_path.glob(".staging-*"))
