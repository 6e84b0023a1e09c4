"""The wheel carries everything the tool reads at run time, and finds it without the checkout.

Building and installing the wheel itself is CI's job (.ci/run: a clean
virtualenv outside the checkout runs init, demo and validate); these tests
catch, in seconds, the mistakes that would break it: a subpackage or a data
file left out of pyproject.toml, or data found beside the checkout instead
of through the import system.
"""

from __future__ import annotations

import fnmatch
import os
import shutil
import subprocess
import sys
import tomllib
from importlib.resources import files
from pathlib import Path

import pytest

import ledger_export
from ledger_export.core import resources

ROOT = Path(__file__).resolve().parents[1]
SETUPTOOLS = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["setuptools"]
DATA_PACKAGES = {"ledger_export.templates": ROOT / "templates", "ledger_export.samples": ROOT / "samples"}
# In the checkout only: the generator that writes the sample period, and notes for readers of the repo.
CHECKOUT_ONLY = {"samples/README.md", "samples/keys/README.md", "samples/generator/*"}


def _shipped(package: str, relative: str) -> bool:
    return any(fnmatch.fnmatch(relative, pattern) for pattern in SETUPTOOLS["package-data"].get(package, []))


def test_every_subpackage_is_listed_for_the_wheel():
    package_root = Path(ledger_export.__file__).parent
    found = {".".join(("ledger_export", *init.parent.relative_to(package_root).parts))
             for init in package_root.rglob("__init__.py")}
    assert found <= set(SETUPTOOLS["packages"])
    assert set(SETUPTOOLS["packages"]) == found | set(DATA_PACKAGES)


def test_the_data_packages_are_the_folders_at_the_top_of_the_repo():
    assert {name: ROOT / folder for name, folder in SETUPTOOLS["package-dir"].items()} == DATA_PACKAGES
    assert resources.TEMPLATES == files("ledger_export.templates") == ROOT / "templates"
    assert resources.SAMPLES == files("ledger_export.samples") == ROOT / "samples"


@pytest.mark.parametrize("package", sorted(DATA_PACKAGES))
def test_every_data_file_but_the_checkout_only_ones_goes_into_the_wheel(package):
    folder = DATA_PACKAGES[package]
    left_out = []
    for path in sorted(folder.rglob("*")):
        relative = path.relative_to(folder).as_posix()
        in_repo = path.relative_to(ROOT).as_posix()
        if not path.is_file() or "__pycache__" in path.parts or relative == "__init__.py":
            continue
        if not _shipped(package, relative) and not any(fnmatch.fnmatch(in_repo, p) for p in CHECKOUT_ONLY):
            left_out.append(in_repo)
    assert left_out == []


def test_what_the_tool_reads_at_run_time_is_shipped():
    from ledger_export.jobs.demo import SAMPLE_CONFIG
    from ledger_export.jobs.starter import STARTER_FILE
    from ledger_export.ledger.texts import DEFAULT_FILES
    from ledger_export.sandbox.data import DEFAULT_FOLDER, RESOURCES
    from ledger_export.sandbox.server import PRIVATE_KEY, PUBLIC_KEY

    templates = [STARTER_FILE, "sie4i.si.j2", *DEFAULT_FILES.values()]
    samples = [SAMPLE_CONFIG, PUBLIC_KEY, PRIVATE_KEY, resources.SAMPLES / "payments.csv",
               *(DEFAULT_FOLDER / f"{name}.json" for name in RESOURCES),
               *sorted((DEFAULT_FOLDER / "media").glob("*.pdf"))]
    for name in templates:
        assert (resources.TEMPLATES / name).is_file(), name
        assert _shipped("ledger_export.templates", name), name
    for path in samples:
        assert path.is_file(), path
        assert _shipped("ledger_export.samples", path.relative_to(resources.SAMPLES).as_posix()), path


def test_the_generator_scripts_stay_out_of_the_wheel():
    # Modules of a listed package always go in; the scripts sit in a folder that is no package.
    assert [p.name for p in resources.SAMPLES.glob("*.py")] == ["__init__.py"]
    assert [p.name for p in resources.TEMPLATES.glob("*.py")] == ["__init__.py"]
    assert not any(_shipped("ledger_export.samples", f"generator/{p.name}")
                   for p in (resources.SAMPLES / "generator").iterdir())


def _install_as_the_wheel_would(site: Path) -> None:
    """The package's modules and only the shipped data files, laid out as pip unpacks the wheel."""
    shutil.copytree(Path(ledger_export.__file__).parent, site / "ledger_export",
                    ignore=shutil.ignore_patterns("__pycache__"))
    for package, folder in DATA_PACKAGES.items():
        for path in folder.rglob("*"):
            relative = path.relative_to(folder).as_posix()
            if path.is_file() and (relative == "__init__.py" or _shipped(package, relative)):
                target = site.joinpath(*package.split("."), relative)
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(path, target)


def test_init_demo_and_validate_work_from_an_empty_folder_with_only_what_the_wheel_carries(tmp_path):
    site, work = tmp_path / "site", tmp_path / "empty"
    _install_as_the_wheel_would(site)
    work.mkdir()
    # PYTHONPATH comes before the editable install, so the checkout is not where the data is found.
    env = {**os.environ, "PYTHONPATH": str(site)}

    def run(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, *args], cwd=work, env=env, capture_output=True, text=True,
                              timeout=300)

    found = run("-c", "from ledger_export.core import resources; print(resources.TEMPLATES, resources.SAMPLES)")
    assert found.stdout.split() == [str(site / "ledger_export" / "templates"), str(site / "ledger_export" / "samples")]
    init = run("-m", "ledger_export", "init")
    assert init.returncode == 0, init.stderr
    assert (work / "ledger-export.toml").read_text(encoding="utf-8") == (ROOT / "templates" / "ledger-export.toml") \
        .read_text(encoding="utf-8")
    demo = run("-m", "ledger_export", "demo", "--quiet")
    assert demo.returncode == 0, demo.stderr
    validate = run("-m", "ledger_export", "validate", "demo/2025-06/ledger-2025-06.si")
    assert (validate.returncode, validate.stdout) == (0, "demo/2025-06/ledger-2025-06.si: ok\n"), validate.stderr
    assert len(list((work / "demo" / "2025-06" / "self-invoices").glob("*.pdf"))) == 4


def test_the_license_is_an_spdx_expression_with_its_file():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    assert project["license"] == "MIT"
    assert [(ROOT / name).read_text(encoding="utf-8").splitlines()[0] for name in project["license-files"]] \
        == ["MIT License"]


@pytest.mark.parametrize("command", [["demo"], ["sandbox", "--port", "0"]])
def test_without_the_sandbox_extra_demo_and_sandbox_say_what_to_install(command, tmp_path):
    # mongomock set to None in sys.modules: importing it fails as it does when the extra is not installed.
    script = ("import sys; sys.modules['mongomock'] = None; from ledger_export.cli import main; "
              f"sys.exit(main({command!r}))")
    done = subprocess.run([sys.executable, "-c", script], cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert done.returncode == 1
    assert done.stdout == ""
    assert done.stderr.splitlines() == [
        f"ledger-export: error: the {command[0]} needs the sandbox extra "
        "(pip install 'ledger-export[sandbox]'): import of mongomock halted; None in sys.modules"]
    assert list(tmp_path.iterdir()) == []
