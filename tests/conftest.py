"""Fixtures shared by every test: the bundled Amili sandbox on 127.0.0.1.

``sandbox``: a fresh sandbox seeded with the June 2025 samples, per test.
``sandbox_factory(**options)``: start one with options (data_dir, faults,
page_limit, token_ttl, api_key, ...); all are stopped when the test ends.
"""

from __future__ import annotations

import contextlib
import os

import pytest
from hypothesis import settings

# CI runs the same examples every time (a failure there is reproducible);
# local runs draw new ones, which is how the fuzz tests keep finding bugs.
settings.register_profile("ci", derandomize=True)
if os.environ.get("CI"):
    settings.load_profile("ci")


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
