"""The configuration that decided the bookkeeping, as rows and as one hash.

Only what changes the books counts: the company, the creditor, where the
self-invoices come from, and the [ledger] and [sie] sections. Connection
details (base URL, timeouts, environment variable names) and the output
folder do not, so a demo on a random sandbox port hashes the same as the
next one. Secrets are never part of the configuration (only the names of
the environment variables that hold them), and are not dumped.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Mapping
from datetime import date
from decimal import Decimal
from pathlib import PurePath
from typing import Any

from ledger_export.jobs.config import Config
from ledger_export.outputs.bundle import RunSettings


def plain(value: Any) -> Any:
    """``value`` as JSON-ready data: dataclasses and mappings to dicts, Decimals and dates to text."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, Mapping):
        items = sorted(value.items(), key=lambda kv: (0, kv[0], "") if isinstance(kv[0], int)
                       else (1, 0, str(kv[0])))
        return {str(k): plain(v) for k, v in items}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if isinstance(value, (set, frozenset)):
        return sorted(plain(v) for v in value)
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, (Decimal, PurePath)):
        return str(value)
    if isinstance(value, date):
        return value.isoformat()
    raise TypeError(f"cannot dump a {type(value).__name__} from the configuration")


def bookkeeping_settings(config: Config) -> dict[str, Any]:
    return {
        "company": plain(config.company),
        "amili": {"creditor": config.amili.creditor, "media_url": config.amili.media_url},
        "ledger": plain(config.ledger),
        "sie": plain(config.sie),
    }


def config_hash(config: Config) -> str:
    """SHA-256 of a canonical JSON dump of the bookkeeping settings."""
    text = json.dumps(bookkeeping_settings(config), sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _rows(prefix: str, value: Any, out: list[tuple[str, str]]) -> None:
    if isinstance(value, dict) and value:
        for key, inner in value.items():
            _rows(f"{prefix}.{key}" if prefix else key, inner, out)
    elif value is None:
        out.append((prefix, "(none)"))
    elif isinstance(value, (dict, list)):
        out.append((prefix, json.dumps(value, ensure_ascii=False)))
    elif isinstance(value, bool):
        out.append((prefix, "true" if value else "false"))
    else:
        out.append((prefix, str(value)))


def config_rows(config: Config) -> list[tuple[str, str]]:
    """(setting, value) pairs for the workbook's Mapping sheet, e.g. ("ledger.bank_account", "1930")."""
    out: list[tuple[str, str]] = []
    _rows("", bookkeeping_settings(config), out)
    return out


def run_settings(config: Config) -> RunSettings:
    """The configuration as the outputs take it."""
    return RunSettings(company=config.company, ksumma=config.sie.ksumma,
                       mapping_rows=tuple(config_rows(config)), config_sha256=config_hash(config))
