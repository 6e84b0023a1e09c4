"""Two ``payments register`` runs of one file at once, as two bookkeepers (or a double-click) start them.

Real processes, the real CLI, one sandbox over real HTTP. The first run is
held at the sandbox's door with its first POST (it has read Amili's
references by then, and all four are new to it) while the second runs:
events, not sleeps, decide the order.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from datetime import date
from pathlib import Path

import pytest

from ledger_export.core.resources import SAMPLES
from ledger_export.jobs.payments_csv import read_payments

CREDITOR = "686e6ed854377058c2dd10bd"
PROJECT_ROOT = Path(__file__).resolve().parents[1]
SAMPLE = SAMPLES / "payments.csv"
REFERENCES = [row.reference for row in read_payments(SAMPLE, today=date(2025, 7, 1))]


class HoldFirstPost:
    """WSGI middleware in front of the sandbox: its first POST waits until the test lets it in.

    It waits outside the sandbox's own lock, so every other request is served meanwhile.
    """

    def __init__(self, app):
        self.app = app
        self.arrived = threading.Event()
        self.go_on = threading.Event()
        self._taken = threading.Lock()

    def __call__(self, environ, start_response):
        if environ["REQUEST_METHOD"] == "POST" and self._taken.acquire(blocking=False):
            self.arrived.set()
            self.go_on.wait(timeout=60)
        return self.app(environ, start_response)


@pytest.fixture
def config_file(sandbox, tmp_path):
    path = tmp_path / "ledger-export.toml"
    path.write_text(f'[amili]\nbase_url = "{sandbox.base_url}"\ncreditor = "{CREDITOR}"\n\n'
                    f'[output]\nfolder = "{tmp_path / "out"}"\n', "utf-8")
    return path


def command(config_file) -> list[str]:
    return [sys.executable, "-m", "ledger_export", "payments", "register", str(SAMPLE), "--config", str(config_file)]


ENV = {**os.environ, "AMILI_API_KEY": "sandbox-key"}


def test_two_runs_of_one_file_at_once_register_each_payment_once(sandbox, config_file, tmp_path):
    gate = HoldFirstPost(sandbox.app.wsgi_app)
    sandbox.app.wsgi_app = gate
    first = subprocess.Popen(command(config_file), env=ENV, cwd=PROJECT_ROOT, text=True,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        assert gate.arrived.wait(timeout=60), first.communicate(timeout=60)
        # The first run is between reading the references and its first POST: the second starts now.
        second = subprocess.run(command(config_file), env=ENV, cwd=PROJECT_ROOT, text=True,
                                capture_output=True, timeout=60)
    finally:
        gate.go_on.set()
    out, err = first.communicate(timeout=60)

    assert second.returncode == 5, second.stdout + second.stderr
    assert second.stderr == (f"ledger-export: error: another payments run for creditor {CREDITOR} is using "
                             f"{tmp_path / 'out'} (pid {first.pid}); wait for it to finish, then run again\n")
    assert first.returncode == 0, out + err
    assert out.endswith("4 payments: 4 registered.\n\n")
    for reference in REFERENCES:
        assert sandbox.db["creditor--payments"].count_documents({"creditor_payment_reference": reference}) == 1
    assert [r.status for r in sandbox.requests if r.method == "POST"] == [201] * 4

    # Once the first is done the lock is free, and the same file registers nothing twice.
    third = subprocess.run(command(config_file), env=ENV, cwd=PROJECT_ROOT, text=True, capture_output=True,
                           timeout=60)
    assert third.returncode == 0 and third.stdout.endswith("4 payments: 4 already registered.\n\n"), third.stderr
    assert len([r for r in sandbox.requests if r.method == "POST"]) == 4
