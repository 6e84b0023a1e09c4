"""One period's whole export in this process, against a replay server, stage by stage.

run.py starts this once per size in a fresh process, so the peak memory is
that export's alone. It runs the real ``ledger_export.jobs.export.export`` and
times its stages by wrapping the functions it calls (STAGES below) where it
calls them; each wrapper looks its function up in the module that defines
it at call time, so a ``--patch`` file that replaces one there is measured.
Prints one JSON object: each stage's wall time, peak RSS and the RSS it
leaves, the whole export's wall time and peak RSS, and (unless
--no-baselines) the plain writers measured on the same lines afterwards.

Nothing here imports the CLI or the sandbox.
"""

from __future__ import annotations

import argparse
import cProfile
import functools
import importlib
import json
import resource
import runpy
import shutil
import sys
import tempfile
import time
import tracemalloc
from datetime import date
from pathlib import Path
from typing import Any

import baselines

MB = 1024 * 1024
GENERATED = date(2025, 7, 1)

# (stage, module that calls it, name there, module that defines it, name there)
STAGES = (
    ("fetch", "ledger_export.jobs.export", "fetch_period", "ledger_export.amili.fetch", "fetch_period"),
    ("parse", "ledger_export.jobs.export", "period_data", "ledger_export.amili.snapshot", "period_data"),
    # The raw snapshot is staged on disk right after the records are read (export._read).
    ("snapshot", "ledger_export.jobs.export", "stage_snapshot", "ledger_export.amili.snapshot", "stage_snapshot"),
    ("map", "ledger_export.jobs.export", "build_ledger", "ledger_export.ledger.vouchers", "build_ledger"),
    ("documents", "ledger_export.jobs.export", "collect_documents", "ledger_export.amili.documents",
     "collect_documents"),
    ("summary", "ledger_export.jobs.export", "render_summary", "ledger_export.ledger.summary", "render_summary"),
    ("sie", "ledger_export.outputs.sie_file", "render_sie", "ledger_export.sie.writer", "render_sie"),
    ("validate", "ledger_export.outputs.sie_file", "validate_sie", "ledger_export.sie.validate", "validate"),
    ("workbook", "ledger_export.outputs.workbook_file", "render_workbook", "ledger_export.outputs.workbook",
     "render_workbook"),
    ("listing", "ledger_export.outputs.voucher_listing", "voucher_listing_file", "ledger_export.outputs.listing",
     "voucher_listing_file"),
    ("manifest", "ledger_export.outputs.manifest_file", "render_manifest", "ledger_export.outputs.manifest",
     "render_manifest"),
    ("publish", "ledger_export.jobs.export", "publish", "ledger_export.core.files", "publish"),
)


# The baselines write the same cells as the workbook, and render the SIE file once more
# (warm): keep what those were called with (alive then anyway).
KEEP_ARGUMENTS = {"workbook", "sie"}


def _status_kb(field: str) -> int | None:
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


def _reset_peak() -> bool:
    """Restart the kernel's RSS high-water mark (Linux VmHWM), so each stage gets its own peak."""
    try:
        with open("/proc/self/clear_refs", "w") as fh:
            fh.write("5")
        return True
    except OSError:
        return False


class Meter:
    """Per stage: wall time, peak RSS, RSS after, traced Python peak; peaks between stages too.

    The whole run's peak is the highest of the stage peaks and the peaks
    between them: exactly what ru_maxrss would give had it never been reset.
    """

    def __init__(self, traced: bool, profile_dir: Path | None):
        self.stages: dict[str, dict[str, float]] = {}
        self.traced = traced
        self.profile_dir = profile_dir
        self.resettable = _reset_peak()
        self.gap_peak_kb = 0
        self.gap_traced = 0
        self.calls: dict[str, tuple[tuple[Any, ...], dict[str, Any]]] = {}

    def _gap(self) -> None:
        if self.traced:
            self.gap_traced = max(self.gap_traced, tracemalloc.get_traced_memory()[1])
        if self.resettable:
            self.gap_peak_kb = max(self.gap_peak_kb, _status_kb("VmHWM") or 0)
            _reset_peak()

    def wrap(self, stage: str, module: str, name: str) -> Any:
        @functools.wraps(getattr(importlib.import_module(module), name))
        def timed(*args: Any, **kwargs: Any) -> Any:
            function = getattr(importlib.import_module(module), name)
            if stage in KEEP_ARGUMENTS:
                self.calls[stage] = (args, kwargs)
            self._gap()
            if self.traced:
                tracemalloc.reset_peak()
            profiler = cProfile.Profile() if self.profile_dir else None
            started = time.perf_counter()
            try:
                if profiler:
                    return profiler.runcall(function, *args, **kwargs)
                return function(*args, **kwargs)
            finally:
                seconds = time.perf_counter() - started
                record = self.stages.setdefault(stage, {"seconds": 0.0, "calls": 0, "peak_rss_mb": 0.0})
                record["seconds"] += seconds
                record["calls"] += 1
                hwm = _status_kb("VmHWM") if self.resettable else None
                if hwm:
                    record["peak_rss_mb"] = max(record["peak_rss_mb"], hwm / 1024)
                    _reset_peak()
                record["rss_after_mb"] = (_status_kb("VmRSS") or 0) / 1024
                if self.traced:
                    record["traced_peak_mb"] = max(record.get("traced_peak_mb", 0.0),
                                                   tracemalloc.get_traced_memory()[1] / MB)
                if profiler:
                    self.profile_dir.mkdir(parents=True, exist_ok=True)
                    profiler.dump_stats(self.profile_dir / f"{stage}.prof")
        return timed

    def install(self) -> None:
        for stage, caller, name, module, defined in STAGES:
            setattr(importlib.import_module(caller), name, self.wrap(stage, module, defined))

    def export_peak_mb(self) -> float:
        if not self.resettable:
            return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        self._gap()
        return max([self.gap_peak_kb / 1024] + [s["peak_rss_mb"] for s in self.stages.values()])

    def traced_peak_mb(self) -> float:
        """The highest traced Python allocation over the run (stage peaks and between them)."""
        self._gap()
        return max([self.gap_traced / MB] + [s.get("traced_peak_mb", 0.0) for s in self.stages.values()])


def run(args: argparse.Namespace) -> dict[str, Any]:
    for patch in args.patch:
        runpy.run_path(str(patch), run_name="benchmark_patch")
    from ledger_export.amili.auth import StaticToken
    from ledger_export.jobs.config import from_dict
    from ledger_export.jobs.export import ExportOptions, export
    from ledger_export.core.period import month, quarter

    if args.tracemalloc:
        tracemalloc.start()
    meter = Meter(args.tracemalloc, args.profile)
    meter.install()
    start_rss = (_status_kb("VmRSS") or 0) / 1024
    period = quarter(args.period) if "q" in args.period.lower() else month(args.period)
    out = Path(tempfile.mkdtemp(prefix="ledger-export-bench-"))
    try:
        config = from_dict({"company": {"name": "Exempelbolaget AB", "orgnr": "556677-8899"},
                            "amili": {"base_url": args.base_url, "creditor": args.creditor,
                                      "concurrency": args.concurrency},
                            "output": {"folder": str(out)}})
        started = time.perf_counter()
        result = export(config, period, ExportOptions(detail=args.detail, generated=GENERATED),
                        tokens=StaticToken(args.api_key))
        seconds = time.perf_counter() - started
        peak = meter.export_peak_mb()
        written = {p.name: sum(f.stat().st_size for f in ([p] if p.is_file() else p.rglob("*")) if f.is_file())
                   / MB for p in result.files}
    finally:
        shutil.rmtree(out, ignore_errors=True)
    ledger = result.ledger
    report: dict[str, Any] = {
        "counts": {"payouts": len(result.data.payouts), "specifications": len(result.data.specifications),
                   "payments": len(result.data.payments),
                   "documents": sum(1 for d in result.documents if d.in_place),
                   "vouchers": len(ledger.vouchers), "ledger_lines": sum(len(v.lines) for v in ledger.vouchers)},
        "list_requests": result.requests,
        "export_seconds": seconds,
        "export_peak_rss_mb": peak,
        "start_rss_mb": start_rss,
        "per_stage_peaks": meter.resettable,
        "stages": meter.stages,
        "written_mb": written,
    }
    if args.tracemalloc:
        report["traced_peak_mb"] = meter.traced_peak_mb()
        tracemalloc.stop()
    if args.baselines:
        # After the export, so they never raise its peak; on the very lines and cells it wrote.
        report["baselines"] = baselines.measure(ledger, dict(meter.calls["workbook"][1]), meter.calls["sie"])
    return report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base-url", required=True)
    parser.add_argument("--api-key", required=True)
    parser.add_argument("--creditor", required=True)
    parser.add_argument("--period", default="2025-06")
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--detail", choices=("account", "invoice"), default="invoice")
    parser.add_argument("--tracemalloc", action="store_true", help="also trace Python allocations (slower)")
    parser.add_argument("--no-baselines", dest="baselines", action="store_false")
    parser.add_argument("--patch", action="append", default=[], type=Path,
                        help="a Python file run first, e.g. to try a change on a copy of a module")
    parser.add_argument("--profile", type=Path, help="write <stage>.prof (cProfile) into this folder")
    args = parser.parse_args(argv)
    json.dump(run(args), sys.stdout)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
