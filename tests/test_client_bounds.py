"""The bounded client: whatever Amili sends, a run costs bounded pages, time and memory.

Each fault is served over real HTTP by the bundled sandbox (sandbox/faults.py):
a ``_meta.total`` that lies, a body trickled a byte at a time, a gzip bomb,
JSON nested past Python's recursion limit. The worst of them are run as the
bookkeeper runs them, as a ``ledger-export`` process, with its peak memory
measured.
"""

from __future__ import annotations

import math
import os
import subprocess
import sys
import time
from datetime import date

import pytest
import simplejson

from ledger_export import cli
from ledger_export.jobs import config as config_module
from ledger_export.amili.answers import decode_json, eve_error
from ledger_export.amili.auth import StaticToken, token_provider
from ledger_export.amili.bounds import LimitExceededError
from ledger_export.amili.client import AmiliClient
from ledger_export.amili.lists import ListQuery
from ledger_export.core.errors import (InconsistentPagingError, OutcomeUnknownError, ResponseFormatError,
                                  ServiceUnavailableError)
from ledger_export.jobs.export import ExportOptions, export
from ledger_export.core.resources import SAMPLES
from ledger_export.core.period import month
from ledger_export.sandbox import Faults

PAYOUTS = "finance--payouts"
SPECIFICATIONS = "finance--payout-specifications"
PAYMENTS = "creditor--payments"
PAYMENT = {"creditor": "686e6ed854377058c2dd10bd", "invoice_number": "INV-1999-0001", "currency": "SEK",
           "amount": 50.0, "bank_transaction_date": "Mon, 16 Jun 2025 10:00:00 GMT", "origin": "creditor_system"}


def client(sb, **amili) -> AmiliClient:
    """A client configured as the bookkeeper would: the settings file's [amili], then the defaults."""
    settings = config_module.from_dict({"amili": {"base_url": sb.base_url, **amili}}).amili
    return AmiliClient.from_settings(settings, StaticToken(sb.api_key), sleep=lambda seconds: None)


def served(sb, resource: str) -> int:
    return sum(1 for r in sb.requests if r.path == f"/{resource}")


def one_line(error: BaseException) -> str:
    message = str(error)
    assert message.splitlines() == [message]
    return message


def run_cli(args: list[str], env: dict[str, str], timeout: float = 60) -> tuple[int | None, str, str, float]:
    """``ledger-export args`` as a process: exit code (None: killed at ``timeout``), stdout, stderr, peak MB.

    The peak resident memory is the process's own (wait4), not the largest of the test run's children.
    """
    with open(os.devnull, "rb") as stdin, subprocess.Popen(
            [sys.executable, "-m", "ledger_export", *args], stdin=stdin, stdout=subprocess.PIPE,
            stderr=subprocess.PIPE, env={**os.environ, **env}) as proc:
        # Output is one line or so: the pipes cannot fill up before the process ends.
        ends = time.monotonic() + timeout
        while True:
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            if time.monotonic() > ends:
                proc.kill()
                pid, status, usage = os.wait4(proc.pid, 0)
                status = None
                break
            time.sleep(0.05)
        proc.returncode = 0  # reaped here; keeps Popen from waiting for it again
        code = None if status is None else os.waitstatus_to_exitcode(status)
        return code, proc.stdout.read().decode(), proc.stderr.read().decode(), usage.ru_maxrss / 1024


def fetch_args(sb, tmp_path) -> list[str]:
    return ["fetch", "--period", "2025-06", "--config", str(SAMPLES / "ledger-export.toml"),
            "--base-url", sb.base_url, "--out", str(tmp_path / "out")]


# -- a _meta.total that lies ----------------------------------------------------------------

def test_a_total_of_a_billion_is_refused_by_max_pages_after_one_request(sandbox_factory):
    sb = sandbox_factory(faults=Faults(false_total=10**9))
    with client(sb) as c, pytest.raises(LimitExceededError) as refused:
        c.list_items(SPECIFICATIONS, {})
    message = one_line(refused.value)
    assert SPECIFICATIONS in message and "[amili] max_pages (10,000)" in message and "1,000,000,000" in message
    assert sb.api_requests == 1


def test_a_lying_total_within_max_pages_costs_a_few_pages_past_the_end_per_reading_and_is_refused(sandbox_factory):
    sb = sandbox_factory(faults=Faults(false_total=500_000))  # 5,000 pages at 100, where 603 items are
    real_pages = math.ceil(sb.db[SPECIFICATIONS].count_documents({}) / 100)
    with client(sb, concurrency=4) as c, pytest.raises(InconsistentPagingError) as refused:
        c.list_items(SPECIFICATIONS, {})
    message = one_line(refused.value)
    assert SPECIFICATIONS in message and "_meta.total" in message and "3 readings" in message
    assert f"page {real_pages} held" in message
    # Each reading stops at the short page; at most one page per worker was asked beyond it.
    assert 3 * real_pages <= served(sb, SPECIFICATIONS) <= 3 * (real_pages + 4)


def test_a_list_whose_total_says_more_pages_than_max_pages_is_refused_at_page_1(sandbox_factory):
    sb = sandbox_factory(page_limit=50)
    with client(sb, max_pages=3) as c, pytest.raises(LimitExceededError) as refused:
        c.list_items(SPECIFICATIONS, {})
    message = one_line(refused.value)
    assert SPECIFICATIONS in message and "[amili] max_pages (3)" in message and "pages of 50" in message
    assert sb.api_requests == 1


def test_a_count_predicted_too_high_asks_for_at_most_one_page_per_worker_too_many(sandbox):
    with client(sandbox, concurrency=3) as c:
        (lines,), _ = c.list_many([ListQuery(SPECIFICATIONS, {}, expected=10**9)])
    pages = math.ceil(len(lines) / 100)
    assert len(lines) == sandbox.db[SPECIFICATIONS].count_documents({})
    assert pages <= served(sandbox, SPECIFICATIONS) <= pages + 3


def test_the_cli_refuses_a_lying_total_at_once_in_bounded_memory(sandbox_factory, tmp_path):
    # Before the bound, this total planned ten million pages and grew past 7 GB.
    sb = sandbox_factory(faults=Faults(false_total=10**9))
    code, out, err, peak_mb = run_cli(fetch_args(sb, tmp_path), {"AMILI_API_KEY": sb.api_key}, timeout=30)
    assert code == 1, err[-2000:]
    assert err.count("\n") == 1 and err.startswith("ledger-export: error: ") and "Traceback" not in err
    assert PAYOUTS in err and "[amili] max_pages" in err
    assert peak_mb < 300, f"peak {peak_mb:.0f} MB"


# -- a body trickled a byte at a time -------------------------------------------------------

def test_a_get_trickled_past_request_deadline_is_retried_within_the_budget_then_fails(sandbox_factory):
    sb = sandbox_factory(faults=Faults(trickle_every=1, trickle_delay=0.05))
    started = time.monotonic()
    with client(sb, request_deadline=0.5, max_retries=2) as c, pytest.raises(ServiceUnavailableError) as failed:
        c.get_json(PAYOUTS)
    took = time.monotonic() - started
    message = one_line(failed.value)
    assert f"{sb.base_url}/{PAYOUTS}" in message and "[amili] request_deadline (0.5 s)" in message
    assert "3 attempt(s)" in message and sb.api_requests == 3
    assert took < 5  # three attempts of half a second; the trickle would take many minutes


def test_a_post_trickled_past_request_deadline_is_outcome_unknown_and_never_resent(sandbox_factory):
    sb = sandbox_factory(faults=Faults(trickle_every=1, trickle_delay=0.05))
    with client(sb, request_deadline=0.5) as c, pytest.raises(OutcomeUnknownError) as unknown:
        c.post_json(PAYMENTS, PAYMENT)
    message = one_line(unknown.value)
    assert "[amili] request_deadline" in message and "check before sending it again" in message
    assert [r.method for r in sb.requests] == ["POST"]
    assert sb.db[PAYMENTS].count_documents({}) == 8  # Amili stored it; only the answer crawled


def test_trickled_answers_are_read_again_to_the_same_books(sandbox_factory, tmp_path):
    books = {}
    for name, faults in (("clean", Faults()), ("trickled", Faults(trickle_every=4, trickle_delay=0.05))):
        sb = sandbox_factory(page_limit=50, faults=faults)
        # A trickled answer (one byte per 50 ms) never finishes inside the deadline; a clean page
        # must, even on a loaded 2-core CI machine, or the clean run's retries blur the count.
        overrides = {"amili.base_url": sb.base_url, "output.folder": str(tmp_path / name),
                     "amili.request_deadline": 1.5, "amili.max_retries": 10, "amili.max_wait": 0.02}
        config = config_module.load(SAMPLES / "ledger-export.toml", overrides=overrides)
        result = export(config, month("2025-06"), ExportOptions(generated=date(2025, 7, 1)),
                        tokens=StaticToken(sb.api_key))
        books[name] = ((tmp_path / name / "2025-06" / "ledger-2025-06.si").read_bytes(),
                       len(result.data.specifications), len(sb.requests))
    assert books["trickled"][:2] == books["clean"][:2] and books["clean"][1] == 487
    assert books["trickled"][2] > books["clean"][2]  # the trickled requests were asked again


def test_no_request_starts_after_run_deadline(sandbox_factory):
    sb = sandbox_factory(page_limit=50, faults=Faults(latency=0.2))
    started = time.monotonic()
    with client(sb, run_deadline=0.5, concurrency=1) as c, pytest.raises(LimitExceededError) as stopped:
        c.list_items(SPECIFICATIONS, {})
    message = one_line(stopped.value)
    assert "[amili] run_deadline (0.5 s)" in message and SPECIFICATIONS in message
    assert 2 <= sb.api_requests <= 4 and time.monotonic() - started < 2


# -- a gzip bomb ---------------------------------------------------------------------------

def test_a_gzip_bomb_is_refused_at_max_response_mb_and_not_read_again(sandbox_factory):
    sb = sandbox_factory(faults=Faults(bomb_every=1, bomb_mb=1024))  # 1 MB on the wire, 1 GB inflated
    started = time.monotonic()
    with client(sb) as c, pytest.raises(LimitExceededError) as refused:
        c.get_json(PAYOUTS)
    message = one_line(refused.value)
    assert f"{sb.base_url}/{PAYOUTS}" in message and "[amili] max_response_mb (100 MB)" in message
    assert "decompressed" in message and sb.api_requests == 1
    assert time.monotonic() - started < 10


def test_a_self_invoice_download_is_bounded_too(sandbox_factory):
    sb = sandbox_factory(faults=Faults(bomb_every=1, bomb_mb=50))
    document = sb.db[PAYOUTS].find_one({"document": {"$ne": None}})["document"]
    url = f"{sb.base_url}/media/{document['file']}"
    with client(sb, max_response_mb=2) as c:
        with pytest.raises(LimitExceededError, match=r"max_response_mb \(2 MB\)") as inflated:
            c.download(url)
        assert url in str(inflated.value)
        sb.set_faults(Faults())
        assert c.download(url).startswith(b"%PDF-")  # a real one fits
    # An answer announced larger than the bound is not read at all.
    sb.set_faults(Faults(bomb_every=1, bomb_mb=1024))
    with client(sb, max_response_mb=0.5) as c, pytest.raises(LimitExceededError, match="Content-Length"):
        c.download(url)


def test_the_api_code_login_answer_is_bounded_too(sandbox, monkeypatch):
    monkeypatch.setattr(sandbox.tokens, "issue", lambda: ("x" * 3 * 1024 * 1024, time.time() + 3600))
    settings = config_module.from_dict({"amili": {
        "base_url": sandbox.base_url, "max_response_mb": 2,
        "private_key_file": str(SAMPLES / "keys" / "sandbox-creditor-es512.pem")}}).amili
    provider = token_provider(settings, environ={"AMILI_API_CODE": sandbox.api_code})
    with pytest.raises(LimitExceededError) as refused:
        provider.token()
    message = one_line(refused.value)
    assert "/authenticates/api-code" in message and "[amili] max_response_mb (2 MB)" in message


def test_the_cli_refuses_a_gzip_bomb_in_bounded_memory(sandbox_factory, tmp_path):
    sb = sandbox_factory(faults=Faults(bomb_every=1, bomb_mb=1024))
    code, out, err, peak_mb = run_cli(fetch_args(sb, tmp_path), {"AMILI_API_KEY": sb.api_key}, timeout=60)
    assert code == 1, err[-2000:]
    assert err.count("\n") == 1 and "Traceback" not in err and "[amili] max_response_mb" in err
    assert peak_mb < 400, f"peak {peak_mb:.0f} MB for an answer that inflates to 1024 MB"


# -- JSON nested past the recursion limit ---------------------------------------------------

def test_json_nested_too_deep_is_a_one_line_format_error_not_read_again(sandbox_factory):
    sb = sandbox_factory(faults=Faults(nested_every=1))
    with client(sb) as c, pytest.raises(ResponseFormatError) as refused:
        c.get_json(PAYOUTS)
    message = one_line(refused.value)
    assert f"{sb.base_url}/{PAYOUTS}" in message and "nested too deeply" in message
    assert sb.api_requests == 1


def test_an_error_body_nested_too_deep_still_gives_the_status():
    assert eve_error(b"[" * 100_000 + b"]" * 100_000) == ("", None)
    deep = b'{"_error": {"message": ' + b'{"a": ' * 500 + b'"x"' + b"}" * 500 + b'}, "_issues": ' + \
        b"[" * 500 + b"1" + b"]" * 500 + b"}"
    message, issues = eve_error(deep)
    assert message.startswith("a.a.") and len(message) < 200


def test_whatever_decodes_can_still_be_written_to_the_raw_snapshot_from_further_down_the_stack():
    def written_from_below(frames: int, value) -> str:
        return written_from_below(frames - 1, value) if frames else simplejson.dumps(value)

    decoded = 0
    for depth in range(700, 1001, 5):
        try:
            value = decode_json(b"[" * depth + b"]" * depth)
        except ValueError as exc:
            assert "nested too deeply" in str(exc)
            continue
        decoded += 1
        written_from_below(60, value)  # no RecursionError: decoding left room for it
    assert decoded  # Eve's answers, a few levels deep, are far from the limit


def test_the_cli_reports_json_nested_too_deep_in_one_line(sandbox_factory, tmp_path, monkeypatch, capsys):
    sb = sandbox_factory(faults=Faults(nested_every=1))
    monkeypatch.setenv("AMILI_API_KEY", sb.api_key)
    code = cli.main(fetch_args(sb, tmp_path))
    err = capsys.readouterr().err
    assert code == 1 and err.count("\n") == 1 and err.startswith("ledger-export: error: ")
    assert "nested too deeply" in err


# -- the [amili] settings themselves --------------------------------------------------------

@pytest.mark.parametrize("amili, named", [
    ({"base_url": "http://127.0.0.1:99999"}, "amili.base_url"),
    ({"base_url": "http://[::1"}, "amili.base_url"),
    ({"base_url": "https://amili.test:port"}, "amili.base_url"),
    *[({key: value}, f"amili.{key}") for key in ("connect_timeout", "read_timeout", "max_wait", "request_deadline",
                                                 "run_deadline", "max_response_mb")
      for value in (math.inf, -math.inf, math.nan)],
    ({"request_deadline": 0}, "amili.request_deadline"),
    ({"max_pages": 0}, "amili.max_pages"),
    ({"max_pages": 1.5}, "amili.max_pages"),
    ({"max_response_mb": -1}, "amili.max_response_mb"),
])
def test_unusable_amili_settings_are_config_errors_naming_the_setting(amili, named):
    with pytest.raises(config_module.ConfigError) as refused:
        config_module.from_dict({"amili": amili})
    assert f"[{named}]" in one_line(refused.value)


def test_the_new_settings_have_defaults_and_reach_the_client():
    settings = config_module.from_dict({}).amili
    assert (settings.max_pages, settings.request_deadline, settings.run_deadline, settings.max_response_mb) == \
        (10_000, 300.0, 3600.0, 100.0)
    settings = config_module.from_dict({"amili": {"max_pages": 7, "request_deadline": 2, "run_deadline": 9,
                                                  "max_response_mb": 0.5, "max_wait": 0}}).amili
    with AmiliClient.from_settings(settings, StaticToken("k")) as c:
        assert (c.bounds.request_deadline, c.bounds.run_deadline, c.bounds.max_bytes) == (2, 9, 512 * 1024)
        assert c._lists.max_pages == 7


@pytest.mark.parametrize("setting", ['read_timeout = inf', 'connect_timeout = nan', 'base_url = "http://[::1"'])
def test_the_cli_reports_unusable_settings_in_one_line(tmp_path, setting):
    config = tmp_path / "ledger-export.toml"
    # A closed local port, never the real Amili, should a setting get through.
    base_url = "" if setting.startswith("base_url") else 'base_url = "http://127.0.0.1:9"\n'
    config.write_text(f'[amili]\n{base_url}creditor = "686e6ed854377058c2dd10bd"\nmax_retries = 0\n{setting}\n',
                      encoding="utf-8")
    code, out, err, _ = run_cli(["fetch", "--period", "2025-06", "--config", str(config), "--out", str(tmp_path)],
                                {"AMILI_API_KEY": "sandbox-key"})
    assert code == 1 and err.count("\n") == 1 and "Traceback" not in err
    assert f"[amili.{setting.split()[0]}]" in err


def test_a_port_out_of_range_on_the_command_line_is_one_line(tmp_path):
    code, out, err, _ = run_cli(["fetch", "--period", "2025-06", "--config", str(SAMPLES / "ledger-export.toml"),
                                 "--base-url", "http://127.0.0.1:99999", "--out", str(tmp_path)],
                                {"AMILI_API_KEY": "sandbox-key"})
    assert code == 1 and err.count("\n") == 1 and "[amili.base_url]" in err and "Traceback" not in err
