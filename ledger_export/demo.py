"""``ledger-export demo``: the monthly job on the bundled sample period, over real HTTP.

Starts the bundled sandbox in-process, so it needs no network and no API key.
"""

from __future__ import annotations

from pathlib import Path

from . import config as config_module
from .amili.auth import StaticToken
from .errors import ConfigError
from .export import ExportOptions, ExportResult, export
from .paths import SAMPLES
from .period import month
from .progress import Progress

SAMPLE_PERIOD = "2025-06"
SAMPLE_CONFIG = SAMPLES / "ledger-export.toml"


def run_demo(out: Path, *, progress: Progress | None = None) -> ExportResult:
    try:
        from .sandbox.server import Sandbox
    except ImportError as exc:  # the sandbox is an optional extra
        raise ConfigError(f"the demo needs the sandbox extra (pip install '.[sandbox]'): {exc}") from None
    with Sandbox() as sandbox:
        config = config_module.load(SAMPLE_CONFIG, overrides={
            "amili.base_url": sandbox.base_url,
            "output.folder": str(out),
        })
        # --force: the demo books the same sample period every time it is run.
        return export(config, month(SAMPLE_PERIOD), ExportOptions(force=True),
                      tokens=StaticToken(sandbox.api_key), progress=progress)
