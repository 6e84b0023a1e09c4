"""The TOML configuration file: every key has a default, unknown keys are refused.

Command-line flags override the file through ``overrides`` ("amili.base_url"
style keys), so the library never reads sys.argv.
"""

from __future__ import annotations

import math
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from .errors import ConfigError
from .input_files import MB, read_regular_file

DEFAULT_FILE = "ledger-export.toml"
CONFIG_LIMIT = 1 * MB  # a starter file is 5 kB


class Table:
    """One TOML table read strictly: typed getters, and a final check for keys nobody asked for."""

    def __init__(self, data: Any, name: str, path: str | None):
        if data is None:
            data = {}
        if not isinstance(data, Mapping):
            raise ConfigError("must be a table", key=name, path=path)
        self.data = dict(data)
        self.name = name
        self.path = path
        self.used: set[str] = set()

    def key(self, k: str) -> str:
        return f"{self.name}.{k}" if self.name else k

    def error(self, k: str, message: str) -> ConfigError:
        return ConfigError(message, key=self.key(k), path=self.path)

    def get(self, k: str, default: Any, kind: type | tuple[type, ...]) -> Any:
        self.used.add(k)
        value = self.data.get(k, default)
        if value is None:
            return None
        if isinstance(value, bool) and kind is not bool and (not isinstance(kind, tuple) or bool not in kind):
            raise self.error(k, f"must be {_kind_name(kind)}, got {value!r}")
        if not isinstance(value, kind):
            raise self.error(k, f"must be {_kind_name(kind)}, got {value!r}")
        return value

    def table(self, k: str) -> Table:
        self.used.add(k)
        return Table(self.data.get(k), self.key(k), self.path)

    def finish(self) -> None:
        unknown = sorted(set(self.data) - self.used)
        if unknown:
            raise self.error(unknown[0], "is not a known setting")


def _kind_name(kind: type | tuple[type, ...]) -> str:
    kinds = kind if isinstance(kind, tuple) else (kind,)
    names = {str: "text", int: "a whole number", float: "a number", bool: "true or false",
             list: "a list", dict: "a table"}
    return " or ".join(names.get(k, k.__name__) for k in kinds)


@dataclass(frozen=True)
class Company:
    name: str = "Exempelbolaget AB"
    orgnr: str = ""
    # The month the company's fiscal year starts (1 = calendar year); used for #RAR.
    fiscal_year_start_month: int = 1


@dataclass(frozen=True)
class AmiliSettings:
    base_url: str = "https://api-sandbox.amili.se"
    creditor: str = ""
    # A ready token comes from this environment variable ...
    api_key_env: str = "AMILI_API_KEY"
    # ... or the API-code flow: the code from this environment variable, a JWT
    # signed with the creditor's private key.
    api_code_env: str = "AMILI_API_CODE"
    private_key_file: str | None = None
    jwt_algorithm: str = "ES512"
    # Not documented publicly by Amili; Eve's default media endpoint.
    media_url: str = "{base_url}/media/{file}"
    connect_timeout: float = 10.0
    read_timeout: float = 60.0
    max_retries: int = 5
    # Total seconds the client may spend waiting between retries of one request.
    max_wait: float = 120.0
    concurrency: int = 4
    page_size: int = 100
    # Bounds on what Amili's answers may cost (amili/bounds.py): pages per list,
    # seconds per request attempt and per run, megabytes per answer (decompressed).
    max_pages: int = 10_000
    request_deadline: float = 300.0
    run_deadline: float = 3600.0
    max_response_mb: float = 100.0


@dataclass(frozen=True)
class OutputSettings:
    folder: str = "out"


@dataclass(frozen=True)
class Config:
    company: Company = field(default_factory=Company)
    amili: AmiliSettings = field(default_factory=AmiliSettings)
    output: OutputSettings = field(default_factory=OutputSettings)
    # Filled by ledger_export.ledger.settings; kept opaque here so the
    # foundation does not depend on the ledger.
    ledger: Any = None
    sie: Any = None
    source: str | None = None


JWT_ALGORITHMS = ("ES512", "ES384", "ES256", "RS512", "RS384", "RS256")


def _company(t: Table) -> Company:
    d = Company()
    orgnr = t.get("orgnr", d.orgnr, str)
    # [0-9], not \d: "５５６６７７-８８９９" would pass \d and then fail in the SIE file's
    # PC8 encoding, after the self-invoices were downloaded.
    if orgnr and not re.fullmatch(r"[0-9]{6}-[0-9]{4}", orgnr):
        raise t.error("orgnr", f"must be written nnnnnn-nnnn with digits 0-9 (and the hyphen), got {orgnr!r}")
    month = t.get("fiscal_year_start_month", d.fiscal_year_start_month, int)
    if not 1 <= month <= 12:
        raise t.error("fiscal_year_start_month", f"must be 1 to 12, got {month}")
    c = Company(name=t.get("name", d.name, str), orgnr=orgnr, fiscal_year_start_month=month)
    t.finish()
    return c


def _positive(t: Table, k: str, default: Any, kind: Any) -> Any:
    value = t.get(k, default, kind)
    if value <= 0:
        raise t.error(k, f"must be more than 0, got {value}")
    return value


def _seconds(t: Table, k: str, default: float, *, zero: bool = False) -> float:
    """A duration: TOML allows inf and nan, which no wait or deadline can be."""
    value = t.get(k, default, (int, float))
    if not math.isfinite(value):
        raise t.error(k, f"must be a finite number of seconds, got {value}")
    if value < 0 or (value == 0 and not zero):
        raise t.error(k, f"must be {'0 or more' if zero else 'more than 0'}, got {value}")
    return float(value)


def _base_url(t: Table, default: str) -> str:
    base_url = t.get("base_url", default, str).rstrip("/")
    if not re.match(r"https?://[^\s/]+", base_url):
        raise t.error("base_url", f"must be an http(s) URL, got {base_url!r}")
    try:
        # urllib refuses these only when a request is made: a port past 65535, an unclosed [.
        parts = urlsplit(base_url)
        parts.port
    except ValueError as exc:
        raise t.error("base_url", f"is not a usable URL ({exc}), got {base_url!r}") from None
    if not parts.hostname:
        raise t.error("base_url", f"has no host name, got {base_url!r}")
    return base_url


def _amili(t: Table) -> AmiliSettings:
    d = AmiliSettings()
    base_url = _base_url(t, d.base_url)
    creditor = t.get("creditor", d.creditor, str)
    if creditor and not re.fullmatch(r"[0-9a-f]{24}", creditor):
        raise t.error("creditor", f"must be a 24-character Amili id, got {creditor!r}")
    algorithm = t.get("jwt_algorithm", d.jwt_algorithm, str)
    if algorithm not in JWT_ALGORITHMS:
        raise t.error("jwt_algorithm", f"must be one of {', '.join(JWT_ALGORITHMS)}, got {algorithm!r}")
    media_url = t.get("media_url", d.media_url, str)
    if "{file}" not in media_url:
        raise t.error("media_url", "must contain {file}")
    page_size = _positive(t, "page_size", d.page_size, int)
    if page_size > 100:
        raise t.error("page_size", f"Amili serves at most 100 per page, got {page_size}")
    max_response_mb = t.get("max_response_mb", d.max_response_mb, (int, float))
    if not math.isfinite(max_response_mb) or max_response_mb <= 0:
        raise t.error("max_response_mb", f"must be a finite number of megabytes more than 0, got {max_response_mb}")
    s = AmiliSettings(
        base_url=base_url,
        creditor=creditor,
        api_key_env=t.get("api_key_env", d.api_key_env, str),
        api_code_env=t.get("api_code_env", d.api_code_env, str),
        private_key_file=t.get("private_key_file", d.private_key_file, str),
        jwt_algorithm=algorithm,
        media_url=media_url,
        connect_timeout=_seconds(t, "connect_timeout", d.connect_timeout),
        read_timeout=_seconds(t, "read_timeout", d.read_timeout),
        max_retries=t.get("max_retries", d.max_retries, int),
        max_wait=_seconds(t, "max_wait", d.max_wait, zero=True),
        concurrency=_positive(t, "concurrency", d.concurrency, int),
        page_size=page_size,
        max_pages=_positive(t, "max_pages", d.max_pages, int),
        request_deadline=_seconds(t, "request_deadline", d.request_deadline),
        run_deadline=_seconds(t, "run_deadline", d.run_deadline),
        max_response_mb=float(max_response_mb),
    )
    if s.max_retries < 0:
        raise t.error("max_retries", "must be 0 or more")
    t.finish()
    return s


def _output(t: Table) -> OutputSettings:
    s = OutputSettings(folder=t.get("folder", OutputSettings.folder, str))
    t.finish()
    return s


def _apply_overrides(doc: dict, overrides: Mapping[str, Any]) -> dict:
    doc = {k: (dict(v) if isinstance(v, Mapping) else v) for k, v in doc.items()}
    for dotted, value in overrides.items():
        if value is None:
            continue
        section, _, key = dotted.partition(".")
        doc.setdefault(section, {})[key] = value
    return doc


def from_dict(doc: Mapping[str, Any], *, source: str | None = None,
              overrides: Mapping[str, Any] | None = None) -> Config:
    # The ledger and the SIE writer own their sections; the foundation only wires them.
    from .ledger import settings as ledger_settings
    from .sie import settings as sie_settings

    doc = _apply_overrides(dict(doc), overrides or {})
    root = Table(doc, "", source)
    config = Config(
        company=_company(root.table("company")),
        amili=_amili(root.table("amili")),
        output=_output(root.table("output")),
        ledger=ledger_settings.parse(root),
        sie=sie_settings.parse(root),
        source=source,
    )
    root.finish()
    return config


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
