"""The export job against the sandbox, as the export tests run it: the sample configuration, June 2025."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from ledger_export.amili.auth import StaticToken
from ledger_export.core.period import month
from ledger_export.core.resources import SAMPLES
from ledger_export.jobs import config as config_module
from ledger_export.jobs.export import ExportOptions, export

JUNE = month("2025-06")
FIXED = ExportOptions(generated=date(2025, 7, 1))


def sample_config(base_url: str, out: Path):
    return config_module.load(SAMPLES / "ledger-export.toml",
                              overrides={"amili.base_url": base_url, "output.folder": str(out)})


def run(sandbox, out: Path, options: ExportOptions = FIXED):
    return export(sample_config(sandbox.base_url, out), JUNE, options, tokens=StaticToken(sandbox.api_key))
