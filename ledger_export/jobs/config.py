"""The whole configuration: each layer's section, put together; loaded from the TOML file.

Command-line flags override the file through ``overrides`` ("amili.base_url"
style keys), so the library never reads sys.argv.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from ledger_export.amili.settings import AmiliSettings, read_amili
from ledger_export.core.errors import ConfigError
from ledger_export.core.input_files import MB, read_regular_file
from ledger_export.core.settings import Company, OutputSettings, Table, read_company, read_output
from ledger_export.jobs.fortnox_settings import FortnoxPosting, read_posting
from ledger_export.ledger import settings as ledger_settings
from ledger_export.ledger.settings import LedgerSettings
from ledger_export.sie import settings as sie_settings
from ledger_export.sie.settings import SieSettings

__all__ = ["DEFAULT_FILE", "AmiliSettings", "Company", "Config", "OutputSettings", "from_dict", "load"]

DEFAULT_FILE = "ledger-export.toml"
CONFIG_LIMIT = 1 * MB  # a starter file is 5 kB


@dataclass(frozen=True)
class Config:
    company: Company = field(default_factory=Company)
    amili: AmiliSettings = field(default_factory=AmiliSettings)
    output: OutputSettings = field(default_factory=OutputSettings)
    ledger: LedgerSettings = field(default_factory=LedgerSettings)
    sie: SieSettings = field(default_factory=SieSettings)
    fortnox: FortnoxPosting = field(default_factory=FortnoxPosting)
    source: str | None = None


def _apply_overrides(doc: Mapping[str, Any], overrides: Mapping[str, Any]) -> dict[str, Any]:
    doc = {k: (dict(v) if isinstance(v, Mapping) else v) for k, v in doc.items()}
    for dotted, value in overrides.items():
        if value is None:
            continue
        section, _, key = dotted.partition(".")
        doc.setdefault(section, {})[key] = value
    return doc


def from_dict(doc: Mapping[str, Any], *, source: str | None = None,
              overrides: Mapping[str, Any] | None = None) -> Config:
    doc = _apply_overrides(dict(doc), overrides or {})
    root = Table(doc, "", source)
    config = Config(
        company=read_company(root.table("company")),
        amili=read_amili(root.table("amili")),
        output=read_output(root.table("output")),
        ledger=ledger_settings.parse(root),
        sie=sie_settings.parse(root),
        fortnox=_fortnox(root),
        source=source,
    )
    root.finish()
    return config


def _fortnox(root: Table) -> FortnoxPosting:
    t = root.table("fortnox")
    posting = read_posting(t)
    # The HTTP client's keys (base_url, auth_url, token_file, tenant_id) are read here too, once merged.
    t.finish()
    return posting


def load(path: str | Path | None = None, *, overrides: Mapping[str, Any] | None = None) -> Config:
    """Read ``path``; with no path, ``ledger-export.toml`` here if present, else the defaults."""
    if path is None:
        candidate = Path(DEFAULT_FILE)
        if not candidate.exists():
            return from_dict({}, overrides=overrides)
        path = candidate
    path = Path(path)
    if not path.exists():
        raise ConfigError(f"configuration file {path} does not exist")
    try:
        # A FIFO or a device named by -c must not hang or drain memory: a regular file, small.
        doc = tomllib.loads(read_regular_file(path, CONFIG_LIMIT, "configuration file", ConfigError).decode("utf-8"))
    except UnicodeDecodeError:
        raise ConfigError(f"configuration file {path} is not UTF-8 text") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None
    except RecursionError:
        raise ConfigError(f"{path}: not valid TOML: nested too deeply") from None
    config = from_dict(doc, source=str(path), overrides=overrides)
    # A path in the file means "next to this file", wherever the run starts: run from another
    # folder, `export -c books/ledger-export.toml` must still find books/out and its register.
    key_file = config.amili.private_key_file
    if key_file and not Path(key_file).expanduser().is_absolute():
        resolved = str(path.parent / Path(key_file).expanduser())
        config = replace(config, amili=replace(config.amili, private_key_file=resolved))
    folder = Path(config.output.folder).expanduser()
    if (overrides or {}).get("output.folder") is None and not folder.is_absolute():
        config = replace(config, output=replace(config.output, folder=str(path.parent / folder)))
    return config
