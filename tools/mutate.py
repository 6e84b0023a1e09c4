"""Mutation testing of the ten core modules: would the tests notice if the code were subtly wrong?

Not part of CI (a full run takes tens of minutes). Each mutant is one small
change to one module (a comparison flipped, ``and`` for ``or``, ``+`` for
``-``, 0 for 1, a ``not`` or a minus dropped, a condition made always true
or false, a ``raise`` or ``return`` or a call statement removed, ``abs()``
dropped); the tests of that module alone (MODULES below) run against it, in a
fresh process that loads the mutated module in place of the file. A mutant
the tests do not fail is a *survivor*: either a missing assertion, or a
change that cannot alter behaviour (an equivalent mutant).

    .venv/bin/python tools/mutate.py                          # every module, every mutant
    .venv/bin/python tools/mutate.py --module money --module text
    .venv/bin/python tools/mutate.py --limit 40 --jobs 2      # a seeded sample of 40 per module
    .venv/bin/python tools/mutate.py --module reconcile --list   # the mutants, not run
    .venv/bin/python tools/mutate.py --json out.json          # also every result, for later

It prints, per module, the mutants run, killed, survived and the score
(killed / run), then each survivor as ``file:line  what  original -> mutant``.
Exit code 0 whatever the score: this measures, it does not gate.

Limits: tests that start another Python process (the CLI, crash-matrix and
sandbox-process tests) see the real module, not the mutant, so they are
left out of the mapping. ``fs_step(...)`` calls (the crash tests' seam) and
logging are not mutated. Hypothesis runs with its CI profile (derandomized),
so a result is the same every time.
"""

from __future__ import annotations

import argparse
import ast
import importlib.abc
import importlib.util
import json
import os
import random
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "ledger_export"


@dataclass(frozen=True)
class Target:
    module: str               # dotted name
    tests: tuple[str, ...]    # test files under tests/ that exercise it in-process
    only: tuple[str, ...] = ()  # top-level functions/classes to mutate (empty: the whole module)


# The tests relevant to each module: the ones that call it, directly or through the ledger or
# writer built on it, in-process and in seconds. Short names for --module.
MODULES: dict[str, Target] = {
    "money": Target("ledger_export.core.money", ("test_money.py", "test_models.py", "test_reconcile.py",
                                                 "test_sie_writer.py")),
    "vouchers": Target("ledger_export.ledger.vouchers", ("test_ledger_vouchers.py", "test_reconcile.py",
                                                         "test_ledger_properties.py", "test_ledger_summary.py",
                                                         "test_ledger_chart.py", "test_ledger_sample.py")),
    "reconcile": Target("ledger_export.ledger.reconcile", ("test_reconcile.py", "test_ledger_vouchers.py",
                                                           "test_ledger_properties.py", "test_ledger_sample.py")),
    "mapping": Target("ledger_export.ledger.mapping", ("test_mapping.py", "test_config_ledger.py",
                                                       "test_ledger_vouchers.py")),
    "writer": Target("ledger_export.sie.writer", ("test_sie_writer.py", "test_sie_fast_paths.py",
                                                  "test_sie_text.py", "test_ascii_digits.py")),
    "text": Target("ledger_export.sie.text", ("test_sie_text.py", "test_sie_writer.py", "test_sie_fast_paths.py")),
    "check_vouchers": Target("ledger_export.sie.check_vouchers", ("test_sie_validate.py", "test_sie_samples.py",
                                                                  "test_sie_reader.py")),
    "register": Target("ledger_export.jobs.register", ("test_register_file.py", "test_register.py",
                                                       "test_register_since.py", "test_register_trust.py",
                                                       "test_lock.py")),
    "register_check": Target("ledger_export.jobs.register_check", ("test_register.py", "test_register_since.py",
                                                                   "test_register_trust.py")),
    "publish": Target("ledger_export.core.files", ("test_files.py", "test_register_trust.py"),
                      only=("refuse_links", "rename_noreplace", "_fsync_folder", "_place", "_fill", "_Moves",
                            "_targets", "publish")),
}

# Calls whose removal says nothing about the books: the crash tests' seam and logging.
UNMUTATED_CALLS = {"fs_step", "debug", "info", "warning", "log"}
COMPARE_SWAPS = {ast.Eq: ast.NotEq, ast.NotEq: ast.Eq, ast.Lt: ast.LtE, ast.LtE: ast.Lt, ast.Gt: ast.GtE,
                 ast.GtE: ast.Gt, ast.In: ast.NotIn, ast.NotIn: ast.In, ast.Is: ast.IsNot, ast.IsNot: ast.Is}
SYMBOL = {ast.Eq: "==", ast.NotEq: "!=", ast.Lt: "<", ast.LtE: "<=", ast.Gt: ">", ast.GtE: ">=", ast.In: "in",
          ast.NotIn: "not in", ast.Is: "is", ast.IsNot: "is not", ast.Add: "+", ast.Sub: "-", ast.And: "and",
          ast.Or: "or"}


@dataclass(frozen=True)
class Mutant:
    target: str   # short module name
    number: int   # within the module, in source order
    order: int    # the node's place in ast.walk order: how the child finds it again
    kind: str     # compare, boolop, binop, constant, not, minus, condition, raise, return, call, abs
    arg: str      # which variant of the kind (an operator index, "True"/"False")
    line: int
    what: str     # "<= for <", "if ... -> True"


# -- finding the mutants ------------------------------------------------------------------

def _source(target: Target) -> tuple[Path, str]:
    path = PACKAGE.joinpath(*target.module.split(".")[1:]).with_suffix(".py")
    return path, path.read_text(encoding="utf-8")


def _parents(tree: ast.AST) -> dict[int, ast.AST]:
    return {id(child): node for node in ast.walk(tree) for child in ast.iter_child_nodes(node)}


def _skipped(node: ast.AST, parents: dict[int, ast.AST], only: tuple[str, ...]) -> bool:
    """Annotations, decorators, TYPE_CHECKING blocks, __all__, and (with ``only``) the other definitions."""
    chain, child, parent = [], node, parents.get(id(node))
    while parent is not None:
        if isinstance(parent, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) and any(
                child is d for d in parent.decorator_list):
            return True  # @dataclass(frozen=True): immutability is a guard, not behaviour
        if (isinstance(parent, (ast.arg, ast.AnnAssign)) and child is parent.annotation) or (
                isinstance(parent, (ast.FunctionDef, ast.AsyncFunctionDef)) and child is parent.returns):
            return True
        if isinstance(parent, ast.If) and isinstance(parent.test, ast.Name) and parent.test.id == "TYPE_CHECKING":
            return True
        if isinstance(parent, ast.Assign) and any(getattr(t, "id", "") == "__all__" for t in parent.targets):
            return True
        chain.append(parent)
        child, parent = parent, parents.get(id(parent))
    if only:
        top = chain[-2] if len(chain) >= 2 else node  # the definition directly under the module
        return not (isinstance(top, (ast.FunctionDef, ast.ClassDef)) and top.name in only)
    return False


def _is_text(node: ast.AST) -> bool:
    return isinstance(node, ast.JoinedStr) or (isinstance(node, ast.Constant) and isinstance(node.value, str))


def _call_name(call: ast.Call) -> str:
    func = call.func
    return func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else ""


def _variants(node: ast.AST, parents: dict[int, ast.AST]) -> list[tuple[str, str, str]]:
    """(kind, arg, description) for each mutation of ``node`` itself."""
    out: list[tuple[str, str, str]] = []
    if isinstance(node, ast.Compare):
        for i, op in enumerate(node.ops):
            new = COMPARE_SWAPS.get(type(op))
            if new:
                out.append(("compare", str(i), f"{SYMBOL[new]} for {SYMBOL[type(op)]}"))
    elif isinstance(node, ast.BoolOp):
        other = ast.Or if isinstance(node.op, ast.And) else ast.And
        out.append(("boolop", "", f"{SYMBOL[other]} for {SYMBOL[type(node.op)]}"))
    elif isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Add, ast.Sub)):
        if not (_is_text(node.left) or _is_text(node.right)):
            other = ast.Sub if isinstance(node.op, ast.Add) else ast.Add
            out.append(("binop", "", f"{SYMBOL[other]} for {SYMBOL[type(node.op)]}"))
    elif isinstance(node, ast.Constant) and type(node.value) in (int, bool):
        if node.value is True or node.value is False:
            out.append(("constant", "", f"{not node.value} for {node.value}"))
        elif node.value in (0, 1):
            out.append(("constant", "", f"{1 - node.value} for {node.value}"))
    elif isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
        out.append(("not", "", "`not` dropped"))
    elif isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub) and not isinstance(node.operand,
                                                                                           ast.Constant):
        out.append(("minus", "", "unary minus dropped"))
    elif isinstance(node, (ast.If, ast.While, ast.IfExp)):
        word = {ast.If: "if", ast.While: "while", ast.IfExp: "... if ... else"}[type(node)]
        out += [("condition", "True", f"{word} condition -> True"), ("condition", "False", f"{word} condition -> False")]
    elif isinstance(node, ast.Raise):
        out.append(("raise", "", "raise removed"))
    elif isinstance(node, ast.Return):
        out.append(("return", "", "return removed"))
    elif isinstance(node, ast.Expr) and isinstance(node.value, ast.Call):
        if _call_name(node.value) not in UNMUTATED_CALLS:
            out.append(("call", "", f"call {_call_name(node.value)}() removed"))
    elif isinstance(node, ast.Call) and _call_name(node) == "abs" and len(node.args) == 1:
        out.append(("abs", "", "abs() dropped"))
    return out


def mutants(name: str) -> list[Mutant]:
    target = MODULES[name]
    _, source = _source(target)
    tree = ast.parse(source)
    parents = _parents(tree)
    found = []
    for order, node in enumerate(ast.walk(tree)):
        if not hasattr(node, "lineno") or _skipped(node, parents, target.only):
            continue
        for kind, arg, what in _variants(node, parents):
            found.append((node.lineno, getattr(node, "col_offset", 0), order, kind, arg, what))
    found.sort()
    return [Mutant(name, i, order, kind, arg, line, what)
            for i, (line, _, order, kind, arg, what) in enumerate(found, 1)]


# -- applying one -------------------------------------------------------------------------

def _replace(parent: ast.AST, old: ast.AST, new: ast.AST) -> None:
    for field, value in ast.iter_fields(parent):
        if value is old:
            setattr(parent, field, new)
            return
        if isinstance(value, list) and any(v is old for v in value):
            value[[i for i, v in enumerate(value) if v is old][0]] = new
            return
    raise LookupError("node not found under its parent")


def mutated_tree(mutant: Mutant) -> ast.Module:
    _, source = _source(MODULES[mutant.target])
    tree = ast.parse(source)
    nodes = list(ast.walk(tree))
    parents = _parents(tree)
    node = nodes[mutant.order]
    parent = parents.get(id(node))
    kind = mutant.kind
    if kind == "compare":
        i = int(mutant.arg)
        node.ops[i] = COMPARE_SWAPS[type(node.ops[i])]()
    elif kind == "boolop":
        node.op = ast.Or() if isinstance(node.op, ast.And) else ast.And()
    elif kind == "binop":
        node.op = ast.Sub() if isinstance(node.op, ast.Add) else ast.Add()
    elif kind == "constant":
        node.value = (not node.value) if isinstance(node.value, bool) else 1 - node.value
    elif kind in ("not", "minus"):
        _replace(parent, node, node.operand)
    elif kind == "abs":
        _replace(parent, node, node.args[0])
    elif kind == "condition":
        node.test = ast.Constant(mutant.arg == "True")
    elif kind in ("raise", "return", "call"):
        _replace(parent, node, ast.Pass())
    return ast.fix_missing_locations(tree)


def _shown(tree: ast.Module, mutant: Mutant) -> str:
    """The mutated expression (or the condition's statement head) in ``tree``, as one line."""
    nodes = list(ast.walk(tree))
    parents = _parents(tree)
    node = nodes[mutant.order]
    parent = parents.get(id(node))
    if mutant.kind in ("constant", "not", "minus", "abs") and isinstance(parent, (ast.expr, ast.keyword)):
        node = parent
    elif mutant.kind == "constant" and isinstance(parent, (ast.Return, ast.Assign, ast.AugAssign)):
        node = parent
    if isinstance(node, ast.If):
        return f"if {ast.unparse(node.test)}:"
    if isinstance(node, ast.While):
        return f"while {ast.unparse(node.test)}:"
    text = " ".join(ast.unparse(node).split())
    return text if len(text) <= 140 else text[:137] + "..."


def mutated_snippet(mutant: Mutant) -> tuple[str, str]:
    """The mutated expression as written and as mutated (for the survivor report)."""
    _, source = _source(MODULES[mutant.target])
    if mutant.kind in ("raise", "return", "call"):
        return source.splitlines()[mutant.line - 1].strip(), "pass"
    mutated = mutated_tree(mutant)
    original = ast.parse(source)
    # Orders before the mutated node are the same in both trees; a replaced node's parent comes first.
    return _shown(original, mutant), _shown(mutated, mutant)


class _MutantLoader(importlib.abc.Loader):
    def __init__(self, code):
        self.code = code

    def create_module(self, spec):
        return None

    def exec_module(self, module):
        exec(self.code, module.__dict__)


class _MutantFinder(importlib.abc.MetaPathFinder):
    """Finds the one mutated module before the real file is looked at; everything else as usual."""

    def __init__(self, name: str, path: Path, code):
        self.name, self.path, self.code = name, path, code

    def find_spec(self, fullname, path=None, target=None):
        if fullname != self.name:
            return None
        return importlib.util.spec_from_file_location(fullname, self.path, loader=_MutantLoader(self.code))


def child(name: str, number: int, tests: list[str]) -> int:
    """Run ``tests`` against mutant ``number`` of module ``name`` (0: the module unchanged)."""
    import pytest

    target = MODULES[name]
    if number:
        mutant = mutants(name)[number - 1]
        path, _ = _source(target)
        code = compile(mutated_tree(mutant), str(path), "exec")
        assert target.module not in sys.modules, f"{target.module} was imported before the mutant"
        sys.meta_path.insert(0, _MutantFinder(target.module, path, code))
    return pytest.main([*tests, "-x", "-q", "-p", "no:cacheprovider", "-o", "addopts=", "--no-header",
                        "-W", "ignore"])


# Libraries the tests import, loaded once by each worker before it forks a process per mutant:
# a mutant then costs its tests, not Python's start (about 1.5 s of 2). Never ledger_export:
# the mutated module must be the first of the package to load in each forked process.
PRELOAD = ("pytest", "hypothesis", "syrupy", "openpyxl", "jinja2", "requests", "simplejson", "dateutil",
           "jwt", "sqlite3", "decimal")


def worker(name: str, tests: list[str], timeout: float) -> None:
    """Read mutant numbers from stdin; for each, fork, run the tests, and answer with the outcome."""
    import importlib
    import signal

    for library in PRELOAD:
        try:
            importlib.import_module(library)
        except ImportError:
            pass
    for line in sys.stdin:
        number = int(line)
        pid = os.fork()
        if pid == 0:
            null = os.open(os.devnull, os.O_WRONLY)
            os.dup2(null, 1)
            os.dup2(null, 2)
            try:
                code = child(name, number, tests)
            except BaseException:
                code = 3
            os._exit(int(code))
        deadline = time.monotonic() + timeout
        while True:
            done, status = os.waitpid(pid, os.WNOHANG)
            if done:
                code = os.waitstatus_to_exitcode(status)
                outcome = {0: "survived", 1: "killed", 2: "killed"}.get(code, "error")
                break
            if time.monotonic() > deadline:
                os.kill(pid, signal.SIGKILL)
                os.waitpid(pid, 0)
                outcome = "timeout"
                break
            time.sleep(0.02)
        print(outcome, flush=True)


# -- running them -------------------------------------------------------------------------

@dataclass
class Result:
    mutant: Mutant
    outcome: str   # killed, survived, timeout, error
    seconds: float
    before: str = ""
    after: str = ""


class Worker:
    """One worker process (``--worker``): a mutant number in, its outcome out."""

    def __init__(self, name: str, timeout: float):
        # A file this checkout lacks (an older one) is left out rather than failing the run.
        tests = [str(ROOT / "tests" / t) for t in MODULES[name].tests if (ROOT / "tests" / t).is_file()]
        # CI: Hypothesis's derandomized profile, so a mutant's result is the same every run.
        env = {**os.environ, "CI": "1", "PYTHONDONTWRITEBYTECODE": "1"}
        self.process = subprocess.Popen(
            [sys.executable, str(Path(__file__).resolve()), "--worker", name, str(timeout), *tests],
            cwd=ROOT, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)

    def run(self, number: int) -> tuple[str, float]:
        start = time.monotonic()
        assert self.process.stdin and self.process.stdout
        self.process.stdin.write(f"{number}\n")
        self.process.stdin.flush()
        # pytest's exit code: 0 all passed, 1 a test failed, 2 a collection error (the mutant breaks
        # an import); anything else is an error of the run, not a kill.
        return self.process.stdout.readline().strip() or "error", time.monotonic() - start

    def close(self) -> None:
        assert self.process.stdin
        self.process.stdin.close()
        self.process.wait()


def run_module(name: str, *, limit: int | None, seed: int, jobs: int, log) -> tuple[list[Result], int, float]:
    every = mutants(name)
    chosen = every if limit is None or limit >= len(every) else sorted(
        random.Random(f"{seed}-{name}").sample(every, limit), key=lambda m: m.number)
    probe = Worker(name, timeout=900)
    try:
        outcome, baseline = probe.run(0)
    finally:
        probe.close()
    if outcome != "survived":
        raise SystemExit(f"{name}: the tests fail on the unmutated module ({outcome}); fix that first")
    timeout = max(30.0, 4 * baseline + 10)
    log(f"{name}: {len(every)} mutants, running {len(chosen)}; tests take {baseline:.1f} s unmutated")
    workers = [Worker(name, timeout) for _ in range(max(1, jobs))]
    queue = list(chosen)
    results: dict[int, Result] = {}

    def drain(w: Worker) -> None:
        while queue:
            try:
                m = queue.pop(0)
            except IndexError:
                return
            result = Result(m, *w.run(m.number))
            if result.outcome in ("survived", "error"):
                result.before, result.after = mutated_snippet(m)
            results[m.number] = result

    try:
        with ThreadPoolExecutor(max_workers=len(workers)) as pool:
            list(pool.map(drain, workers))
    finally:
        for w in workers:
            w.close()
    return [results[m.number] for m in chosen], len(every), baseline


def _score(results: list[Result]) -> str:
    killed = sum(r.outcome in ("killed", "timeout") for r in results)
    return f"{100 * killed / len(results):.0f} %" if results else "-"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--module", action="append", choices=sorted(MODULES),
                        help="a module to mutate (again for more); default: all ten")
    parser.add_argument("--limit", type=int, help="run a seeded random sample of this many mutants per module")
    parser.add_argument("--seed", type=int, default=12, help="the sample's seed (default 12)")
    parser.add_argument("--jobs", type=int, default=1, help="mutants run at once (default 1)")
    parser.add_argument("--list", action="store_true", help="list the mutants; run nothing")
    parser.add_argument("--json", type=Path, help="write every result to this file")
    parser.add_argument("--worker", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        name, timeout, *tests = args.worker
        worker(name, tests, float(timeout))
        return 0

    names = args.module or list(MODULES)
    if args.list:
        for name in names:
            for m in mutants(name):
                print(f"{name} #{m.number:<4} line {m.line:<4} {m.what}")
        return 0

    def log(text: str) -> None:
        print(text, file=sys.stderr, flush=True)

    rows, survivors, everything = [], [], []
    for name in names:
        started = time.monotonic()
        results, total, baseline = run_module(name, limit=args.limit, seed=args.seed, jobs=args.jobs, log=log)
        killed = sum(r.outcome in ("killed", "timeout") for r in results)
        alive = [r for r in results if r.outcome not in ("killed", "timeout")]
        rows.append(f"| {MODULES[name].module.removeprefix('ledger_export.')} | {total} | {len(results)} | "
                    f"{killed} | {len(alive)} | {_score(results)} | {len(MODULES[name].tests)} | "
                    f"{baseline:.1f} s | {time.monotonic() - started:.0f} s |")
        survivors += alive
        everything += results
        log(rows[-1])
    print("| module | mutants | run | killed | survived | score | test files | tests take | wall |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    print("\n".join(rows))
    total_run = len(everything)
    total_killed = sum(r.outcome in ("killed", "timeout") for r in everything)
    if total_run:
        print(f"\nAll: {total_killed} of {total_run} killed ({100 * total_killed / total_run:.0f} %).")
    if survivors:
        print("\nSurvivors:")
        for r in survivors:
            path = MODULES[r.mutant.target].module.replace(".", "/") + ".py"
            flag = "" if r.outcome == "survived" else f" [{r.outcome}]"
            print(f"- {path}:{r.mutant.line} #{r.mutant.number} {r.mutant.what}{flag}: `{r.before}` -> `{r.after}`")
    if args.json:
        args.json.write_text(json.dumps([{**asdict(r.mutant), "outcome": r.outcome, "seconds": round(r.seconds, 2),
                                          "before": r.before, "after": r.after} for r in everything], indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
