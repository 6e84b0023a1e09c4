"""Outputs from other packages: they join through the entry-point group ``ledger_export.outputs``.

Adding an output is one class in one module plus its tests: nothing in
ledger-export changes, and the export publishes the file, lists it in the
manifest and records it in the register with the rest.
"""

from __future__ import annotations

import hashlib
import json
import sys
from datetime import date
from pathlib import Path

import pytest

from support.audit_pack import COMPANY, DATA, GENERATED, LEDGER, MAPPING_ROWS, PAYOUTS
from ledger_export.amili.auth import StaticToken
from ledger_export.core.errors import OutputError
from ledger_export.core.period import month
from ledger_export.core.resources import SAMPLES
from ledger_export.jobs import config as config_module
from ledger_export.jobs.export import ExportOptions, export
from ledger_export.jobs.register import Register
from ledger_export.outputs.base import RunData
from ledger_export.outputs.bundle import OutputNames, RunSettings
from ledger_export.outputs.registry import choose, output_names, render_outputs

BUILT_IN = ("raw", "self-invoices", "sie", "workbook", "vouchers", "invoice-payments", "manifest")
RUN = RunData(settings=RunSettings(company=COMPANY, ksumma=False, mapping_rows=MAPPING_ROWS, config_sha256="ee" * 32),
              data=DATA, ledger=LEDGER, documents=(), snapshot={}, generated=GENERATED,
              names=OutputNames(DATA.period))


def run(sandbox, out: Path, **options):
    config = config_module.load(SAMPLES / "ledger-export.toml",
                                overrides={"amili.base_url": sandbox.base_url, "output.folder": str(out)})
    return export(config, month("2025-06"), ExportOptions(generated=date(2025, 7, 1), **options),
                  tokens=StaticToken(sandbox.api_key))


def listed(folder: Path) -> dict[str, tuple[int, str]]:
    doc = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    return {e["name"]: (e["size"], e["sha256"]) for e in doc["outputs"]}


PLUGIN = '''
class PayoutsCsv:
    """A third party's output: the payouts as CSV, beside the SIE file."""

    name = "payouts-csv"

    def render(self, run):
        lines = ["id;total_amount"] + [f"{p.id};{p.total_amount}" for p in run.data.payouts]
        return {f"{run.names.stem}-payouts.csv": ("\\n".join(lines) + "\\n").encode("utf-8")}


class Misnamed(PayoutsCsv):
    name = "something-else"


class Failing(PayoutsCsv):
    def render(self, run):
        raise ValueError("no payouts here\\nsecond line")
'''


@pytest.fixture
def install_plugin(tmp_path, monkeypatch):
    """``install_plugin(entry_points_txt)``: a distribution on sys.path declaring those entry points,
    as ``pip install`` of a package with a ``[project.entry-points."ledger_export.outputs"]`` table leaves it."""
    module = "ledger_export_csv_plugin"

    def install(lines: str) -> None:
        site = tmp_path / "site"
        info = site / f"{module}-1.0.dist-info"
        info.mkdir(parents=True)
        (site / f"{module}.py").write_text(PLUGIN, encoding="utf-8")
        (info / "METADATA").write_text("Metadata-Version: 2.1\nName: ledger-export-csv-plugin\nVersion: 1.0\n")
        (info / "entry_points.txt").write_text(f"[ledger_export.outputs]\n{lines}\n")
        monkeypatch.syspath_prepend(str(site))
        monkeypatch.delitem(sys.modules, module, raising=False)

    yield install
    sys.modules.pop(module, None)


def test_a_plugin_joins_through_its_entry_point(install_plugin):
    install_plugin("payouts-csv = ledger_export_csv_plugin:PayoutsCsv")
    assert output_names() == (*BUILT_IN[:-1], "payouts-csv", "manifest")
    files = render_outputs(RUN, choose())
    assert list(files)[-2:] == ["ledger-2025-06-payouts.csv", "manifest.json"]
    assert files["ledger-2025-06-payouts.csv"].decode().splitlines()[1] == f"{PAYOUTS[0].id};12345.67"
    in_manifest = [e["name"] for e in json.loads(files["manifest.json"])["outputs"]]
    assert "ledger-2025-06-payouts.csv" in in_manifest
    # Chosen by name like any other, and left out like any other.
    assert "ledger-2025-06-payouts.csv" not in render_outputs(RUN, choose(["sie"]))


@pytest.mark.parametrize("entry, problem", [
    ("payouts-csv = ledger_export_no_such_module:PayoutsCsv",
     "output plugin 'payouts-csv' (ledger_export_no_such_module:PayoutsCsv) could not be loaded: "
     "ModuleNotFoundError: No module named 'ledger_export_no_such_module'"),
    ("payouts-csv = ledger_export_csv_plugin:Missing",
     "output plugin 'payouts-csv' (ledger_export_csv_plugin:Missing) could not be loaded: AttributeError: "),
    ("payouts-csv = ledger_export_csv_plugin:Misnamed",
     "output plugin 'payouts-csv' (ledger_export_csv_plugin:Misnamed) is not an output: "
     "it needs name = 'payouts-csv' and a render(run) method"),
    ("sie = ledger_export_csv_plugin:PayoutsCsv",
     "output plugin 'sie' (ledger_export_csv_plugin:PayoutsCsv) uses the name of a built-in output"),
])
def test_a_broken_plugin_is_a_one_line_error_naming_it(install_plugin, entry, problem):
    install_plugin(entry)
    with pytest.raises(OutputError) as error:
        choose()
    assert str(error.value).startswith(problem) and "\n" not in str(error.value)


def test_a_plugin_that_fails_while_rendering_is_a_one_line_error_naming_it(install_plugin):
    install_plugin("payouts-csv = ledger_export_csv_plugin:Failing")
    with pytest.raises(OutputError) as error:
        render_outputs(RUN, choose())
    assert str(error.value) == "output plugin 'payouts-csv' failed: ValueError: no payouts here\\nsecond line"


def test_a_broken_plugin_does_not_stop_a_run_that_does_not_ask_for_it(install_plugin):
    install_plugin("payouts-csv = ledger_export_no_such_module:PayoutsCsv")
    assert [o.name for o in choose(["sie"])] == ["raw", "sie", "manifest"]


def test_an_export_publishes_lists_and_registers_a_plugins_file_with_the_rest(sandbox, tmp_path, install_plugin):
    install_plugin("payouts-csv = ledger_export_csv_plugin:PayoutsCsv")
    result = run(sandbox, tmp_path / "out")
    folder = tmp_path / "out" / "2025-06"
    csv = (folder / "ledger-2025-06-payouts.csv").read_bytes()
    assert csv.decode("utf-8").splitlines()[0] == "id;total_amount" and len(csv.splitlines()) == 1 + 13
    assert listed(folder)["ledger-2025-06-payouts.csv"] == (len(csv), hashlib.sha256(csv).hexdigest())
    assert folder / "ledger-2025-06-payouts.csv" in result.files
    with Register.open(tmp_path / "out", read_only=True) as register:
        assert "2025-06/ledger-2025-06-payouts.csv" in register.run_files(result.run_id)

    # The next run of the period gets its own name for it too.
    again = run(sandbox, tmp_path / "out", force=True, outputs=("payouts-csv",))
    assert (folder / "ledger-2025-06-run2-payouts.csv").read_bytes() == csv
    assert sorted(f.name for f in again.files) == ["ledger-2025-06-run2-payouts.csv", "manifest-run2.json",
                                                   "raw-run2"]
