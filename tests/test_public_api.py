"""The public API is the list in ledger_export.__all__: pinned here, each name importable from the package.

Changing this list is a decision (a library user's program breaks when a
name goes), so the test fails on any change until the list here changes too.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

import ledger_export

PUBLIC = [
    "__version__",
    "export", "ExportOptions", "ExportResult",
    "Config", "load_config", "Period", "month", "quarter", "date_range",
    "Register",
    "validate_sie_file", "SieFinding",
    "LedgerExportError", "ConfigError", "PeriodError", "RecordError", "SnapshotError", "OutputError",
    "AmiliError", "ChartError", "SieError", "ReconciliationFailed", "AlreadyExportedError", "RegisterError",
    "LockedError",
]
# The errors a caller catches: every one is an expected failure, not a bug.
ERRORS = ["LedgerExportError", "ConfigError", "PeriodError", "RecordError", "SnapshotError", "OutputError",
          "AmiliError", "ChartError", "SieError", "ReconciliationFailed", "AlreadyExportedError", "RegisterError",
          "LockedError"]


def test_the_public_names_are_exactly_these():
    assert ledger_export.__all__ == PUBLIC


@pytest.mark.parametrize("name", PUBLIC)
def test_each_public_name_imports_from_the_package(name):
    namespace: dict = {}
    exec(f"from ledger_export import {name}", namespace)  # the way a user's program spells it
    assert namespace[name] is getattr(ledger_export, name)


def test_the_names_are_the_objects_of_their_layers():
    from ledger_export.core.errors import LedgerExportError
    from ledger_export.core.period import Period, month
    from ledger_export.jobs.config import load
    from ledger_export.jobs.export import ExportOptions, export
    from ledger_export.jobs.register import Register
    from ledger_export.sie.validate import validate_file

    assert (ledger_export.export, ledger_export.ExportOptions, ledger_export.load_config, ledger_export.Period,
            ledger_export.month, ledger_export.Register, ledger_export.validate_sie_file,
            ledger_export.LedgerExportError) == (export, ExportOptions, load, Period, month, Register,
                                                 validate_file, LedgerExportError)
    assert ledger_export.__version__ == ledger_export.core.version.__version__


def test_every_public_error_is_an_expected_failure():
    for name in ERRORS:
        assert issubclass(getattr(ledger_export, name), ledger_export.LedgerExportError), name


def test_star_import_gives_the_public_names():
    namespace: dict = {}
    exec("from ledger_export import *", namespace)
    assert sorted(k for k in namespace if k != "__builtins__") == sorted(PUBLIC)


def test_an_unknown_name_is_an_attribute_error():
    with pytest.raises(AttributeError, match="has no attribute 'exportt'"):
        ledger_export.exportt  # noqa: B018


def test_the_names_a_type_checker_sees_are_the_public_ones():
    # The package loads its names on first use; the imports under TYPE_CHECKING are what mypy
    # and editors see. Both lists must name the same objects.
    tree = ast.parse(Path(ledger_export.__file__).read_text(encoding="utf-8"))
    (block,) = [n for n in tree.body if isinstance(n, ast.If) and getattr(n.test, "id", "") == "TYPE_CHECKING"]
    seen = {alias.asname or alias.name: (node.module, alias.name) for node in block.body
            for alias in node.names if isinstance(node, ast.ImportFrom)}
    assert seen == ledger_export._WHERE
    assert sorted(seen) == sorted(set(PUBLIC) - {"__version__"})


def test_importing_the_package_does_not_load_the_export_job():
    # `ledger-export --version` and every sandbox process import the package; the export job's
    # libraries load only when a public name that needs them is used.
    code = ("import sys, ledger_export, ledger_export.core.errors; "
            "print(sorted(m for m in ('xlsxwriter', 'jinja2', 'requests', 'ledger_export.jobs.export') "
            "if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
