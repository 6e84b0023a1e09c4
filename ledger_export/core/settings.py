"""Reading the TOML configuration strictly, and the foundation's own sections.

Every key has a default and unknown keys are refused, naming the key. Each
layer reads its own section with a ``Table`` (``[amili]`` in
amili/settings.py, ``[ledger]`` in ledger/settings.py, ``[sie]`` in
sie/settings.py); jobs/config.py puts the sections together into one Config.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, TypeVar, overload

from ledger_export.core.errors import ConfigError
from ledger_export.core.orgnr import OrgnrProblem, normalise as normalise_orgnr


T = TypeVar("T")


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

    # The value is checked against ``kind`` before it is returned, so the result
    # has the kind's type; None only where the default is None (TOML has no null).
    @overload
    def get(self, k: str, default: None, kind: type[T]) -> T | None: ...
    @overload
    def get(self, k: str, default: T, kind: type[T]) -> T: ...
    @overload
    def get(self, k: str, default: float, kind: tuple[type[int], type[float]]) -> float: ...

    def get(self, k: str, default: Any, kind: type | tuple[type, ...]) -> Any:
        self.used.add(k)
        value = self.data.get(k, default)
        if value is None:
            return None
        if isinstance(value, bool) and kind is not bool and (not isinstance(kind, tuple) or bool not in kind):
            raise self.error(k, f"must be {kind_name(kind)}, got {value!r}")
        if not isinstance(value, kind):
            raise self.error(k, f"must be {kind_name(kind)}, got {value!r}")
        return value

    def table(self, k: str) -> Table:
        self.used.add(k)
        return Table(self.data.get(k), self.key(k), self.path)

    def finish(self) -> None:
        unknown = sorted(set(self.data) - self.used)
        if unknown:
            raise self.error(unknown[0], "is not a known setting")


def kind_name(kind: type | tuple[type, ...]) -> str:
    kinds = kind if isinstance(kind, tuple) else (kind,)
    names = {str: "text", int: "a whole number", float: "a number", bool: "true or false",
             list: "a list", dict: "a table"}
    return " or ".join(names.get(k, k.__name__) for k in kinds)


@dataclass(frozen=True)
class Company:
    name: str = "Exempelbolaget AB"
    # nnnnnn-nnnn, check digit verified (core/orgnr.py); "" until filled in, and an export refuses that.
    orgnr: str = ""
    # The month the company's fiscal year starts (1 = calendar year); used for #RAR.
    fiscal_year_start_month: int = 1


@dataclass(frozen=True)
class OutputSettings:
    folder: str = "out"


def read_company(t: Table) -> Company:
    d = Company()
    orgnr = t.get("orgnr", d.orgnr, str)
    # Empty is allowed here (fetch, validate and init do not need it); every export refuses it.
    if orgnr:
        try:
            orgnr = normalise_orgnr(orgnr)
        except OrgnrProblem as exc:
            raise t.error("orgnr", str(exc)) from None
    month = t.get("fiscal_year_start_month", d.fiscal_year_start_month, int)
    if not 1 <= month <= 12:
        raise t.error("fiscal_year_start_month", f"must be 1 to 12, got {month}")
    c = Company(name=t.get("name", d.name, str), orgnr=orgnr, fiscal_year_start_month=month)
    t.finish()
    return c


def positive(t: Table, k: str, default: int, kind: type[int]) -> int:
    value = t.get(k, default, kind)
    if value <= 0:
        raise t.error(k, f"must be more than 0, got {value}")
    return value


def seconds(t: Table, k: str, default: float, *, zero: bool = False) -> float:
    """A duration: TOML allows inf and nan, which no wait or deadline can be."""
    value = t.get(k, default, (int, float))
    if not math.isfinite(value):
        raise t.error(k, f"must be a finite number of seconds, got {value}")
    if value < 0 or (value == 0 and not zero):
        raise t.error(k, f"must be {'0 or more' if zero else 'more than 0'}, got {value}")
    return float(value)


def read_output(t: Table) -> OutputSettings:
    s = OutputSettings(folder=t.get("folder", OutputSettings.folder, str))
    t.finish()
    return s
