"""An export stopped at any file-system step, then run again, never loses, doubles or orphans anything.

The way it fails in life: ``files.fs_step`` names every step (mkdir, write,
fsync, rename, unlink, register commit) before it is taken, and
``files.STEP_HOOK`` is where these tests stop the run there, with a real
``kill -9`` of a real process or with the ``OSError`` a full or read-only
disk gives. After each stop the same export is run again, and the output
root must hold exactly what the register says: every payout in exactly one
exported run, every file of an exported run in place with its SHA-256, no
file the register does not know, no staging left, no run left pending.

The period is small (five June payouts, two with their self-invoices) so
each run is cheap; the killed processes are forked from one warm ``python -c``
runner, so a kill at every one of the K steps costs a fork, not an
interpreter start.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import textwrap
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import simplejson

from ledger_export import cli

from ledger_export.core import files
from ledger_export.amili.fetch import RawPeriod
from ledger_export.amili.models import Payout
from ledger_export.amili.snapshot import save_snapshot
from ledger_export.amili.document_names import document_file_names
from ledger_export.core.lock import LOCK_FILE
from ledger_export.core.resources import SAMPLES
from ledger_export.core.period import month
from ledger_export.jobs.register import REGISTER_FILE, Register

PROJECT_ROOT = Path(__file__).resolve().parents[1]
CONFIG = SAMPLES / "ledger-export.toml"
PERIOD = "2025-06"
# Five June payouts, one per category; the two commission ones have their self-invoices (PDFs in the samples).
# The one paid out last arrives only after the first export of the month (``--only-new``).
LATE = "68538b4c4dc8a245ced1d2b4"
PAYOUTS = frozenset({"683bd04314eb261291cfe347", "683fc4c49697be1af451e96c", "683fc4c56ea9b8c059bca65e",
                     "683fc4c6d8423b34e1c33888", LATE})
EARLY = PAYOUTS - {LATE}
PAYMENT = "684161717929fa0247056a53"
PARALLEL = 2  # the machine's cores


# -- the period, and running an export of it ---------------------------------------------------

def _sample(name: str) -> list[dict]:
    return simplejson.loads((SAMPLES / "amili" / name).read_text("utf-8"), use_decimal=True)


def _period_folder(folder: Path, ids: frozenset[str]) -> Path:
    """A period folder as a fetch leaves it: the raw snapshot and, beside it, the self-invoices."""
    payouts = [p for p in _sample("finance--payouts.json") if p["_id"] in ids]
    raw = RawPeriod(creditor=payouts[0]["creditor"], period=month(PERIOD), base_url="http://127.0.0.1:9",
                    payouts=tuple(payouts),
                    specifications=tuple(s for s in _sample("finance--payout-specifications.json")
                                         if s.get("payout") in ids),
                    payments=tuple(p for p in _sample("creditor--payments.json") if p["_id"] == PAYMENT))
    save_snapshot(raw, folder / "raw")
    parsed = [Payout.from_api(p) for p in payouts]
    (folder / "self-invoices").mkdir()
    for payout_id, name in document_file_names(parsed).items():
        document = next(p.document for p in parsed if p.id == payout_id)
        pdf = SAMPLES / "amili" / "media" / f"{document.file}.pdf"
        (folder / "self-invoices" / name).write_bytes(pdf.read_bytes())
    return folder


@pytest.fixture(scope="module")
def period_folder(tmp_path_factory) -> Path:
    folder = _period_folder(tmp_path_factory.mktemp("input") / PERIOD, PAYOUTS)
    assert len(list((folder / "self-invoices").iterdir())) == 2
    return folder


@pytest.fixture(scope="module")
def early_folder(tmp_path_factory) -> Path:
    """The same period fetched before its last payout (and that one's self-invoice) existed."""
    return _period_folder(tmp_path_factory.mktemp("early") / PERIOD, EARLY)


def export_args(period_folder: Path, root: Path | str, *extra: str) -> list[str]:
    return ["export", "-q", "-c", str(CONFIG), "--from-raw", str(period_folder), "--out", str(root), *extra]


@dataclass
class Ran:
    code: int
    err: str


def run_cli(args: list[str], capsys, hook: Callable[[str, Path], None] | None = None) -> Ran:
    """``ledger-export ARGS`` in this process, with ``hook`` as the step hook for the run."""
    capsys.readouterr()
    files.STEP_HOOK = hook
    try:
        code = cli.main(args)
    finally:
        files.STEP_HOOK = None
    return Ran(code, capsys.readouterr().err)


@pytest.fixture(autouse=True)
def no_hook_left():
    yield
    files.STEP_HOOK = None


def assert_one_line_error(ran: Ran, *needles: str) -> None:
    assert ran.code == 1, ran
    lines = ran.err.splitlines()
    assert len(lines) == 1 and lines[0].startswith("ledger-export: error: "), ran.err
    assert "Traceback" not in ran.err
    for needle in needles:
        assert needle in ran.err, ran.err


# -- what must hold after every stop -------------------------------------------------------------

def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def files_on_disk(root: Path) -> dict[str, Path]:
    """Every regular file under ``root`` but the register and the lock, by name relative to it."""
    found = {}
    for folder, dirs, names in os.walk(root):
        for name in dirs + names:
            path = Path(folder) / name
            assert not path.is_symlink(), path
            if path.is_file():
                found[path.relative_to(root).as_posix()] = path
    found.pop(REGISTER_FILE, None)
    found.pop(LOCK_FILE, None)
    return found


def staging_left(root: Path) -> list[str]:
    return [p.relative_to(root).as_posix() for p in root.rglob(f"{files.STAGING_PREFIX}*")]


@dataclass(frozen=True)
class State:
    """The register's picture after a run: each payout's exported runs, each run's status."""

    booked: dict[str, list[int]]
    status: dict[int, str]
    sie: dict[int, str]


def assert_consistent(root: Path, times: int = 1, payouts: frozenset[str] = PAYOUTS) -> State:
    """The register and the files agree: each payout exported ``times``, no file unknown, none changed."""
    with Register.open(root, read_only=True) as register:
        runs = register.runs()
        assert [r.id for r in runs if r.status == "pending"] == [], runs
        booked: dict[str, list[int]] = {}
        sie: dict[int, str] = {}
        listed: dict[str, tuple[int, str]] = {}
        for run in (r for r in runs if r.status == "exported"):
            exports = register.payouts_of(run.id)
            for export in exports:
                booked.setdefault(export.payout_id, []).append(run.id)
            sie[run.id] = exports[0].file_name
            run_files = register.run_files(run.id)
            assert not set(run_files) & set(listed), f"run {run.id} lists files another run lists"
            listed.update(run_files)
    assert set(booked) == payouts and all(len(ids) == times for ids in booked.values()), booked
    on_disk = files_on_disk(root)
    unknown = sorted(set(on_disk) - set(listed))
    assert unknown == [], f"published files the register does not know: {unknown}"
    for name, (size, digest) in listed.items():
        path = root / name
        assert path.is_file() and path.stat().st_size == size and sha256(path) == digest, f"{name} changed or gone"
    assert staging_left(root) == []
    with Register.open(root) as register:  # opens without error, and finds nothing to settle
        assert register.settled == ()
    return State(booked, {r.id: r.status for r in runs}, sie)


def known_to_register(root: Path) -> set[str]:
    """Files a pending or exported run lists (straight from SQLite: opening a Register would settle)."""
    path = root / REGISTER_FILE
    if not path.exists() or path.stat().st_size == 0:
        return set()
    db = sqlite3.connect(path)
    try:
        if not db.execute("SELECT 1 FROM sqlite_master WHERE name = 'run_files'").fetchone():
            return set()
        return {name for (name,) in db.execute(
            "SELECT f.name FROM run_files f JOIN runs r ON r.id = f.run_id WHERE r.status IN ('pending', 'exported')")}
    finally:
        db.close()


def assert_nothing_unknown(root: Path, where: str) -> None:
    """Right after a stop: a file placed outside staging is one the register lists (as pending at least).

    SQLite's rollback journal of a commit cut short is the register's own; opening it rolls it back.
    """
    placed = {name for name in files_on_disk(root)
              if not name.startswith(files.STAGING_PREFIX) and name != f"{REGISTER_FILE}-journal"}
    assert sorted(placed - known_to_register(root)) == [], where


def hashes(root: Path) -> dict[str, str]:
    return {name: sha256(path) for name, path in files_on_disk(root).items()}


def at_every_step(steps: list[tuple[str, str]], check: Callable[[int, str], None]) -> None:
    """``check(n, where)`` for every step number; every step that fails is reported, not just the first."""
    failures = []
    for n, (kind, name) in enumerate(steps, 1):
        where = f"step {n} of {len(steps)} ({kind} {name})"
        try:
            check(n, where)
        except AssertionError as exc:
            failures.append(f"{where}: {str(exc).splitlines()[0] if str(exc) else 'assertion failed'}")
    assert not failures, "\n".join(failures)


# -- kill -9 at every step, in real processes ---------------------------------------------------

# Imports once, then forks one child per step number N: the child runs ``ledger-export export`` with a
# hook that SIGKILLs itself just before step N (N = 0: no kill, the steps are counted and written out).
RUNNER = textwrap.dedent("""
    import json, os, shutil, signal, sys, traceback
    from pathlib import Path
    from ledger_export import cli
    from ledger_export.core import files
    import ledger_export.jobs.export, ledger_export.outputs.workbook  # warm for every child

    job = json.loads(sys.argv[1])
    base = Path(job["base"])

    def child(n, root):
        log = os.open(base / f"{n}.log", os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        os.dup2(log, 1)
        os.dup2(log, 2)
        steps = []

        def hook(kind, path):
            steps.append([kind, os.path.relpath(path, root)])
            if len(steps) == n:
                os.kill(os.getpid(), signal.SIGKILL)

        files.STEP_HOOK = hook
        try:
            code = cli.main([a.replace("{root}", str(root)) for a in job["argv"]])
        except BaseException:
            traceback.print_exc()
            code = 99
        if n == 0:
            (base / "steps.json").write_text(json.dumps(steps))
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)

    def start(n):
        root = base / f"root-{n}"
        if job["template"]:
            shutil.copytree(job["template"], root, symlinks=True)
        pid = os.fork()
        if pid == 0:
            try:
                child(n, root)
            finally:
                os._exit(98)
        return pid

    def ended(status):
        return {"signal": os.WTERMSIG(status)} if os.WIFSIGNALED(status) else {"exit": os.WEXITSTATUS(status)}

    results = {0: ended(os.waitpid(start(0), 0)[1])}
    steps = json.loads((base / "steps.json").read_text())
    todo, running = list(range(1, len(steps) + 1)), {}
    if isinstance(job["kills"], list):  # only these steps
        todo = job["kills"]
    elif job["kills"]:  # up to the first step of this kind
        todo = todo[:next(i for i, (kind, _) in enumerate(steps, 1) if kind == job["kills"])]
    while todo or running:
        while todo and len(running) < job["parallel"]:
            n = todo.pop(0)
            running[start(n)] = n
        pid, status = os.wait()
        results[running.pop(pid)] = ended(status)
    print(json.dumps({"steps": steps, "results": results}))
""")


@dataclass(frozen=True)
class Matrix:
    base: Path
    steps: list[tuple[str, str]]  # (kind, path relative to the root) of the run that was not stopped
    results: dict[int, dict]

    def root(self, n: int) -> Path:
        return self.base / f"root-{n}"

    def index(self, kind: str, name: str) -> int:
        """The 1-based number of the step ``kind`` on ``name`` (a kill there stops the run just before it)."""
        return next(i for i, step in enumerate(self.steps, 1) if step == (kind, name))

    def kinds(self) -> dict[str, int]:
        counted: dict[str, int] = {}
        for kind, _ in self.steps:
            counted[kind] = counted.get(kind, 0) + 1
        return counted


def kill_matrix(base: Path, argv: list[str], template: Path | None = None, kills: list[int] | str | None = None,
                ends: int = 0) -> Matrix:
    """Run ``argv`` (``{root}`` for the output root) once to count its steps, then once killed at each.

    ``template``: each run's root starts as a copy of it. ``kills``: only these step numbers, or
    (a kind) only the steps up to the first of that kind. ``ends``: the exit code of the run not stopped.
    """
    base.mkdir(parents=True)
    job = {"base": str(base), "argv": argv, "template": str(template) if template else None, "parallel": PARALLEL,
           "kills": kills}
    done = subprocess.run([sys.executable, "-c", RUNNER, json.dumps(job)], capture_output=True, text=True,
                          cwd=PROJECT_ROOT, timeout=600)
    assert done.returncode == 0, done.stderr
    answer = json.loads(done.stdout)
    results = {int(n): r for n, r in answer["results"].items()}
    assert results[0] == {"exit": ends}, (base / "0.log").read_text()
    steps = [(kind, name) for kind, name in answer["steps"]]
    for n in sorted(set(results) - {0}):
        # Every child reached its step: the run is the same every time, and the kill was real.
        assert results[n] == {"signal": signal.SIGKILL}, (n, steps[n - 1], results[n], (base / f"{n}.log").read_text())
    return Matrix(base, steps, results)


def test_kill_at_every_step_then_run_again(period_folder, tmp_path, capsys):
    matrix = kill_matrix(tmp_path / "kills", export_args(period_folder, "{root}"))
    assert len(matrix.results) == len(matrix.steps) + 1
    manifest = matrix.index("rename", f"{PERIOD}/manifest.json")
    assert matrix.steps[-1] == ("commit", REGISTER_FILE) and manifest < len(matrix.steps)
    # Every file the run publishes is a step killed at, the invoice payments CSV too.
    assert matrix.index("rename", f"{PERIOD}/invoice-payments-{PERIOD}.csv") < manifest
    assert set(matrix.kinds()) == {"mkdir", "write", "fsync", "rename", "commit"}

    def check(n: int, where: str) -> None:
        root = matrix.root(n)
        # A dry run reads the register as the stopped run left it, journal and all (it settles nothing):
        # never an error.
        assert run_cli(export_args(period_folder, root, "--dry-run"), capsys).code in (0, 4)
        assert_nothing_unknown(root, where)
        again = run_cli(export_args(period_folder, root), capsys)
        # Killed once its manifest was in place, the run is complete and is settled as exported; else taken back.
        assert again.code == (4 if n > manifest else 0), again
        state = assert_consistent(root)
        (run,) = {ids[0] for ids in state.booked.values()}
        assert state.sie[run] == f"{PERIOD}/ledger-{PERIOD}.si"  # nothing left behind took the name

    at_every_step(matrix.steps, check)


@pytest.mark.parametrize("stop", ["manifest", "register"], ids=["before-the-manifest", "before-exported-is-noted"])
def test_kill_while_a_stopped_run_is_being_settled(period_folder, tmp_path, capsys, stop):
    """The run that settles a stopped one (taking its files back, or noting it exported) is killed at each step."""
    args = export_args(period_folder, "{root}")
    stopped = kill_matrix(tmp_path / "stopped", args, kills=[])
    n = (stopped.index("rename", f"{PERIOD}/manifest.json") if stop == "manifest" else len(stopped.steps))
    stopped = kill_matrix(tmp_path / "stopped-at", args, kills=[n])
    # Settling comes before this run stages anything: kill it at every step up to its staging folder.
    matrix = kill_matrix(tmp_path / "settling", args, template=stopped.root(n), kills="mkdir",
                         ends=0 if stop == "manifest" else 4)
    settling = [step for step in matrix.steps[:len(matrix.results) - 1]]
    kinds = {kind for kind, _ in settling}
    assert kinds == ({"unlink", "commit", "mkdir"} if stop == "manifest" else {"commit", "mkdir"}), settling

    def check(m: int, where: str) -> None:
        root = matrix.root(m)
        assert_nothing_unknown(root, where)
        again = run_cli(export_args(period_folder, root), capsys)
        assert again.code == (0 if stop == "manifest" else 4), again
        assert_consistent(root)

    at_every_step(settling, check)

    def fails(m: int, where: str) -> None:
        """The same steps failing (a disk error) instead: one line, and the next run settles what is left."""
        root = tmp_path / f"failing-{m}"
        shutil.copytree(stopped.root(n), root, symlinks=True)
        hook = full_disk(m, stays_full=False, error=errno.EIO)
        failed = run_cli(export_args(period_folder, root), capsys, hook)
        assert hook.reached()
        assert_one_line_error(failed, os.strerror(errno.EIO))
        assert_nothing_unknown(root, where)
        again = run_cli(export_args(period_folder, root), capsys)
        assert again.code == (0 if stop == "manifest" else 4), again
        assert_consistent(root)

    at_every_step(settling, fails)


@pytest.fixture(scope="module")
def first_export(period_folder, tmp_path_factory) -> tuple[Path, dict[str, str]]:
    """An output root holding the period's first export, and the SHA-256 of each of its files."""
    root = tmp_path_factory.mktemp("first") / "out"
    assert cli.main(export_args(period_folder, root)) == 0
    assert_consistent(root)
    return root, hashes(root)


def test_kill_at_every_step_of_a_forced_second_run_then_run_again(period_folder, first_export, tmp_path, capsys):
    template, first_files = first_export
    matrix = kill_matrix(tmp_path / "kills", export_args(period_folder, "{root}", "--force"), template=template)
    assert len(matrix.results) == len(matrix.steps) + 1
    begin = next(i for i, (kind, _) in enumerate(matrix.steps, 1) if kind == "commit")  # its first: pending
    manifest = matrix.index("rename", f"{PERIOD}/manifest-run2.json")
    assert begin < manifest < len(matrix.steps)

    def check(n: int, where: str) -> None:
        root = matrix.root(n)
        assert_nothing_unknown(root, where)
        assert {k: v for k, v in hashes(root).items() if k in first_files} == first_files
        again = run_cli(export_args(period_folder, root, "--force"), capsys)
        assert again.code == 0, again
        state = assert_consistent(root, times=2 if n <= manifest else 3)
        # Run 1 and this re-run, and the killed run 2 only when it was complete; taken back otherwise.
        expected = [1, 2] if n <= begin else [1, 3] if n <= manifest else [1, 2, 3]
        assert set(map(tuple, state.booked.values())) == {tuple(expected)}
        if n > begin:
            assert state.status[2] == ("exported" if n > manifest else "abandoned")
        assert {k: v for k, v in hashes(root).items() if k in first_files} == first_files

    at_every_step(matrix.steps, check)


@pytest.fixture(scope="module")
def early_export(early_folder, tmp_path_factory) -> tuple[Path, dict[str, str]]:
    """An output root holding the export made before the last payout came, and its files' SHA-256."""
    root = tmp_path_factory.mktemp("early-export") / "out"
    assert cli.main(export_args(early_folder, root)) == 0
    assert_consistent(root, payouts=EARLY)
    return root, hashes(root)


def test_kill_at_every_step_of_an_only_new_run_then_run_again(period_folder, early_export, tmp_path, capsys):
    """The late payout's self-invoice goes into the self-invoices folder the first run made, file by file."""
    template, first_files = early_export
    matrix = kill_matrix(tmp_path / "kills", export_args(period_folder, "{root}", "--only-new"), template=template)
    assert len(matrix.results) == len(matrix.steps) + 1
    late_pdf = next(name for kind, name in matrix.steps
                    if kind == "rename" and name.startswith(f"{PERIOD}/self-invoices/"))
    manifest = matrix.index("rename", f"{PERIOD}/manifest-run2.json")
    assert matrix.index("rename", late_pdf) < manifest

    def check(n: int, where: str) -> None:
        root = matrix.root(n)
        assert_nothing_unknown(root, where)
        again = run_cli(export_args(period_folder, root, "--only-new"), capsys)
        assert again.code == 0, again  # books the late payout, or (the killed run had) finds nothing new
        state = assert_consistent(root)
        assert {p for p, ids in state.booked.items() if ids == [1]} == EARLY
        assert (root / late_pdf).is_file()
        assert {k: v for k, v in hashes(root).items() if k in first_files} == first_files

    at_every_step(matrix.steps, check)


# -- a full disk at every step, in this process ------------------------------------------------

def count_steps(args: list[str], root: Path, capsys) -> list[tuple[str, str]]:
    steps: list[tuple[str, str]] = []
    ran = run_cli(args, capsys, lambda kind, path: steps.append((kind, os.path.relpath(path, root))))
    assert ran.code == 0, ran
    return steps


def full_disk(n: int, *, stays_full: bool, error: int = errno.ENOSPC) -> Callable[[str, Path], None]:
    """A hook that fails step ``n`` with ``error`` (and, when the disk ``stays_full``, every step after it)."""
    count = 0

    def hook(kind: str, path: Path) -> None:
        nonlocal count
        count += 1
        if count == n or (stays_full and count > n):
            raise OSError(error, os.strerror(error), str(path))

    hook.reached = lambda: count >= n  # type: ignore[attr-defined]
    return hook


@pytest.mark.parametrize("stays_full", [False, True], ids=["one-step", "stays-full"])
@pytest.mark.parametrize("second", [False, True], ids=["first-run", "forced-second-run"])
def test_disk_full_at_every_step_then_a_clean_run(period_folder, first_export, tmp_path, capsys, second, stays_full):
    template, first_files = first_export
    extra = ("--force",) if second else ()

    def fresh(name: str) -> Path:
        root = tmp_path / name
        if second:
            shutil.copytree(template, root, symlinks=True)
        return root

    counted = fresh("counted")
    steps = count_steps(export_args(period_folder, counted, *extra), counted, capsys)
    assert steps[-1] == ("commit", REGISTER_FILE)
    before = first_files if second else {}

    def check(n: int, where: str) -> None:
        root = fresh(f"full-{n}")
        hook = full_disk(n, stays_full=stays_full)
        failed = run_cli(export_args(period_folder, root, *extra), capsys, hook)
        assert hook.reached()
        assert_one_line_error(failed, os.strerror(errno.ENOSPC))
        assert staging_left(root) == []
        assert_nothing_unknown(root, where)
        published = hashes(root)
        settled = n == len(steps)
        if settled:
            # Full only when the register was to note the run exported: the outputs stay, the next run settles.
            assert "the outputs are in place" in failed.err
            assert len(published) > len(before) and {k: published[k] for k in before} == before
            with Register.open(root, read_only=True) as register:
                (pending,) = [r.id for r in register.runs() if r.status == "pending"]
        else:
            assert published == before, "a failed run left files behind"
        again = run_cli(export_args(period_folder, root, *extra), capsys)
        if second:
            assert again.code == 0, again
            state = assert_consistent(root, times=3 if settled else 2)
            assert all(ids[0] == 1 for ids in state.booked.values())
        else:
            # Not booked again: the settled run holds the payouts, and the clean run refuses them (exit 4).
            assert again.code == (4 if settled else 0), again
            state = assert_consistent(root)
        if settled:
            assert state.status[pending] == "exported" and all(pending in ids for ids in state.booked.values())

    at_every_step(steps, check)


# -- a real disk too small, a real read-only one --------------------------------------------------

@contextlib.contextmanager
def tmpfs(where: Path, size: str, *, read_only: bool = False) -> Iterator[Path]:
    """A tmpfs of ``size`` mounted at ``where`` for the block; the test is skipped where that is not allowed."""
    if not sys.platform.startswith("linux") or os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs Linux and root")
    where.mkdir(parents=True, exist_ok=True)
    options = f"size={size}" + (",ro" if read_only else "")
    try:
        done = subprocess.run(["mount", "-t", "tmpfs", "-o", options, "ledger-export-test", str(where)],
                              capture_output=True, text=True, timeout=30)
    except OSError as exc:
        pytest.skip(f"cannot run mount here: {exc}")
    if done.returncode != 0:
        pytest.skip(f"this machine does not let a test mount a tmpfs: {done.stderr.strip()}")
    try:
        yield where
    finally:
        subprocess.run(["umount", str(where)], check=True, timeout=30)


def remount(where: Path, options: str) -> None:
    subprocess.run(["mount", "-o", f"remount,{options}", str(where)], check=True, timeout=30)


DISK_FULL = ("No space left on device", "database or disk is full")


def test_a_disk_too_small_publishes_nothing_and_a_bigger_one_works(period_folder, tmp_path, capsys):
    """Every size from 8 KiB up until the export fits: the run stops where the disk fills, then it is grown."""
    stopped: dict[str, list[int]] = {}  # what could not be done -> the sizes (KiB) where it stopped the run
    for size in range(8, 1024, 8):
        with tmpfs(tmp_path / f"disk-{size}k", f"{size}k") as disk:
            root = disk / "out"
            ran = run_cli(export_args(period_folder, root), capsys)
            if ran.code == 0:
                assert_consistent(root)
                break
            assert_one_line_error(ran)
            assert any(full in ran.err for full in DISK_FULL), ran.err
            assert "damaged" not in ran.err  # the disk is full, the register is not damaged
            assert staging_left(root) == []
            assert_nothing_unknown(root, f"{size} KiB")
            # Full as the register was to note the run exported: the outputs stay, vouched for by the manifest.
            in_place = "the outputs are in place" in ran.err
            assert (files_on_disk(root) != {}) == in_place, (size, ran.err)
            stopped.setdefault(ran.err.removeprefix("ledger-export: error: ").split(f" {disk}")[0], []).append(size)
            remount(disk, "size=8m")
            again = run_cli(export_args(period_folder, root), capsys)
            assert again.code == (4 if in_place else 0), (size, ran, again)
            assert_consistent(root)
    else:
        pytest.fail("the export did not fit in 1 MiB")
    # The disk filled up at different steps: the register's creation and commits, staging, publishing.
    assert "cannot write" in stopped and len(stopped) >= 4, stopped


def test_a_read_only_disk_is_a_clear_error_not_another_run(period_folder, first_export, tmp_path, capsys):
    template, first_files = first_export
    with tmpfs(tmp_path / "empty", "1m", read_only=True) as disk:
        for root in (disk, disk / "out"):
            ran = run_cli(export_args(period_folder, root), capsys)
            assert_one_line_error(ran, str(root), "Read-only file system")
            assert "another ledger-export run" not in ran.err
    with tmpfs(tmp_path / "exported", "1m") as disk:
        shutil.copytree(template, disk / "out", symlinks=True)
        remount(disk, "ro")
        ran = run_cli(export_args(period_folder, disk / "out", "--force"), capsys)
        assert_one_line_error(ran, str(disk / "out"), "Read-only file system")
        assert "another ledger-export run" not in ran.err
        # Reading needs no lock: a dry run still works there (and finds the payouts exported).
        assert run_cli(export_args(period_folder, disk / "out", "--dry-run"), capsys).code == 4
        assert hashes(disk / "out") == first_files


@pytest.mark.parametrize("error", [errno.EROFS, errno.EACCES], ids=["read-only", "no-permission"])
@pytest.mark.parametrize("kind", ["commit", "mkdir", "write"])
def test_a_folder_that_cannot_be_written_is_a_clear_error_not_another_run(period_folder, tmp_path, capsys, kind,
                                                                          error):
    """Root is never refused by chmod, so the refusal comes from the hook, at the first step of its kind."""
    root = tmp_path / "out"
    seen: list[str] = []

    def refuse(step: str, path: Path) -> None:
        seen.append(step)
        if step == kind and seen.count(kind) == 1:
            raise OSError(error, os.strerror(error), str(path))

    ran = run_cli(export_args(period_folder, root), capsys, refuse)
    assert_one_line_error(ran, os.strerror(error))
    assert "another ledger-export run" not in ran.err
    assert run_cli(export_args(period_folder, root), capsys).code == 0
    assert_consistent(root)


def test_an_output_folder_that_is_a_file_is_a_clear_error(period_folder, tmp_path, capsys):
    file = tmp_path / "books.txt"
    file.write_text("mine\n")
    for out, why in ((file, "it is not a folder"), (file / "out", "Not a directory")):
        ran = run_cli(export_args(period_folder, out), capsys)
        assert_one_line_error(ran, f"cannot use {out} as the output folder: {why}")
        assert "another ledger-export run" not in ran.err
    assert file.read_text() == "mine\n"


# -- two runs at once ----------------------------------------------------------------------------

# ``ledger-export ARGS`` that stops just before step N and waits for a line on stdin to go on.
PAUSED = textwrap.dedent("""
    import sys
    from ledger_export import cli
    from ledger_export.core import files

    n, args, count = int(sys.argv[1]), sys.argv[2:], 0

    def hook(kind, path):
        global count
        count += 1
        if count == n:
            print("paused", kind, flush=True)
            sys.stdin.readline()

    files.STEP_HOOK = hook
    sys.exit(cli.main(args))
""")


def ledger_export_command() -> list[str]:
    """The installed ``ledger-export`` command, as the bookkeeper runs it."""
    script = Path(sys.executable).parent / "ledger-export"
    return [str(script)] if script.exists() else [sys.executable, "-m", "ledger_export"]


@pytest.mark.parametrize("where", ["the register is created", "the run is noted pending", "the manifest is placed",
                                   "the run is noted exported"])
def test_a_second_run_while_the_first_is_between_any_two_steps_is_refused(period_folder, tmp_path, capsys, where):
    counted = tmp_path / "counted"
    steps = count_steps(export_args(period_folder, counted), counted, capsys)
    commits = [i for i, (kind, _) in enumerate(steps, 1) if kind == "commit"]
    n = {"the register is created": commits[0], "the run is noted pending": commits[-2],
         "the manifest is placed": steps.index(("rename", f"{PERIOD}/manifest.json")) + 1,
         "the run is noted exported": commits[-1]}[where]
    root = tmp_path / "out"
    first = subprocess.Popen([sys.executable, "-c", PAUSED, str(n), *export_args(period_folder, root)],
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                             cwd=PROJECT_ROOT)
    try:
        assert first.stdout.readline() == f"paused {steps[n - 1][0]}\n"
        second = subprocess.run([*ledger_export_command(), *export_args(period_folder, root)], capture_output=True,
                                text=True, timeout=60, cwd=tmp_path)
    finally:
        out, err = first.communicate("\n", timeout=60)
    assert second.returncode == 5
    assert second.stderr == (f"ledger-export: error: another ledger-export run is using {root} (pid {first.pid}); "
                             f"wait for it to finish, then run again\n")
    assert first.returncode == 0, err
    state = assert_consistent(root)
    assert list(state.status.values()) == ["exported"]
    third = subprocess.run([*ledger_export_command(), *export_args(period_folder, root)], capture_output=True,
                           text=True, timeout=60, cwd=tmp_path)
    assert third.returncode == 4 and "were exported before" in third.stderr
    assert assert_consistent(root).booked == state.booked


def test_two_runs_started_together_book_each_payout_once(period_folder, tmp_path):
    for attempt in range(3):
        root = tmp_path / f"out-{attempt}"
        runs = [subprocess.Popen([*ledger_export_command(), *export_args(period_folder, root)], stdout=subprocess.PIPE,
                                 stderr=subprocess.PIPE, text=True, cwd=tmp_path) for _ in range(2)]
        ended = sorted((run.wait(timeout=60), run.stderr.read()) for run in runs)
        for run in runs:
            run.stdout.close()
            run.stderr.close()
        assert [code for code, _ in ended] in ([0, 4], [0, 5]), ended
        assert ended[0][1] == "" and ended[1][1].count("\n") == 1
        state = assert_consistent(root)
        assert list(state.status.values()) == ["exported"]
