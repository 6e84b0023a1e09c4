"""The test suite's own rules: every test module stands alone, and ../shared is found in one place.

A test module that imports another runs that module's tests' set-up twice,
ties their fates together and hides what is shared; shared builders live in
tests/support/ and fixtures in conftest.py. The SIE samples and corpus stay
in ../shared beside the checkout; only conftest.py knows where, so a test
that needs them is skipped with the same clear reason wherever they are absent.
"""

from __future__ import annotations

import ast
from pathlib import Path

TESTS = Path(__file__).resolve().parent
TEST_MODULES = sorted(TESTS.glob("test_*.py"))
SUPPORT = sorted((TESTS / "support").glob("*.py"))
# Not test modules, yet a test module may not import them either: pytest loads them itself.
NOT_IMPORTABLE = {p.stem for p in TEST_MODULES} | {"conftest"}


def imported_modules(path: Path) -> list[tuple[int, str]]:
    """Every module ``path`` imports, at the top or inside a function, with its line."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append((node.lineno, node.module))
        elif isinstance(node, ast.Call) and getattr(node.func, "attr", getattr(node.func, "id", "")) in (
                "import_module", "__import__") and node.args and isinstance(node.args[0], ast.Constant):
            found.append((node.lineno, str(node.args[0].value)))
    return found


def test_the_scan_sees_every_kind_of_import(tmp_path):
    sample = tmp_path / "test_sample.py"
    sample.write_text("import test_a\nfrom test_b import x\ndef f():\n    from conftest import y\n"
                      "    import importlib\n    importlib.import_module('test_c')\nfrom support.records import z\n")
    assert sorted(imported_modules(sample)) == [(1, "test_a"), (2, "test_b"), (4, "conftest"), (5, "importlib"),
                                                (6, "test_c"), (7, "support.records")]


def test_the_suite_has_its_modules_and_its_support_package():
    assert len(TEST_MODULES) > 60 and (TESTS / "support" / "__init__.py").is_file()
    assert not (TESTS / "__init__.py").exists()  # tests/ is a folder of scripts, not a package to import from


def test_no_test_module_imports_another_test_module():
    offenders = [f"{path.name}:{line} imports {name}" for path in TEST_MODULES + SUPPORT
                 for line, name in imported_modules(path) if name.split(".")[0] in NOT_IMPORTABLE]
    assert offenders == [], "move what they share into tests/support/ or a conftest.py fixture"


def test_support_modules_hold_no_tests():
    holding = [f"{path.name}: {node.name}" for path in SUPPORT
               for node in ast.parse(path.read_text(encoding="utf-8")).body
               if isinstance(node, (ast.FunctionDef, ast.ClassDef)) and node.name.lower().startswith("test")]
    assert holding == []


def _mentions_shared_folder(path: Path) -> list[int]:
    """Lines where ``path`` spells the shared folder in code (docstrings may name it)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    docstrings = {id(node.value) for node in ast.walk(tree) if isinstance(node, ast.Expr)}
    return [node.lineno for node in ast.walk(tree)
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings
            and (node.value in ("shared", "../shared") or "shared/" in node.value or "shared\\" in node.value)]


def test_only_conftest_knows_where_the_shared_folder_is():
    assert _mentions_shared_folder(TESTS / "conftest.py")  # the one place
    scanned = [path for path in TEST_MODULES + SUPPORT if path.name != Path(__file__).name]  # not this checker
    offenders = {path.name: lines for path in scanned if (lines := _mentions_shared_folder(path))}
    assert offenders == {}, "ask for the shared_sie fixture instead"
