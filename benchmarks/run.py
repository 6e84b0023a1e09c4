"""Benchmark of the whole export: requests, fetch time against the latency bound, each stage, memory.

For each size: a seeded period with that many specification lines is
served by a replay server (its own process, 127.0.0.1, fixed latency per
request), and one fresh process runs ledger_export.jobs.export.export against
it, timing each stage it calls (export_run.py). The plain writers the
targets compare with run in that process right after the export, on the
same lines and cells. Prints Markdown tables: one per size, then the
targets of issue 7, met or missed.

    .venv/bin/python benchmarks/run.py                       # 1k, 10k, 100k lines, ~3 minutes
    .venv/bin/python benchmarks/run.py --sizes 1000 --latency 0.02 --concurrency 8
    .venv/bin/python benchmarks/run.py --sizes 100000 --detail account --tracemalloc
    .venv/bin/python benchmarks/run.py --patch /tmp/try.py  # measure a change tried on a copy

Not part of the test suite: timings depend on the machine.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
STAGES = ("fetch", "documents", "parse", "snapshot", "map", "summary", "sie", "validate", "workbook", "listing",
          "manifest", "publish")
# Everything but waiting for Amili: what must grow linearly with the lines.
WORK = ("parse", "snapshot", "map", "summary", "sie", "validate", "workbook", "listing", "manifest", "publish")
# Issue 7's targets.
FETCH_FACTOR = 1.25
WORKBOOK_FACTOR = 1.3
SIE_FACTOR = 2.0
PEAK_MB = 300
GROWTH = 11.0


def _python() -> str:
    return sys.executable


class ReplayProcess:
    """The replay server in its own process (its CPU must not share our GIL); stopped by closing stdin."""

    def __init__(self, lines: int, seed: int, period: str, latency: float):
        self.process = subprocess.Popen(
            [_python(), str(HERE / "replay.py"), "--lines", str(lines), "--seed", str(seed),
             "--period", period, "--latency", str(latency)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, cwd=HERE)
        line = self.process.stdout.readline()
        if not line:
            self.stop()
            raise SystemExit("the replay server did not start (see its error above)")
        self.info = json.loads(line)

    def stop(self) -> None:
        if self.process.stdin and not self.process.stdin.closed:
            self.process.stdin.close()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.terminate()
            self.process.wait(timeout=10)

    def stats(self) -> dict:
        import urllib.request

        with urllib.request.urlopen(self.info["base_url"] + "/_replay/stats") as answer:
            return json.loads(answer.read())

    def reset(self) -> None:
        import urllib.request

        urllib.request.urlopen(self.info["base_url"] + "/_replay/reset").read()


def export_once(server: ReplayProcess, args: argparse.Namespace, *extra: str) -> dict:
    server.reset()
    command = [_python(), str(HERE / "export_run.py"), "--base-url", server.info["base_url"],
               "--api-key", server.info["api_key"], "--creditor", server.info["creditor"],
               "--period", server.info["period"], "--concurrency", str(args.concurrency),
               "--detail", args.detail, *extra]
    for patch in args.patch:
        command += ["--patch", str(Path(patch).resolve())]
    done = subprocess.run(command, stdout=subprocess.PIPE, text=True, cwd=HERE)
    if done.returncode != 0:
        raise SystemExit(f"the export failed (exit {done.returncode}); its error is above")
    result = json.loads(done.stdout)
    result["server"] = server.stats()
    return result


def measure(size: int, args: argparse.Namespace) -> dict:
    started = time.perf_counter()
    server = ReplayProcess(size, args.seed, args.period, args.latency)
    try:
        extra = ["--profile", str(Path(args.profile) / str(size))] if args.profile else []
        result = export_once(server, args, *extra)
        if args.tracemalloc:
            traced = export_once(server, args, "--tracemalloc", "--no-baselines")
            result["traced"] = {"peak_mb": traced["traced_peak_mb"],
                                "stages": {k: v["traced_peak_mb"] for k, v in traced["stages"].items()}}
    finally:
        server.stop()
    result["size"] = size
    result["generated"] = server.info["counts"]
    result["wall_seconds"] = time.perf_counter() - started
    return result


def minimum_requests(counts: dict[str, int]) -> int:
    """ceil(P/100) + ceil(S/100) + ceil(C/100) + documents; an empty list still costs its one page."""
    pages = [max(1, math.ceil(counts[k] / 100)) for k in ("payouts", "payments")]
    lines = math.ceil(counts["specifications"] / 100) if counts["payouts"] else 0
    return sum(pages) + lines + counts["documents"]


def derive(r: dict, args: argparse.Namespace) -> dict:
    """The figures the targets are about, from one size's raw result."""
    st = {k: v["seconds"] for k, v in r["stages"].items()}
    minimum = minimum_requests(r["generated"])
    bound = minimum * args.latency / args.concurrency
    fetch = st["fetch"] + st.get("documents", 0.0)
    b = r.get("baselines", {})
    return {
        "minimum": minimum, "made": r["server"]["requests"], "bound": bound, "fetch": fetch,
        "fetch_ratio": fetch / bound if bound else float("nan"),
        "work": r["export_seconds"] - fetch,
        "other": r["export_seconds"] - sum(st.values()),
        "sie_ratio": st["sie"] / b["sie_plain_seconds"] if b else None,
        "sie_warm_ratio": b["sie_warm_seconds"] / b["sie_plain_seconds"] if b and "sie_warm_seconds" in b else None,
        "workbook_ratio": st["workbook"] / b["workbook_plain_seconds"] if b else None,
        "peak": r["export_peak_rss_mb"],
    }


def _s(seconds: float) -> str:
    return f"{seconds:.3f} s" if seconds < 10 else f"{seconds:.1f} s"


def size_table(r: dict, d: dict, args: argparse.Namespace) -> str:
    g, st, b, c = r["generated"], r["stages"], r.get("baselines"), r["counts"]

    def t(stage: str) -> str:
        return _s(st[stage]["seconds"]) if stage in st else "not called"

    rows = [
        ("period", f"{g['payouts']} payouts, {g['specifications']:,} lines, {g['payments']} direct payments, "
                   f"{g['documents']} self-invoice PDFs; {c['vouchers']} vouchers, {c['ledger_lines']:,} "
                   f"ledger lines (detail {args.detail})"),
        ("requests made vs minimum",
         f"{d['made']} vs {d['minimum']} ({', '.join(f'{k} {v}' for k, v in r['server']['by_kind'].items())}; "
         f"at most {r['server']['max_in_flight']} at once)"),
        ("fetch wall time vs latency bound",
         f"{_s(d['fetch'])} vs {_s(d['bound'])} = {d['fetch_ratio']:.2f}× "
         f"(fetch_period, PDFs in its round: {t('fetch')}; collect_documents: {t('documents')}; "
         f"bound {d['minimum']} × {args.latency * 1000:g} ms ÷ {args.concurrency})"),
        ("parse (period_data)", t("parse")),
        ("map (build_ledger) + run summary", f"{t('map')} + {t('summary')}"),
    ]
    if b:
        rows += [
            ("SIE render_sie vs plain text dump",
             f"{t('sie')} vs {_s(b['sie_plain_seconds'])} = {d['sie_ratio']:.1f}× ({b['sie_plain_lines']:,} lines"
             + (f"; again, template compiled: {_s(b['sie_warm_seconds'])} = {d['sie_warm_ratio']:.1f}×)"
                if d["sie_warm_ratio"] is not None else ")")),
            ("workbook render_workbook vs plain XlsxWriter",
             f"{t('workbook')} vs {_s(b['workbook_plain_seconds'])} = {d['workbook_ratio']:.2f}× "
             f"({b['workbook_cells']:,} cells; a second render_workbook took {_s(b['workbook_repeat_seconds'])})"),
        ]
    else:
        rows += [("SIE render_sie", t("sie")), ("workbook render_workbook", t("workbook"))]
    rows += [
        ("SIE validate (read back)", t("validate")),
        ("raw snapshot (stage_snapshot) + voucher listing (voucher_listing_file) + manifest",
         f"{t('snapshot')} + {t('listing')} + {t('manifest')}"),
        ("publish (write all files)", t("publish")),
        ("rest of export() (register, checks)", _s(d["other"])),
        ("whole export() / without fetch and PDFs", f"{_s(r['export_seconds'])} / {_s(d['work'])}"),
        ("files written", ", ".join(f"{k} {v:.1f} MB" for k, v in r["written_mb"].items())),
        ("peak RSS, whole export", f"{d['peak']:.0f} MB (Python with the package imported: {r['start_rss_mb']:.0f} MB)"),
    ]
    if r.get("per_stage_peaks"):
        rows.append(("peak RSS per stage", ", ".join(f"{s} {st[s]['peak_rss_mb']:.0f}" for s in STAGES if s in st)
                     + " MB"))
    if "traced" in r:
        tr = r["traced"]
        rows.append(("tracemalloc peak (Python objects)",
                     f"{tr['peak_mb']:.0f} MB (" + ", ".join(f"{s} {tr['stages'][s]:.0f}" for s in STAGES
                                                           if s in tr["stages"]) + " MB)"))
    head = f"### {r['size']:,} specification lines\n\n| measure | result |\n|---|---|\n"
    return head + "\n".join(f"| {k} | {v} |" for k, v in rows) + "\n"


def _mark(ok: bool | None) -> str:
    return "n/a" if ok is None else ("met" if ok else "**missed**")


def targets_table(results: list[dict], derived: list[dict], args: argparse.Namespace) -> str:
    sizes = [f"{r['size']:,}" for r in results]
    lines = ["| target | " + " | ".join(sizes) + " | |", "|---|" + "---|" * len(sizes) + "---|"]

    def row(name: str, cells: list[tuple[str, bool | None]]) -> None:
        oks = [ok for _, ok in cells if ok is not None]
        lines.append(f"| {name} | " + " | ".join(text for text, _ in cells)
                     + f" | {_mark(all(oks) if oks else None)} |")

    row("requests made = minimum", [(f"{d['made']} / {d['minimum']}", d["made"] == d["minimum"]) for d in derived])
    row(f"fetch ≤ {FETCH_FACTOR}× latency bound",
        [(f"{d['fetch_ratio']:.2f}×", d["fetch_ratio"] <= FETCH_FACTOR) for d in derived])
    largest = max(range(len(results)), key=lambda i: results[i]["size"])

    def at_largest(key: str, limit: float, fmt: str) -> list[tuple[str, bool | None]]:
        cells = []
        for i, d in enumerate(derived):
            value = d[key]
            text = "n/a" if value is None else fmt.format(value)
            cells.append((text, (value <= limit if value is not None else None) if i == largest else None))
        return cells

    row(f"workbook ≤ {WORKBOOK_FACTOR}× plain XlsxWriter (largest size)", at_largest("workbook_ratio", WORKBOOK_FACTOR, "{:.2f}×"))
    # The warm figure beside it: for a small file (detail account) the template's one-time compile dominates.
    row(f"SIE ≤ {SIE_FACTOR:g}× plain text dump (largest size)",
        [(text + (f" (warm {d['sie_warm_ratio']:.1f}×)" if d["sie_warm_ratio"] is not None else ""), ok)
         for (text, ok), d in zip(at_largest("sie_ratio", SIE_FACTOR, "{:.1f}×"), derived)])
    row(f"peak RSS < {PEAK_MB} MB (largest size)", at_largest("peak", PEAK_MB - 1e-9, "{:.0f} MB"))
    by_size = {r["size"]: (r, d) for r, d in zip(results, derived)}
    pairs = [(s, s * 10) for s in sorted(by_size) if s * 10 in by_size]
    for small, big in pairs:
        (rs, ds), (rb, db) = by_size[small], by_size[big]
        growth = db["work"] / ds["work"]
        fetch_growth = db["fetch"] / ds["fetch"]
        # The stage that grew most, among those that matter (1 % of the work or more).
        shared = [p for p in WORK if p in rs["stages"] and p in rb["stages"]
                  and rb["stages"][p]["seconds"] >= 0.01 * db["work"]]
        worst = max(shared, key=lambda p: rb["stages"][p]["seconds"] / rs["stages"][p]["seconds"])
        worst_growth = rb["stages"][worst]["seconds"] / rs["stages"][worst]["seconds"]
        lines.append(f"| linear: {big:,} lines ≤ {GROWTH:g}× {small:,} lines (export without fetch) | "
                     + " | ".join("" for _ in sizes)
                     + f" | {growth:.1f}× ({_mark(growth <= GROWTH)}); fetch {fetch_growth:.1f}×; "
                       f"steepest stage {worst} {worst_growth:.1f}× |")
    return "\n".join(lines) + "\n"


def machine() -> str:
    cpus = os.cpu_count()
    model = ""
    try:
        with open("/proc/cpuinfo") as fh:
            model = next((line.split(":", 1)[1].strip() for line in fh if line.startswith("model name")), "")
    except OSError:
        pass
    return f"{cpus} cores ({model or platform.processor()}), Python {platform.python_version()}, {platform.system()}"


def describe(args: argparse.Namespace) -> str:
    patches = ", ".join(Path(p).name for p in args.patch)
    return (f"Latency {args.latency * 1000:g} ms, concurrency {args.concurrency}, detail {args.detail}, "
            f"period {args.period}, seed {args.seed}" + (f", patches: {patches}" if patches else ""))


def print_tables(results: list[dict], args: argparse.Namespace) -> None:
    for result in results:
        print(size_table(result, derive(result, args), args))
    print("### Targets\n")
    print(targets_table(results, [derive(r, args) for r in results], args))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,10000,100000", help="specification lines, comma-separated")
    parser.add_argument("--latency", type=float, default=0.05, help="seconds per request at the replay server")
    parser.add_argument("--concurrency", type=int, default=4, help="the client's parallel requests")
    parser.add_argument("--detail", choices=("account", "invoice"), default="invoice",
                        help="invoice (default): one ledger line per specification line, the heaviest SIE "
                             "and workbook; account: lines summed per account")
    parser.add_argument("--period", default="2025-06", help="a month (2025-06) or a quarter (2025Q2)")
    parser.add_argument("--seed", type=int, default=2025)
    parser.add_argument("--tracemalloc", action="store_true",
                        help="run each export once more under tracemalloc for the Python-object peak")
    parser.add_argument("--patch", action="append", default=[],
                        help="a Python file the export process runs first (to try a change on a copy)")
    parser.add_argument("--profile", help="folder for cProfile files, <size>/<stage>.prof")
    parser.add_argument("--json", help="also write the raw results to this file")
    parser.add_argument("--tables", metavar="JSON", help="print the tables of a --json file again; run nothing")
    args = parser.parse_args(argv)
    if args.tables:
        saved = json.loads(Path(args.tables).read_text())
        args = argparse.Namespace(**{**saved["args"], "tables": args.tables})
        print(f"Machine: {saved['machine']}. {describe(args)}\n")
        print_tables(saved["results"], args)
        return 0
    sizes = [int(s.replace("_", "")) for s in args.sizes.split(",") if s.strip()]

    print(f"Machine: {machine()}. {describe(args)}\n", flush=True)
    results = []
    for size in sizes:
        results.append(measure(size, args))
        print(size_table(results[-1], derive(results[-1], args), args), flush=True)
    print("### Targets\n")
    print(targets_table(results, [derive(r, args) for r in results], args))
    if args.json:
        Path(args.json).write_text(json.dumps({"machine": machine(), "args": vars(args), "results": results},
                                              indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
