"""Ctrl-C while requests are in flight: the run ends at once, says so, and leaves nothing behind.

A real ``ledger-export export`` process against the sandbox, whose answers
to the specification lines hang (as a slow Amili's would) until the test
ends. SIGINT arrives while the client's workers wait on them.

The same without a process: a round that fails while a request hangs, and
the client closed after it.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time

import pytest

from ledger_export.amili.auth import StaticToken
from ledger_export.amili.client import AmiliClient
from ledger_export.core.errors import NotFoundError
from ledger_export.core.resources import SAMPLES

LINES = "/finance--payout-specifications"


def test_ctrl_c_with_requests_in_flight_exits_130_at_once_and_leaves_no_staging(sandbox, tmp_path):
    in_flight, release = threading.Event(), threading.Event()

    def hang(n, method, path):
        if path == LINES:
            in_flight.set()
            release.wait(30)

    sandbox.on_request(hang)
    out = tmp_path / "out"
    proc = subprocess.Popen(
        [sys.executable, "-m", "ledger_export", "export", "--period", "2025-06", "--config",
         str(SAMPLES / "ledger-export.toml"), "--base-url", sandbox.base_url, "--out", str(out)],
        env={**os.environ, "AMILI_API_KEY": sandbox.api_key}, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True)
    try:
        # The lines' round runs on the workers: pages, payments and PDFs, four at once.
        assert in_flight.wait(30), "the export never asked for the lines"
        time.sleep(0.3)  # the other workers' requests reach the (held) sandbox too
        assert proc.poll() is None
        interrupted = time.monotonic()
        proc.send_signal(signal.SIGINT)
        stdout, stderr = proc.communicate(timeout=10)
        took = time.monotonic() - interrupted
    finally:
        release.set()
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert took < 3, f"exit took {took:.1f} s after Ctrl-C"
    assert proc.returncode == 130
    assert stderr == "ledger-export: interrupted\n", stderr
    assert sorted(p.name for p in out.iterdir() if p.name.startswith(".staging-")) == []
    assert not (out / "2025-06").exists()


def test_closing_after_a_failed_round_does_not_wait_for_requests_in_flight(sandbox):
    in_flight, release = threading.Event(), threading.Event()

    def hang(n, method, path):
        if path == LINES:
            in_flight.set()
            release.wait(30)

    sandbox.on_request(hang)
    started: list[str] = []

    def call(what):
        started.append(what)
        if what == "fails":
            assert in_flight.wait(10)
            raise NotFoundError("404 for x", url="x", status=404)
        if what == "hangs":
            return client.get_json(LINES)
        return what

    client = AmiliClient(sandbox.base_url, StaticToken(sandbox.api_key), concurrency=2)
    try:
        with pytest.raises(NotFoundError):
            client.map(call, ["fails", "hangs", "never started", "nor this"])
        # The workers are daemons: they cannot keep the process alive at exit.
        workers = [t for t in threading.enumerate() if t.name.startswith("amili-worker-")]
        assert workers and all(t.daemon for t in workers)
        closing = time.monotonic()
        client.close()
        assert time.monotonic() - closing < 1, "close() waited for the request in flight"
    finally:
        release.set()
    assert sorted(started) == ["fails", "hangs"]  # calls not started when the round failed are dropped
