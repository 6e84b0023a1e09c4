"""Reading the fields of one SIE record, each problem a finding with the record's line.

The reader's building block: every accessor returns a usable value or None,
and says why in a finding, so one bad field never stops the rest of the file.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from ledger_export.sie import fields
from ledger_export.sie.model import ERROR, WARNING, FindingSeverity, SieField, SieFinding, SieRecord

# Fields that must be present, by label (§12: the bold fields). "{}" marks an object list.
MANDATORY_FIELDS: dict[str, tuple[str, ...]] = {
    "#ADRESS": ("kontakt", "utdelningsadr", "postadr", "tel"),
    "#BKOD": ("SNI-kod",), "#DIM": ("dimensionsnr", "namn"), "#ENHET": ("kontonr", "enhet"),
    "#FLAGGA": ("x",), "#FNAMN": ("företagsnamn",), "#FNR": ("företagsid",),
    "#FORMAT": ("PC8",), "#FTYP": ("företagstyp",), "#GEN": ("datum",),
    "#IB": ("årsnr", "konto", "saldo"), "#KONTO": ("kontonr", "kontonamn"),
    "#KPTYP": ("kontoplanstyp",), "#KTYP": ("kontonr", "kontotyp"),
    "#OBJEKT": ("dimensionsnr", "objektnr", "objektnamn"),
    "#OIB": ("årsnr", "konto", "{}", "saldo"), "#OUB": ("årsnr", "konto", "{}", "saldo"),
    "#OMFATTN": ("datum",), "#ORGNR": ("orgnr",),
    "#PBUDGET": ("årsnr", "period", "konto", "{}", "saldo"),
    "#PSALDO": ("årsnr", "period", "konto", "{}", "saldo"),
    "#PROGRAM": ("programnamn", "version"), "#PROSA": ("text",),
    "#RAR": ("årsnr", "start", "slut"), "#RES": ("årsnr", "konto", "saldo"),
    "#SIETYP": ("typnr",), "#SRU": ("konto", "SRU-kod"), "#TAXAR": ("år",),
    "#TRANS": ("kontonr", "{}", "belopp"), "#RTRANS": ("kontonr", "{}", "belopp"),
    "#BTRANS": ("kontonr", "{}", "belopp"), "#UB": ("årsnr", "konto", "saldo"),
    "#UNDERDIM": ("dimensionsnr", "namn", "superdimension"), "#VALUTA": ("valutakod",),
    "#VER": ("serie", "vernr", "verdatum"), "#KSUMMA": (),
}
# Records no import books from: a contact address, free text, the SRU code a tax
# return maps an account to. A mandatory field missing there breaks the spec's
# letter (Mamut writes #ADRESS without a telephone number) but no import: a warning.
INFORMATIVE = ("#ADRESS", "#PROSA", "#SRU")
# Mandatory fields that must also hold a value, not just "" (§5.15).
NOT_EMPTY = {"#FLAGGA": 1, "#FORMAT": 1, "#GEN": 1, "#SIETYP": 1, "#FNAMN": 1, "#ORGNR": 1,
             "#PROGRAM": 1, "#RAR": 3, "#KONTO": 1, "#KTYP": 2, "#SRU": 2, "#DIM": 1,
             "#OBJEKT": 2, "#IB": 3, "#UB": 3, "#RES": 3, "#OIB": 2, "#OUB": 2,
             "#PSALDO": 3, "#PBUDGET": 3, "#TRANS": 1, "#RTRANS": 1, "#BTRANS": 1}


@dataclass
class _OddAccount:
    """A non-numeric account: where it first appears, and how many records use it."""

    line: int
    label: str
    uses: int = 0


class FieldReader:
    def __init__(self) -> None:
        self.findings: list[SieFinding] = []
        self.odd_accounts: dict[str, _OddAccount] = {}

    def problem(self, line: int | None, code: str, message: str, severity: FindingSeverity = ERROR) -> None:
        self.findings.append(SieFinding(severity, line, code, message))

    def text(self, record: SieRecord, index: int) -> str:
        if index >= len(record.fields):
            return ""
        field = record.fields[index]
        if field.objects is not None:
            self.problem(record.line, "malformed", f"{record.label}: field {index + 1} is an object list "
                                                   "where a value belongs")
            return ""
        return field.text

    def objects(self, record: SieRecord, index: int) -> tuple[tuple[str, str], ...] | None:
        field = record.fields[index] if index < len(record.fields) else SieField("", objects=())
        if field.objects is None:
            self.problem(record.line, "malformed", f"{record.label}: field {index + 1} must be an object "
                                                   f"list {{...}}, got {field.text!r}")
            return None
        tokens = field.objects
        if len(tokens) % 2:
            self.problem(record.line, "malformed", f"{record.label}: object list {{{' '.join(tokens)}}} "
                                                   "must hold pairs of dimension and object")
            return None
        return tuple(zip(tokens[::2], tokens[1::2]))

    def amount(self, record: SieRecord, index: int) -> Decimal | None:
        value, problem = fields.parse_amount(self.text(record, index))
        if problem:
            self.problem(record.line, "amount", f"{record.label}: {problem}")
        return value

    def date(self, record: SieRecord, index: int, *, optional: bool = False) -> date | None:
        text = self.text(record, index)
        if optional and not text:
            return None
        value, problem = fields.parse_date(text)
        if problem:
            self.problem(record.line, "date", f"{record.label}: {problem}")
        return value

    def number(self, record: SieRecord, index: int, what: str) -> int | None:
        value, problem = fields.parse_int(self.text(record, index), what)
        if problem:
            self.problem(record.line, "malformed", f"{record.label}: {problem}")
        return value

    def account(self, record: SieRecord, index: int) -> str | None:
        """The account as written. A non-numeric one is kept (its amounts still count) and
        reported once, where it first appears, so one odd account is one finding."""
        text = self.text(record, index)
        if not text:
            self.problem(record.line, "malformed", f"{record.label}: the account number is empty")
            return None
        if not fields.is_account(text):
            self.odd_accounts.setdefault(text, _OddAccount(record.line, record.label)).uses += 1
        return text

    def quantity(self, record: SieRecord, index: int) -> Decimal | None:
        text = self.text(record, index)
        if not text:
            return None
        value, problem = fields.parse_quantity(text)
        if problem:
            self.problem(record.line, "malformed", f"{record.label}: {problem}")
        return value

    def check_fields(self, record: SieRecord) -> bool:
        """Mandatory fields present (and filled where it matters); False when the record is unusable."""
        names = MANDATORY_FIELDS.get(record.label)
        if names is None:
            return True
        severity: FindingSeverity = WARNING if record.label in INFORMATIVE else ERROR
        if len(record.fields) < len(names):
            missing = ", ".join(names[len(record.fields):])
            self.problem(record.line, "malformed", f"{record.label}: mandatory field missing: {missing}",
                         severity)
            return False
        for index in range(NOT_EMPTY.get(record.label, 0)):
            field = record.fields[index]
            if field.objects is None and not field.text.strip():
                self.problem(record.line, "malformed", f"{record.label}: mandatory field "
                                                       f"'{names[index]}' is empty", severity)
                return False
        return True

    def report_odd_accounts(self) -> None:
        for account, odd in self.odd_accounts.items():
            more = f"; {odd.uses} records use it, this is the first" if odd.uses > 1 else ""
            self.problem(odd.line, "malformed", f"{odd.label}: account {account!r} is not numeric "
                                            f"(§11 #KONTO: account numbers are numeric){more}")
