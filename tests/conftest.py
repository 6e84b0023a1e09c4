"""Fixtures shared by every test: the bundled Amili sandbox on 127.0.0.1.

``sandbox``: a fresh sandbox seeded with the June 2025 samples, per test.
``sandbox_factory(**options)``: start one with options (data_dir, faults,
page_limit, token_ttl, api_key, ...); all are stopped when the test ends.
``demo_period``: the demo's June folder, made once per session (read-only).
``raw_copy``: a copy of it per test, whose raw snapshot the test may doctor.
``shared_sie``: ../shared/sie beside the checkout (real SIE files of other programs), or a skip.

Builders the tests share live in the ``support`` package beside this file;
no test module imports another (tests/test_suite_hygiene.py).
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
from pathlib import Path

import pytest
import simplejson
from hypothesis import settings

# CI runs the same examples every time (a failure there is reproducible);
# local runs draw new ones, which is how the fuzz tests keep finding bugs.
settings.register_profile("ci", derandomize=True)
if os.environ.get("CI"):
    settings.load_profile("ci")


# The SIE samples and corpus stay in ../shared/sie, beside the checkout; they are never
# copied into the repository (they belong to other projects). CI clones beside them.
SHARED_SIE = Path(__file__).resolve().parents[2] / "shared" / "sie"


@pytest.fixture(scope="session")
def shared_sie() -> Path:
    """The folder ../shared/sie: ``samples/`` (SIE files exported by other programs, with the defects
    test_sie_samples lists) and ``corpus/``. The only place a test learns where it is; where it is
    absent, every test that asks for it is skipped, saying where it was looked for."""
    if not (SHARED_SIE / "samples").is_dir():
        pytest.skip(f"shared SIE samples not found at {SHARED_SIE / 'samples'} "
                    "(CI clones the repository beside shared/)")
    return SHARED_SIE


@pytest.fixture
def sandbox_factory():
    from ledger_export.sandbox import Sandbox

    with contextlib.ExitStack() as stack:
        def start(data_dir=None, **options) -> Sandbox:
            return stack.enter_context(Sandbox(data_dir, **options))

        yield start


@pytest.fixture
def sandbox(sandbox_factory):
    return sandbox_factory()


@pytest.fixture(scope="session")
def demo_period(tmp_path_factory):
    """The demo's June 2025 folder (raw/ snapshot, self-invoices/, books), made once over HTTP
    from the sandbox. Read-only: copy it (shutil.copytree) before changing anything in it."""
    from ledger_export.jobs.demo import run_demo

    out = tmp_path_factory.mktemp("demo")
    run_demo(out)
    return out / "2025-06"


class RawCopy:
    """A copy of the demo's June folder whose raw snapshot a test may doctor.

    ``raw`` is the snapshot folder. ``write_list`` replaces a list file and
    vouches for it in snapshot.json (its SHA-256), as a careful forger would,
    so that the check under test is the one that fires.
    """

    def __init__(self, folder):
        self.folder = folder
        self.raw = folder / "raw"

    def read(self, name: str):
        return simplejson.loads((self.raw / name).read_bytes(), use_decimal=True)

    def write(self, name: str, value) -> None:
        (self.raw / name).write_bytes(simplejson.dumps(value, use_decimal=True).encode("utf-8"))

    def change_index(self, change) -> None:
        """``change(index)`` edits the index in place, or returns what replaces it."""
        index = self.read("snapshot.json")
        replaced = change(index)
        self.write("snapshot.json", index if replaced is None else replaced)

    def write_list(self, name: str, value) -> None:
        """``value``: the items, or the file's bytes."""
        data = value if isinstance(value, bytes) else simplejson.dumps(value, use_decimal=True).encode("utf-8")
        (self.raw / name).write_bytes(data)
        self.change_index(lambda index: index["sha256"].update({name: hashlib.sha256(data).hexdigest()}))


@pytest.fixture
def raw_copy(demo_period, tmp_path) -> RawCopy:
    shutil.copytree(demo_period, tmp_path / "in" / "2025-06")
    return RawCopy(tmp_path / "in" / "2025-06")
