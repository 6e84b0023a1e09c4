"""One run per output root: a second run is refused at once, never waits, and cannot book the same payouts.

The processes here talk over pipes, so each step waits for the other to
reach its point: no sleeps, no timing.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from ledger_export.core.lock import LOCK_FILE, LockedError, OutputLock
from ledger_export.jobs.register import Register

PROJECT_ROOT = Path(__file__).resolve().parents[1]

HOLDER = textwrap.dedent("""
    import sys
    from ledger_export.core.lock import OutputLock
    with OutputLock(sys.argv[1]):
        print("held", flush=True)
        sys.stdin.readline()
""")

# One export run as export() will do it, paused between check and write until told to go on.
BOOKER = textwrap.dedent("""
    import hashlib, sys
    from datetime import datetime, timezone
    from pathlib import Path
    import simplejson
    from ledger_export.amili.models import Payout
    from ledger_export.core.errors import LedgerExportError
    from ledger_export.core.resources import SAMPLES
    from ledger_export.jobs.register import Register
    from ledger_export.jobs.register_check import Run

    root = Path(sys.argv[1])
    items = simplejson.loads((SAMPLES / "amili" / "finance--payouts.json").read_text("utf-8"), use_decimal=True)
    june = [p for p in map(Payout.from_api, items) if p.payout_date and p.payout_date.month == 6]
    try:
        with Register.open(root) as register:
            chosen = register.check(june).to_export("normal")
            print("checked", flush=True)
            sys.stdin.readline()
            data = "\\n".join(p.id for p in chosen).encode()
            (root / "ledger.si").write_bytes(data)
            register.record(Run("2025-06", "normal", datetime(2025, 7, 2, tzinfo=timezone.utc)), chosen,
                            "ledger.si", hashlib.sha256(data).hexdigest())
            print("booked", len(chosen), flush=True)
    except LedgerExportError as exc:
        print("refused", type(exc).__name__, str(exc), flush=True)
        sys.exit(exc.exit_code)
""")


def start(script: str, root) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", script, str(root)], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, text=True, cwd=PROJECT_ROOT)


def finish(process: subprocess.Popen) -> tuple[int, str]:
    out, _ = process.communicate("\n", timeout=30)
    return process.returncode, out


def test_two_locks_in_one_process_exclude_each_other(tmp_path):
    with OutputLock(tmp_path) as first:
        assert first.held
        with pytest.raises(LockedError) as err:
            OutputLock(tmp_path).acquire()
    assert str(err.value) == (f"another ledger-export run is using {tmp_path} (pid {os.getpid()}); "
                              f"wait for it to finish, then run again")
    assert err.value.exit_code == 5
    with OutputLock(tmp_path):  # released on leaving the block
        pass
    assert (tmp_path / LOCK_FILE).exists()  # deliberately kept: see lock.py


def test_another_process_holding_the_root_is_refused_with_its_pid(tmp_path):
    holder = start(HOLDER, tmp_path)
    try:
        assert holder.stdout.readline() == "held\n"
        with pytest.raises(LockedError, match=rf"\(pid {holder.pid}\)"):
            OutputLock(tmp_path).acquire()
    finally:
        assert finish(holder)[0] == 0
    with OutputLock(tmp_path):
        pass


def test_a_killed_run_leaves_no_stale_lock(tmp_path):
    holder = start(HOLDER, tmp_path)
    assert holder.stdout.readline() == "held\n"
    holder.send_signal(signal.SIGKILL)
    holder.wait(timeout=30)
    with OutputLock(tmp_path):
        pass


def test_two_runs_at_once_cannot_both_book_the_same_payouts(tmp_path):
    first = start(BOOKER, tmp_path)
    assert first.stdout.readline() == "checked\n"  # first has checked: all 13 are new to it
    second = start(BOOKER, tmp_path)  # starts while first is between check and record
    code, out = finish(second)
    assert code == 5 and out.startswith(f"refused LockedError another ledger-export run is using {tmp_path}")
    assert finish(first) == (0, "booked 13\n")
    third = start(BOOKER, tmp_path)  # once the first is done, its payouts are booked
    code, out = finish(third)
    assert code == 4 and out.startswith("refused AlreadyExportedError 13 payouts of this run were exported before")
    with Register.open(tmp_path) as register:
        assert [r.id for r in register.runs()] == [1]
