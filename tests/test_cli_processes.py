"""The commands as a user runs them: separate processes, the token from the environment."""

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from ledger_export.core.resources import SAMPLES


@pytest.fixture
def sandbox_process():
    proc = subprocess.Popen([sys.executable, "-m", "ledger_export", "sandbox", "--port", "0"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        first = proc.stdout.readline()
        assert first.startswith("Amili sandbox serving http://127.0.0.1:"), first + proc.stderr.read()
        yield first.split()[3]
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()


def test_fetch_command_against_the_sandbox_command(sandbox_process, tmp_path):
    env = {**os.environ, "AMILI_API_KEY": "sandbox-key"}
    done = subprocess.run(
        [sys.executable, "-m", "ledger_export", "fetch", "--period", "2025-06", "--config",
         str(SAMPLES / "ledger-export.toml"), "--base-url", sandbox_process, "--out", str(tmp_path), "--verbose"],
        env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert "Fetched 13 payouts, 487 specification lines and 5 creditor payments" in done.stdout
    index = json.loads((tmp_path / "2025-06" / "raw" / "snapshot.json").read_text())
    assert index["counts"] == {"payouts": 13, "specifications": 487, "payments": 5}
    # --verbose logs every request, and never the token.
    assert "finance--payouts" in done.stderr
    assert "sandbox-key" not in done.stdout + done.stderr
    assert not any("sandbox-key" in p.read_text() for p in tmp_path.rglob("*.json"))


def test_refused_token_is_one_line_without_the_token(sandbox_process, tmp_path):
    secret = "eyJ-not-a-valid-token-0123456789"
    done = subprocess.run(
        [sys.executable, "-m", "ledger_export", "fetch", "--period", "2025-06", "--config",
         str(SAMPLES / "ledger-export.toml"), "--base-url", sandbox_process, "--out", str(tmp_path)],
        env={**os.environ, "AMILI_API_KEY": secret}, capture_output=True, text=True, timeout=60)
    assert done.returncode == 1
    assert done.stderr.count("\n") == 1 and done.stderr.startswith("ledger-export: error: ")
    assert "401" in done.stderr and secret not in done.stderr + done.stdout
    assert "Traceback" not in done.stderr
    assert not (tmp_path / "2025-06").exists()


def test_missing_token_says_which_variable_to_set(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ("AMILI_API_KEY", "AMILI_API_CODE")}
    done = subprocess.run(
        [sys.executable, "-m", "ledger_export", "fetch", "--period", "2025-06", "--config",
         str(SAMPLES / "ledger-export.toml"), "--out", str(tmp_path)],
        env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 1
    assert "AMILI_API_KEY" in done.stderr and "Traceback" not in done.stderr
