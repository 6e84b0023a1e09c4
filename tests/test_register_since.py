"""--since-last: the query, the mark, and runs over the sandbox that lose nothing and book nothing twice."""

from __future__ import annotations

import hashlib
import random
from datetime import date, datetime, timedelta, timezone

import pytest
from bson import ObjectId

from ledger_export.amili.auth import StaticToken
from ledger_export.amili.client import AmiliClient
from ledger_export.amili.fetch import PAYOUTS, SPECIFICATIONS, fetch_period
from ledger_export.amili.models import Payout
from ledger_export.jobs.incremental import DEFAULT_OVERLAP, Seen, fetch_seen, next_mark, since_moment, since_where
from ledger_export.core.period import month
from ledger_export.jobs.register import Register
from ledger_export.jobs.register_check import Run

CREDITOR = "686e6ed854377058c2dd10bd"
JUNE = month("2025-06")
PENDING = "68538b4c4dc8a245ced1d2b4"  # created 19 Jun 04:00:12, paid 19 Jun in the sample


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=timezone.utc)


def test_since_where_asks_from_the_mark_minus_the_overlap():
    assert DEFAULT_OVERLAP == timedelta(days=1)
    assert since_where(utc(2025, 6, 13, 8, 0, 0)) == {"_created": {"$gte": "Thu, 12 Jun 2025 08:00:00 GMT"}}
    assert since_where(utc(2025, 7, 1, 0, 30), timedelta(hours=1)) == {
        "_created": {"$gte": "Mon, 30 Jun 2025 23:30:00 GMT"}}
    assert since_moment(None) is None
    assert since_moment(utc(2025, 6, 13), timedelta(0)) == utc(2025, 6, 13)
    with pytest.raises(ValueError):
        since_moment(utc(2025, 6, 13), timedelta(hours=-1))


def test_the_mark_moves_to_the_newest_payout_seen_when_all_are_exported():
    seen = [Seen("a", utc(2025, 6, 2), date(2025, 6, 2)), Seen("b", utc(2025, 6, 9), date(2025, 6, 9))]
    assert next_mark(seen, {"a", "b"}, previous=utc(2025, 6, 1)) == utc(2025, 6, 9)


def test_the_mark_stops_at_the_oldest_payout_not_exported_yet():
    seen = [Seen("a", utc(2025, 6, 2), date(2025, 6, 2)), Seen("b", utc(2025, 6, 5), None),
            Seen("c", utc(2025, 6, 9), date(2025, 6, 9)), Seen("d", utc(2025, 6, 7), date(2025, 7, 1))]
    assert next_mark(seen, {"a", "c"}, previous=utc(2025, 6, 1)) == utc(2025, 6, 5)
    # Even behind the previous mark: a late-visible payout inside the overlap pulls it back.
    assert next_mark(seen, {"a", "c", "d"}, previous=utc(2025, 6, 8)) == utc(2025, 6, 5)


def test_nothing_seen_keeps_the_mark():
    assert next_mark([], set(), previous=utc(2025, 6, 1)) == utc(2025, 6, 1)
    assert next_mark([], set(), previous=None) is None


def client(sb) -> AmiliClient:
    return AmiliClient(sb.base_url, StaticToken(sb.api_key), sleep=lambda s: None, rng=random.Random(3))


def test_fetch_period_created_since_asks_only_for_newer_payouts_and_their_lines(sandbox):
    since = utc(2025, 6, 19)
    with client(sandbox) as c:
        raw = fetch_period(c, CREDITOR, JUNE, created_since=since).raw
    expected = list(sandbox.db[PAYOUTS].find({"creditor": ObjectId(CREDITOR), "_created": {"$gte": datetime(2025, 6, 19)},
                                              "payout_date": {"$gte": datetime(2025, 6, 1), "$lt": datetime(2025, 7, 1)}}))
    assert sorted(p["_id"] for p in raw.payouts) == sorted(str(p["_id"]) for p in expected) and len(expected) == 6
    lines = sandbox.db[SPECIFICATIONS].count_documents({"payout": {"$in": [p["_id"] for p in expected]}})
    assert len(raw.specifications) == lines > 0
    first = [r for r in sandbox.requests if r.path.endswith(PAYOUTS)][0]
    assert "_created" in first.query_string and "Thu%2C+19+Jun+2025+00%3A00%3A00+GMT" in first.query_string


def test_fetch_seen_lists_what_could_still_land_in_the_period(sandbox):
    sandbox.db[PAYOUTS].update_one({"_id": ObjectId(PENDING)}, {"$set": {"payout_date": None}})
    with client(sandbox) as c:
        everything = fetch_seen(c, CREDITOR, JUNE, since=None)
        recent = fetch_seen(c, CREDITOR, JUNE, since=utc(2025, 6, 19))
    by_id = {s.id: s for s in everything}
    assert by_id[PENDING] == Seen(PENDING, utc(2025, 6, 19, 4, 0, 12), None)
    assert {s.payout_date.month for s in everything if s.payout_date} == {6, 7}  # May's payouts do not hold June
    assert len(everything) == 17
    assert sorted(s.id for s in recent) == sorted(s.id for s in everything if s.created >= utc(2025, 6, 19))


class Crash(Exception):
    pass


def run_since_last(sb, root, *, at: datetime, crash: bool = False) -> tuple[str, ...]:
    """One ``export --period 2025-06 --since-last`` as export() will do it; returns the ids it booked."""
    with Register.open(root) as register:
        since = since_moment(register.last_mark(JUNE.label))
        with client(sb) as c:
            raw = fetch_period(c, CREDITOR, JUNE, created_since=since).raw
            seen = fetch_seen(c, CREDITOR, JUNE, since)
        chosen = register.check([Payout.from_api(p) for p in raw.payouts]).to_export("only-new")
        run = Run(JUNE.label, "only-new", at)
        if not chosen:
            register.record(run, (), None, None, seen=seen)
            return ()
        name = f"{JUNE.label}/ledger-{JUNE.label}-{register.next_run_id()}.si"
        data = "\n".join(p.id for p in chosen).encode()
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_bytes(data)
        if crash:
            raise Crash("died after the SIE file, before the workbook")
        register.record(run, chosen, name, hashlib.sha256(data).hexdigest(), seen=seen)
        return tuple(p.id for p in chosen)


def test_since_last_loses_no_payout_that_was_pending_and_books_none_twice(sandbox, tmp_path):
    june_ids = {str(p["_id"]) for p in sandbox.db[PAYOUTS].find(
        {"payout_date": {"$gte": datetime(2025, 6, 1), "$lt": datetime(2025, 7, 1)}})}
    # At the first run one June payout is still in Amili's scheduling phase: no payout_date yet.
    sandbox.db[PAYOUTS].update_one({"_id": ObjectId(PENDING)}, {"$set": {"payout_date": None}})
    first = run_since_last(sandbox, tmp_path, at=utc(2025, 6, 27))
    assert PENDING not in first and len(first) == 12
    with Register.open(tmp_path, read_only=True) as register:
        mark = register.last_mark("2025-06")
    # Newer payouts were booked, yet the mark waits at the pending one (a mark at the newest
    # booked payout, 26 Jun, would put it outside every later query).
    assert mark == utc(2025, 6, 19, 4, 0, 12) < max(p["_created"] for p in sandbox.db[PAYOUTS].find(
        {"_id": {"$in": [ObjectId(i) for i in first]}})).replace(tzinfo=timezone.utc)

    sandbox.db[PAYOUTS].update_one({"_id": ObjectId(PENDING)}, {"$set": {"payout_date": datetime(2025, 6, 30)}})
    with pytest.raises(Crash):
        run_since_last(sandbox, tmp_path, at=utc(2025, 7, 1), crash=True)
    with Register.open(tmp_path, read_only=True) as register:
        assert register.last_mark("2025-06") == mark and len(register.runs()) == 1  # the crash moved nothing

    third = run_since_last(sandbox, tmp_path, at=utc(2025, 7, 2))
    assert third == (PENDING,)
    assert run_since_last(sandbox, tmp_path, at=utc(2025, 7, 3)) == ()
    with Register.open(tmp_path, read_only=True) as register:
        assert all(len(register.exports_of(i)) == 1 for i in june_ids)
        assert [r.status for r in register.runs()] == ["exported", "exported", "nothing new"]
        # Everything June could hold is booked; July's unbooked payouts now hold the mark at their first.
        assert register.last_mark("2025-06") == utc(2025, 7, 1, 4, 0, 16)


def test_since_last_asks_for_less_once_a_mark_is_set(sandbox, tmp_path):
    run_since_last(sandbox, tmp_path, at=utc(2025, 7, 2))
    before = len(sandbox.requests)
    assert run_since_last(sandbox, tmp_path, at=utc(2025, 7, 3)) == ()
    wheres = [r.query_string for r in sandbox.requests[before:] if r.path.endswith(PAYOUTS)]
    # From the mark (1 Jul 04:00:16, the first unbooked July payout) minus a day.
    assert all("Mon%2C+30+Jun+2025+04%3A00%3A16+GMT" in q for q in wheres) and len(wheres) == 2
