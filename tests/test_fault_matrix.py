"""The whole export job against a misbehaving Amili (issue 7, part 3: the fault matrix).

For every fault the run either books exactly what a clean run books (same
per-account totals, same SIE bytes, every payout and line once) or fails
with one clear LedgerExportError and leaves no books and no register entry.

The sandbox serves 50 items per page, so the 487 lines of June 2025 take
10 pages and faults land in the middle of a list. Retries wait at most
``max_wait`` (0.02 s) per request; re-reading a list that changed waits
the client's fixed 0.5 s (RetryPolicy.base_delay, not configurable).
"""

from __future__ import annotations

import time
from datetime import date, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace

import pytest
from bson import ObjectId

from ledger_export import cli
from ledger_export.jobs import config as config_module
from ledger_export.amili.auth import StaticToken
from ledger_export.amili.fetch import PAYMENTS, PAYOUTS, SPECIFICATIONS
from ledger_export.core.errors import (InconsistentPagingError, LedgerExportError, ResponseFormatError,
                                  ServiceUnavailableError)
from ledger_export.jobs.export import ExportOptions, ReconciliationFailed, export
from ledger_export.core.resources import SAMPLES
from ledger_export.core.period import month
from ledger_export.jobs.register import Register
from ledger_export.sandbox import Faults, Sandbox
from ledger_export.outputs.self_invoices import FOLDER as SELF_INVOICES

JUNE = month("2025-06")
CREDITOR = "686e6ed854377058c2dd10bd"
PAGE = 50
FAST = {"read_timeout": 2.0, "max_retries": 10, "max_wait": 0.02}
BOOKS = ("ledger-2025-06.si", "ledger-2025-06.xlsx")


def _config(sb: Sandbox, out: Path, amili: dict):
    overrides = {"amili.base_url": sb.base_url, "output.folder": str(out)}
    overrides.update({f"amili.{k}": v for k, v in {**FAST, **amili}.items()})
    return config_module.load(SAMPLES / "ledger-export.toml", overrides=overrides)


def run(sb: Sandbox, out: Path, **amili):
    return export(_config(sb, out, amili), JUNE, ExportOptions(generated=date(2025, 7, 1)),
                  tokens=StaticToken(sb.api_key))


def june_in_db(sb: Sandbox) -> tuple[int, int]:
    """Payouts and lines of June as the sandbox's database holds them now, independent of the client."""
    june = {"$gte": datetime(2025, 6, 1), "$lt": datetime(2025, 7, 1)}
    ids = [p["_id"] for p in sb.db[PAYOUTS].find({"creditor": ObjectId(CREDITOR), "payout_date": june})]
    return len(ids), sb.db[SPECIFICATIONS].count_documents({"payout": {"$in": ids}})


def _findings(result) -> set[tuple]:
    # Self-invoice findings depend on which downloads a fault hit; they have their own test.
    return {(f.check, f.severity, f.payout_id, f.message) for f in result.ledger.findings
            if f.check != "self-invoice"}


@pytest.fixture(scope="module")
def clean(tmp_path_factory):
    """The books of a clean run, to compare every faulty run with."""
    out = tmp_path_factory.mktemp("clean")
    with Sandbox(page_limit=PAGE) as sb:
        result = run(sb, out)
        counts, served = june_in_db(sb), len(sb.requests)
        lists = sum(1 for r in sb.requests if not r.path.startswith("/media/"))
    assert counts == (13, 487) and not result.ledger.errors
    return SimpleNamespace(totals=result.ledger.account_totals(), findings=_findings(result),
                           sie=(out / "2025-06" / BOOKS[0]).read_bytes(), counts=counts, requests=served,
                           lists=lists)


@pytest.fixture
def faulty(sandbox_factory):
    def start(faults: Faults = Faults()) -> Sandbox:
        return sandbox_factory(faults=faults, page_limit=PAGE)
    return start


def assert_same_books(result, clean, sb: Sandbox, out: Path) -> None:
    assert result.ledger.account_totals() == clean.totals
    assert (out / "2025-06" / BOOKS[0]).read_bytes() == clean.sie
    assert _findings(result) == clean.findings
    # Never double-counted, never lost: each record once, as many as the database holds.
    payouts, lines = result.data.payouts, result.data.specifications
    assert len({p.id for p in payouts}) == len(payouts)
    assert len({s.id for s in lines}) == len(lines)
    assert (len(payouts), len(lines)) == june_in_db(sb) == clean.counts
    with Register.open(out, read_only=True) as register:
        assert len(register.runs()) == 1
        assert all(len(register.exports_of(p.id)) == 1 for p in payouts)


def assert_failed_cleanly(error: LedgerExportError, out: Path, *, names: str) -> None:
    message = str(error)
    assert message.splitlines() == [message] and "Traceback" not in message
    assert names in message, message
    folder = out / "2025-06"
    left = sorted(p.name for p in folder.iterdir()) if folder.exists() else []
    # Self-invoices downloaded before a late failure may stay (they are checked, whole PDFs);
    # the books, the manifest, the raw snapshot and any staging folder may not.
    assert set(left) <= {SELF_INVOICES}, left
    with Register.open(out, read_only=True) as register:
        assert register.runs() == ()


def after_requests(sb: Sandbox, count: int, action) -> None:
    """Run ``action()`` once, right after the ``count``-th API request has been handled."""
    def callback(n, method, path):
        if n == count:
            action()
    sb.on_request(callback)


def on_list(sb: Sandbox, resource: str, actions: dict) -> None:
    """``actions[k]()`` right after the k-th request for ``resource`` (pages of every reading)."""
    seen = [0]

    def callback(n, method, path):
        if path == f"/{resource}":
            seen[0] += 1
            action = actions.get(seen[0])
            if action:
                action()
    sb.on_request(callback)


# -- refusals: 429 and 5xx -------------------------------------------------------------

def test_a_429_storm_then_steady_rate_limiting_books_the_same(faulty, clean, tmp_path):
    sb = faulty(Faults(rate_limit_every=1, retry_after=0))
    # Five refusals in a row, then one request in three refused for the rest of the run.
    after_requests(sb, 5, lambda: sb.set_faults(Faults(rate_limit_every=3, retry_after=0)))
    result = run(sb, tmp_path)
    assert_same_books(result, clean, sb, tmp_path)
    statuses = [r.status for r in sb.requests]
    assert statuses[:5] == [429] * 5 and statuses.count(429) > 5


def test_retry_after_is_honoured_by_the_export(faulty, clean, tmp_path):
    sb = faulty(Faults(rate_limit_every=1, retry_after=1))
    arrived = []
    sb.on_request(lambda n, method, path: arrived.append(time.monotonic()))
    after_requests(sb, 1, lambda: sb.set_faults(Faults()))
    result = run(sb, tmp_path, max_wait=5)
    assert_same_books(result, clean, sb, tmp_path)
    assert sb.requests[0].status == 429
    assert arrived[1] - arrived[0] >= 0.95  # the one-second Retry-After, not the 0.2 s back-off budget


def test_retry_after_beyond_the_wait_budget_fails_at_once(faulty, tmp_path):
    sb = faulty(Faults(rate_limit_every=1, retry_after=30))
    with pytest.raises(ServiceUnavailableError) as failed:
        run(sb, tmp_path)
    assert_failed_cleanly(failed.value, tmp_path, names=f"{sb.base_url}/{PAYOUTS}")
    assert "30 s" in str(failed.value) and len(sb.requests) == 1


@pytest.mark.parametrize("burst, steady", [
    (Faults(server_error_every=1, server_error_status=503), Faults(server_error_every=4, server_error_status=502)),
    (Faults(server_error_every=1, server_error_status=500), Faults(server_error_every=3, server_error_status=504)),
], ids=["503 burst then 502s", "500 burst then 504s"])
def test_5xx_bursts_book_the_same(faulty, clean, tmp_path, burst, steady):
    sb = faulty(burst)
    after_requests(sb, 4, lambda: sb.set_faults(steady))
    result = run(sb, tmp_path)
    assert_same_books(result, clean, sb, tmp_path)
    assert {r.status for r in sb.requests} >= {burst.server_error_status, steady.server_error_status}


def test_an_outage_in_the_middle_of_the_lines_fails_cleanly(faulty, tmp_path):
    sb = faulty()
    after_requests(sb, 6, lambda: sb.set_faults(Faults(server_error_every=1)))
    with pytest.raises(ServiceUnavailableError) as failed:
        run(sb, tmp_path)
    assert_failed_cleanly(failed.value, tmp_path, names=f"{sb.base_url}/{SPECIFICATIONS}")
    assert "503" in str(failed.value)


def test_the_cli_reports_an_outage_in_one_line_with_exit_code_1(faulty, tmp_path, monkeypatch, capsys):
    sb = faulty(Faults(server_error_every=1))
    config = tmp_path / "ledger-export.toml"
    config.write_text(f'[company]\nname = "Exempelbolaget AB"\norgnr = "556677-8899"\n'
                      f'[amili]\nbase_url = "{sb.base_url}"\ncreditor = "{CREDITOR}"\nmax_retries = 2\nmax_wait = 0.02\n')
    monkeypatch.setenv("AMILI_API_KEY", sb.api_key)
    code = cli.main(["export", "-q", "-c", str(config), "--out", str(tmp_path / "out"), "--period", "2025-06"])
    err = capsys.readouterr().err
    assert code == 1 and err.count("\n") == 1 and "Traceback" not in err
    assert err.startswith("ledger-export: error: ") and f"{sb.base_url}/{PAYOUTS}" in err and "503" in err
    assert sb.api_key not in err
    assert not (tmp_path / "out" / "2025-06").exists()


# -- failures in transit ---------------------------------------------------------------

def test_read_time_outs_are_retried_to_the_same_books(faulty, clean, tmp_path):
    sb = faulty()

    def stall(n, method, path):
        if n % 10 == 0:
            time.sleep(0.7)  # the answer comes after the client stopped waiting
    sb.on_request(stall)
    result = run(sb, tmp_path, read_timeout=0.3, concurrency=1)
    assert_same_books(result, clean, sb, tmp_path)
    # Each stall's request was asked again.
    assert len(sb.requests) > clean.requests


def test_an_api_that_never_answers_in_time_fails_cleanly(faulty, tmp_path):
    sb = faulty(Faults(latency=0.5))
    with pytest.raises(ServiceUnavailableError) as failed:
        run(sb, tmp_path, read_timeout=0.1, max_retries=1)
    assert_failed_cleanly(failed.value, tmp_path, names=f"{sb.base_url}/{PAYOUTS}")
    assert "ReadTimeout" in str(failed.value) and "2 attempt(s)" in str(failed.value)


@pytest.mark.parametrize("faults", [Faults(drop_every=4), Faults(truncate_every=4)],
                         ids=["connection dropped before the answer", "connection dropped mid-body"])
def test_dropped_connections_book_the_same(faulty, clean, tmp_path, faults):
    sb = faulty(faults)
    result = run(sb, tmp_path)
    assert_same_books(result, clean, sb, tmp_path)
    assert len(sb.requests) > clean.requests
    if faults.drop_every:
        assert None in {r.status for r in sb.requests}  # served without any answer
    # The self-invoice downloads are hit too, and retried to whole PDFs.
    pdfs = list((tmp_path / "2025-06" / SELF_INVOICES).iterdir())
    assert len(pdfs) == 4 and all(p.read_bytes().startswith(b"%PDF-") for p in pdfs)


def test_non_json_list_answers_are_read_again_to_the_same_books(faulty, clean, tmp_path):
    sb = faulty(Faults(garbage_every=3))
    # Garbage for the JSON lists; a damaged PDF download is the next test. The PDFs
    # download in the round of the lines and payments (fetch_period), so the garbage
    # stops at the first PDF served rather than after the payments: a PDF that started
    # before that may get garbage too, and is then downloaded again, cleanly.
    def stop_at_the_first_pdf(n, method, path):
        if path.startswith("/media/"):
            sb.set_faults(Faults())
    sb.on_request(stop_at_the_first_pdf)
    result = run(sb, tmp_path)
    assert_same_books(result, clean, sb, tmp_path)
    assert all(d.in_place for d in result.documents)
    # Lists answered with garbage were read again.
    assert sum(1 for r in sb.requests if not r.path.startswith("/media/")) > clean.lists


def test_a_self_invoice_answered_with_an_html_page_is_never_kept_as_the_pdf(faulty, clean, tmp_path):
    sb = faulty()
    on_list(sb, PAYMENTS, {1: lambda: sb.set_faults(Faults(garbage_every=2))})
    result = run(sb, tmp_path)
    assert result.ledger.account_totals() == clean.totals
    assert (tmp_path / "2025-06" / BOOKS[0]).read_bytes() == clean.sie
    for pdf in (tmp_path / "2025-06" / SELF_INVOICES).iterdir():
        assert pdf.read_bytes().startswith(b"%PDF-")
    # A download that was not the PDF is either fetched again or reported for its payout, never silent.
    for record in result.documents:
        if not record.in_place:
            assert any(f.check == "self-invoice" and f.payout_id == record.payout_id
                       for f in result.ledger.warnings)
    assert all(d.in_place for d in result.documents) or result.ledger.warnings


def test_answers_that_never_parse_fail_cleanly(faulty, tmp_path):
    sb = faulty(Faults(garbage_every=1))
    with pytest.raises(ResponseFormatError) as failed:
        run(sb, tmp_path, max_retries=2)
    assert_failed_cleanly(failed.value, tmp_path, names=f"{sb.base_url}/{PAYOUTS}")
    assert "not JSON" in str(failed.value)


def test_every_fault_at_once_books_the_same(faulty, clean, tmp_path):
    sb = faulty(Faults(rate_limit_every=7, retry_after=0, server_error_every=5, drop_every=11,
                       truncate_every=13))
    result = run(sb, tmp_path)
    assert_same_books(result, clean, sb, tmp_path)
    assert None in {r.status for r in sb.requests} and len(sb.requests) > clean.requests


# -- lists that change while they are read ---------------------------------------------

def readings(sb: Sandbox, resource: str) -> int:
    """How often the client started reading ``resource`` from page 1."""
    return sum(1 for r in sb.requests if r.path == f"/{resource}" and r.query_string.startswith("page=1&"))


def _lines(sb: Sandbox) -> list[dict]:
    june_ids = [p["_id"] for p in sb.db[PAYOUTS].find(
        {"payout_date": {"$gte": datetime(2025, 6, 1), "$lt": datetime(2025, 7, 1)}})]
    return list(sb.db[SPECIFICATIONS].find({"payout": {"$in": june_ids}}).sort([("_created", 1), ("_id", 1)]))


def test_an_item_moving_between_pages_is_read_once(faulty, clean, tmp_path):
    sb = faulty()
    last = _lines(sb)[-1]
    # After page 1, the last line is re-dated to the front: page 2 repeats page 1's last
    # line and the moved line is missed, unless the list is read again.
    on_list(sb, SPECIFICATIONS, {1: lambda: sb.db[SPECIFICATIONS].update_one(
        {"_id": last["_id"]}, {"$set": {"_created": datetime(2025, 4, 1)}})})
    result = run(sb, tmp_path, concurrency=1)
    assert_same_books(result, clean, sb, tmp_path)
    assert str(last["_id"]) in {s.id for s in result.data.specifications}
    assert readings(sb, SPECIFICATIONS) == 2


def test_an_item_duplicated_across_pages_is_counted_once(faulty, clean, tmp_path):
    sb = faulty()
    first = _lines(sb)[0]
    early = dict(first, _id=ObjectId(), _created=datetime(2025, 4, 1))
    # Inserted in front after page 1 and gone again after page 3: pages 2 and 3 each repeat
    # the line before them.
    on_list(sb, SPECIFICATIONS, {1: lambda: sb.db[SPECIFICATIONS].insert_one(dict(early)),
                                 3: lambda: sb.db[SPECIFICATIONS].delete_one({"_id": early["_id"]})})
    result = run(sb, tmp_path, concurrency=1)
    assert_same_books(result, clean, sb, tmp_path)
    assert str(early["_id"]) not in {s.id for s in result.data.specifications}
    assert readings(sb, SPECIFICATIONS) == 2


def test_a_page_that_comes_back_empty_early_is_read_again(faulty, clean, tmp_path):
    sb = faulty()
    hidden = _lines(sb)[PAGE:]
    collection = sb.db[SPECIFICATIONS]
    # After page 1 everything past it disappears for one page, then comes back.
    on_list(sb, SPECIFICATIONS, {
        1: lambda: collection.delete_many({"_id": {"$in": [h["_id"] for h in hidden]}}),
        2: lambda: collection.insert_many([dict(h) for h in hidden]),
    })
    result = run(sb, tmp_path, concurrency=1)
    assert_same_books(result, clean, sb, tmp_path)
    page_2 = [r for r in sb.requests if r.path == f"/{SPECIFICATIONS}"][1]
    assert page_2.query_string.startswith("page=2&")
    assert readings(sb, SPECIFICATIONS) == 2


def test_lines_deleted_for_good_mid_read_fail_the_reconciliation(faulty, tmp_path):
    sb = faulty()
    victim = _lines(sb)[-1]
    on_list(sb, SPECIFICATIONS, {1: lambda: sb.db[SPECIFICATIONS].delete_one({"_id": victim["_id"]})})
    with pytest.raises(ReconciliationFailed) as failed:
        run(sb, tmp_path, concurrency=1)
    assert readings(sb, SPECIFICATIONS) == 2
    # The payout that lost a line is named; nothing is booked or registered.
    assert_failed_cleanly(failed.value, tmp_path, names=str(victim["payout"]))


def test_a_list_that_never_settles_fails_cleanly(faulty, tmp_path):
    sb = faulty()
    template = _lines(sb)[0]
    day = [1]

    def grow():
        day[0] += 1
        sb.db[SPECIFICATIONS].insert_one(dict(template, _id=ObjectId(),
                                              _created=datetime(2025, 4, 1) - timedelta(days=day[0])))
    on_list(sb, SPECIFICATIONS, {k: grow for k in range(1, 200)})
    with pytest.raises(InconsistentPagingError) as failed:
        run(sb, tmp_path, concurrency=1)
    assert_failed_cleanly(failed.value, tmp_path, names=SPECIFICATIONS)

