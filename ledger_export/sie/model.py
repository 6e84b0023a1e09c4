"""What a SIE file says, as read: immutable records with the line each came from.

The reader fills these from any SIE 1-4 file (ours or another program's);
the validator and the chart-of-accounts import (``--chart``) consume them.
Account and object numbers stay text, as written in the file: "0123" and
"123" are different objects.

There is one SieRecord per line, and a SieField per field and a SieTrans
per row: those have ``__slots__`` (no dict per object), which takes 16 MB
off reading back our own 100,000-row file.
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from types import MappingProxyType
from typing import Any, Final, Literal

from ledger_export.core.errors import LedgerExportError

FindingSeverity = Literal["error", "warning"]
ERROR: Final = "error"
WARNING: Final = "warning"


class SieError(LedgerExportError):
    """Input that cannot be read as a SIE file at all (not one that merely has defects)."""


@dataclass(frozen=True)
class SieFinding:
    """One defect in a SIE file; ``line`` is 1-based, None when it concerns the whole file."""

    severity: FindingSeverity
    line: int | None
    code: str
    message: str


@dataclass(frozen=True, slots=True)
class SieTrans:
    """One #TRANS (or #RTRANS/#BTRANS) row of a voucher; positive is debit."""

    account: str
    amount: Decimal
    line: int
    objects: tuple[tuple[str, str], ...] = ()
    date: date | None = None  # None: the voucher's date applies
    text: str = ""
    quantity: Decimal | None = None
    sign: str = ""
    kind: str = "TRANS"  # TRANS, RTRANS or BTRANS


@dataclass(frozen=True)
class SieVoucher:
    """A #VER and its rows.

    ``transactions`` are the #TRANS rows: the voucher as it stands in the
    books, and what must balance. The spec writes every added row twice
    (#RTRANS directly followed by an identical #TRANS, so old readers still
    see it), so ``added`` only says which rows came later; ``removed`` are
    the #BTRANS rows, struck out and not part of the balance.
    """

    series: str
    number: str
    date: date | None
    line: int
    text: str = ""
    reg_date: datetime.date | None = None  # datetime.: the field "date" above hides the type here
    sign: str = ""
    transactions: tuple[SieTrans, ...] = ()
    added: tuple[SieTrans, ...] = ()
    removed: tuple[SieTrans, ...] = ()
    # False when a row could not be read: its balance says nothing then.
    complete: bool = True
    # False when the #VER had no { } block of rows at all.
    has_block: bool = True

    @property
    def label(self) -> str:
        """How a bookkeeper finds the voucher: series, number and date."""
        number = " ".join(p for p in (self.series, self.number) if p) or "(unnumbered)"
        day = self.date.isoformat() if self.date else "(no date)"
        return f"{number} {day}"

    def balance(self) -> Decimal:
        return sum((t.amount for t in self.transactions), Decimal("0.00"))


@dataclass(frozen=True)
class SieBalance:
    """A balance record: #IB #UB #RES #OIB #OUB #PSALDO or #PBUDGET."""

    kind: str
    year: int
    account: str
    amount: Decimal
    line: int
    period: str = ""  # YYYYMM, for #PSALDO and #PBUDGET
    objects: tuple[tuple[str, str], ...] = ()
    quantity: Decimal | None = None


@dataclass(frozen=True, slots=True)
class SieField:
    """One lexed field: plain text (quoted or not) or an object list ``{...}``."""

    text: str
    quoted: bool = False
    objects: tuple[str, ...] | None = None  # the tokens inside { }, when it is a list


@dataclass(frozen=True, slots=True)
class SieRecord:
    """One line of the file: a label ("#VER", or "{" / "}") and its fields."""

    line: int
    label: str
    fields: tuple[SieField, ...] = ()
    problems: tuple[str, ...] = ()


def _frozen(mapping: Mapping[Any, Any] | None = None) -> Mapping[Any, Any]:
    return MappingProxyType(dict(mapping or {}))


@dataclass(frozen=True)
class SieFile:
    name: str
    flag: int | None = None
    format: str | None = None
    sie_type: int | None = None
    program: str = ""
    program_version: str = ""
    generated: date | None = None
    company_name: str = ""
    orgnr: str = ""
    # Year number (0 current, -1 previous, ...) to (first day, last day).
    fiscal_years: Mapping[int, tuple[date, date]] = field(default_factory=_frozen)
    accounts: Mapping[str, str] = field(default_factory=_frozen)
    account_types: Mapping[str, str] = field(default_factory=_frozen)
    sru: Mapping[str, tuple[str, ...]] = field(default_factory=_frozen)
    dimensions: Mapping[str, str] = field(default_factory=_frozen)
    objects: Mapping[tuple[str, str], str] = field(default_factory=_frozen)
    vouchers: tuple[SieVoucher, ...] = ()
    balances: tuple[SieBalance, ...] = ()
    # #KSUMMA: whether the opening record is there, the closing value, and
    # the CRC-32 of the records between them as this file holds them.
    ksumma_started: bool = False
    ksumma: int | None = None
    ksumma_computed: int | None = None
    records: tuple[SieRecord, ...] = ()
    # Defects met while reading (syntax, malformed fields); validate() adds the rest.
    findings: tuple[SieFinding, ...] = ()
    ends_with_newline: bool = True
