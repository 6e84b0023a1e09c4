"""``ledger-export demo``: the monthly job on the bundled sample period, over real HTTP.

Starts the bundled sandbox in-process, so it needs no network and no API key.
It is a sandbox on disk too: it writes only into a folder of its own
(``demo/`` by default, never a configured or the default output root), whose
register it marks as the demo's; it refuses a folder holding real books,
and ``--force`` is used only on that register of its own.
"""

from __future__ import annotations

from pathlib import Path

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
