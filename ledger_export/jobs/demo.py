"""``ledger-export demo``: the monthly job on the bundled sample period, over real HTTP.

Starts the bundled sandbox in-process, so it needs no network and no API key.
It is a sandbox on disk too: it writes only into a folder of its own
(``demo/`` by default, never a configured or the default output root), whose
register it marks as the demo's; it refuses a folder holding real books,
and ``--force`` is used only on that register of its own.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ledger_export.jobs import config as config_module
from ledger_export.amili.auth import StaticToken
from ledger_export.core.errors import ConfigError
from ledger_export.jobs.export import ExportOptions, ExportResult, export
from ledger_export.core.resources import SAMPLES
from ledger_export.core.period import month
from ledger_export.core.progress import Progress

SAMPLE_PERIOD = "2025-06"
SAMPLE_CONFIG = SAMPLES / "ledger-export.toml"
DEMO_FOLDER = "demo"
DEMO_RATE_WINDOW = 0.5


def run_demo(out: Path, *, progress: Progress | None = None) -> ExportResult:
    try:
        from ledger_export.sandbox.server import Sandbox
    except ImportError as exc:  # the sandbox is an optional extra
        raise ConfigError(f"the demo needs the sandbox extra (pip install 'ledger-export[sandbox]'): {exc}") from None
    with Sandbox() as sandbox:
        config = config_module.load(SAMPLE_CONFIG, overrides={
            "amili.base_url": sandbox.base_url,
            "output.folder": str(out),
        })
        # --force on the demo's own register: it books the same sample period every time it is
        # run, each time into files of their own; purpose="demo" refuses any other register.
        return export(config, month(SAMPLE_PERIOD), ExportOptions(force=True, purpose="demo"),
                      tokens=StaticToken(sandbox.api_key), progress=progress)


def _fresh_folder(out: Path) -> Path:
    """A folder of its own for each Fortnox demo: the sandbox company starts empty every time."""
    n = 1
    while (out / f"fortnox-{n}").exists():
        n += 1
    return out / f"fortnox-{n}"


def run_fortnox_demo(out: Path, *, progress: Progress | None = None) -> tuple[ExportResult, list[str]]:
    """The sample month posted into the bundled Fortnox sandbox; what the run did and what Fortnox then holds."""
    try:
        from ledger_export.sandbox.fortnox.server import FortnoxSandbox
        from ledger_export.sandbox.server import Sandbox
    except ImportError as exc:  # the sandbox is an optional extra
        raise ConfigError(f"the demo needs the sandbox extra (pip install 'ledger-export[sandbox]'): {exc}") from None
    from ledger_export.jobs.fortnox_connect import connect

    # Fortnox's limit, 25 requests per 5 s, at a tenth of the window on both sides: the demo takes
    # seconds, not a minute, and the client's pacing still shows (a real run keeps the 5 s).
    with Sandbox() as sandbox, FortnoxSandbox(rate_window=DEMO_RATE_WINDOW) as fortnox:
        config = config_module.load(SAMPLE_CONFIG, overrides={
            "amili.base_url": sandbox.base_url,
            "output.folder": str(_fresh_folder(out)),
            "fortnox.base_url": fortnox.base_url,
            "fortnox.auth_url": fortnox.auth_url,
            "fortnox.tenant_id": str(fortnox.tenant_id),
            "fortnox.rate_window": DEMO_RATE_WINDOW,
        })
        # The sandbox's public test values, not secrets; the real ones only ever come from the environment.
        books = connect(config.fortnox, {"FORTNOX_CLIENT_ID": fortnox.client_id,
                                         "FORTNOX_CLIENT_SECRET": fortnox.client_secret})
        try:
            result = export(config, month(SAMPLE_PERIOD), ExportOptions(purpose="demo", to="fortnox"),
                            tokens=StaticToken(sandbox.api_key), progress=progress, books=books)
        finally:
            books.close()
        return result, holdings(fortnox.state(), config.fortnox.series)


def holdings(state: Mapping[str, Any], series: str) -> list[str]:
    """What the Fortnox sandbox holds after the run, as the bookkeeper would look it up there."""
    ours = [v for v in state["Vouchers"] if v["VoucherSeries"] == series and
            str(v.get("Comments", "")).startswith("ledger-export payout ")]
    files = {f["Id"]: f["Name"] for f in state["Files"]}
    lines = [f"Fortnox sandbox now holds {len(ours)} voucher(s) of ours in series {series}, "
             f"{len(state['VoucherFileConnections'])} file(s) connected, {len(state['InvoicePayments'])} "
             f"invoice payment(s):"]
    for v in ours:
        lines.append(f"  {v['VoucherSeries']}{v['VoucherNumber']} (year {v['Year']}) {v['TransactionDate']} "
                     f"{v['Description']}")
        for c in state["VoucherFileConnections"]:
            if (c["VoucherSeries"], str(c["VoucherNumber"]), str(c["VoucherYear"])) == (
                    v["VoucherSeries"], str(v["VoucherNumber"]), str(v["Year"])):
                lines.append(f"      file {files.get(c['FileId'], c['FileId'])} connected")
    for p in state["InvoicePayments"]:
        booked = f"booked as {p['VoucherSeries']}{p['VoucherNumber']}" if p.get("Booked") else "not booked"
        lines.append(f"  payment {p['Number']}: {p['Amount']} on invoice {p['InvoiceNumber']} "
                     f"({p['PaymentDate']}, {booked})")
    return lines
