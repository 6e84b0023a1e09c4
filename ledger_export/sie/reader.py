"""Read any SIE 1-4 file (ours or another program's) into a SieFile.

Bytes in, CP437 decoded (§5.8: every byte is a character there, so decoding
never fails; a file in another encoding is caught by the validator).
Defects become findings with their line; only input that is not SIE at all
raises SieError. Records the reader does not use (#ADRESS, #PROSA, ...) are
read and kept in ``records``; unknown labels are ignored (§7.1).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal
from pathlib import Path
from types import MappingProxyType
from typing import Required, TypedDict

from ledger_export.core.input_files import MB, read_regular_file
from ledger_export.sie import checksum
from ledger_export.sie import fields
from ledger_export.sie.lexer import lex
from ledger_export.sie.model import (ERROR, WARNING, SieBalance, SieError, SieField, SieFile, SieFinding,
                                     SieRecord, SieTrans, SieVoucher)
from ledger_export.sie.record_fields import FieldReader

UTF8_BOM = b"\xef\xbb\xbf"
# A SIE file of 100,000 voucher rows is about 6 MB; a file forty times that is no ledger export.
SIZE_LIMIT = 256 * MB

ROWS = ("#TRANS", "#RTRANS", "#BTRANS")
BALANCES = ("#IB", "#UB", "#RES", "#OIB", "#OUB", "#PSALDO", "#PBUDGET")
# Balance records with an object list, and where it stands (§11).
OBJECT_LIST_AT = {"#OIB": 2, "#OUB": 2, "#PSALDO": 3, "#PBUDGET": 3}
_SPEC_LAYOUT = {"#OIB": "årsnr konto {objekt} saldo", "#OUB": "årsnr konto {objekt} saldo",
                "#PSALDO": "årsnr period konto {objekt} saldo", "#PBUDGET": "årsnr period konto {objekt} saldo"}


class _Values(TypedDict, total=False):
    """The file-level records read so far, by SieFile's field names."""

    flag: int | None
    format: str
    sie_type: int | None
    program: str
    program_version: str
    generated: date | None
    company_name: str
    orgnr: str
    fiscal_years: Required[dict[int, tuple[date, date]]]
    accounts: Required[dict[str, str]]
    account_types: Required[dict[str, str]]
    sru: Required[dict[str, tuple[str, ...]]]
    dimensions: Required[dict[str, str]]
    objects: Required[dict[tuple[str, str], str]]
    ksumma_started: bool
    ksumma: int | None


def _same_row(t: SieTrans) -> tuple[str, tuple[tuple[str, str], ...], Decimal]:
    """What an #RTRANS and its #TRANS must agree on: what is booked where.

    Not the row date, text or signature: BL Administration writes the #RTRANS
    with the day and the person who added it and the #TRANS with the voucher's
    date, and a reader of either books the same amount on the same account.
    """
    return (t.account, t.objects, t.amount)


def _is_period(text: str) -> bool:
    """YYYYMM, as #PSALDO and #PBUDGET write their period."""
    return len(text) == 6 and fields.parse_date(text + "01")[1] is None


class _Reader(FieldReader):
    def __init__(self, name: str):
        super().__init__()
        self.name = name
        self.values: _Values = {"fiscal_years": {}, "accounts": {}, "account_types": {}, "sru": {},
                             "dimensions": {}, "objects": {}}
        self.vouchers: list[SieVoucher] = []
        self.balances: list[SieBalance] = []
        self.voucher: SieVoucher | None = None  # the #VER being read
        self.in_block = False
        self.rows: dict[str, list[SieTrans]] = {k: [] for k in ROWS}
        self.complete = True
        self.pending_rtrans: SieTrans | None = None
        # (label, account and period swapped) -> [first line, count] of balances without an object list
        self.without_objects: dict[tuple[str, bool], list[int]] = {}

    # -- records ------------------------------------------------------------------------

    def read(self, record: SieRecord) -> None:
        for problem in record.problems:
            self.problem(record.line, "syntax", f"{record.label}: {problem}")
        label = record.label
        if self.in_block and label not in ROWS and label != "}":
            assert self.voucher is not None, "a block is opened only after a #VER"
            self.problem(record.line, "block", f"{label} inside the rows of the voucher on line "
                                               f"{self.voucher.line}: its '}}' is missing")
            self.close_voucher()
        if label == "{":
            if self.voucher is None or self.in_block:
                self.problem(record.line, "block", "'{' without a #VER before it")
            else:
                self.in_block = True
            return
        if label == "}":
            if self.in_block:
                self.close_voucher()
            else:
                self.problem(record.line, "block", "'}' without an open voucher block")
            return
        if self.voucher is not None and not self.in_block:
            self.problem(self.voucher.line, "block", "#VER is not followed by its rows in { }")
            self.voucher = replace(self.voucher, has_block=False)
            self.close_voucher()
        record = self.balance_layout(record)
        if not self.check_fields(record):
            if label in ROWS:
                self.complete = False
            elif label == "#VER":
                self.voucher = SieVoucher("", "", None, record.line, complete=False)
            return
        handler = HANDLERS.get(label)
        if handler is not None:
            handler(self, record)

    def read_flagga(self, r: SieRecord) -> None:
        self.values["flag"] = self.number(r, 0, "flag")

    def read_format(self, r: SieRecord) -> None:
        self.values["format"] = self.text(r, 0)

    def read_sietyp(self, r: SieRecord) -> None:
        value = self.number(r, 0, "type")
        if value is not None and not 1 <= value <= 4:
            self.problem(r.line, "malformed", f"#SIETYP: type {value} does not exist (1 to 4)")
        self.values["sie_type"] = value

    def read_program(self, r: SieRecord) -> None:
        self.values["program"], self.values["program_version"] = self.text(r, 0), self.text(r, 1)

    def read_gen(self, r: SieRecord) -> None:
        self.values["generated"] = self.date(r, 0)

    def read_fnamn(self, r: SieRecord) -> None:
        self.values["company_name"] = self.text(r, 0)

    def read_orgnr(self, r: SieRecord) -> None:
        self.values["orgnr"] = self.text(r, 0)

    def read_rar(self, r: SieRecord) -> None:
        year, start, end = self.number(r, 0, "year"), self.date(r, 1), self.date(r, 2)
        if year is None or start is None or end is None:
            return
        if end < start:
            self.problem(r.line, "date", f"#RAR {year}: ends {end} before it starts {start}")
        elif year in self.values["fiscal_years"]:
            self.problem(r.line, "malformed", f"#RAR {year} is declared twice")
        else:
            self.values["fiscal_years"][year] = (start, end)

    def read_konto(self, r: SieRecord) -> None:
        account = self.account(r, 0)
        if account is not None:
            self.values["accounts"][account] = self.text(r, 1)

    def read_ktyp(self, r: SieRecord) -> None:
        account, kind = self.account(r, 0), self.text(r, 1)
        if account is None:
            return
        if kind not in ("T", "S", "K", "I"):
            self.problem(r.line, "malformed", f"#KTYP {account}: type {kind!r} is not T, S, K or I")
        if account not in self.values["accounts"]:
            # The spec's letter (§11 #KTYP); a reader that collects the chart first does not mind.
            self.problem(r.line, "record-order", f"#KTYP {account}: the account's #KONTO must come "
                                                 "before its #KTYP", WARNING)
        self.values["account_types"][account] = kind

    def read_sru(self, r: SieRecord) -> None:
        account = self.account(r, 0)
        if account is not None:
            codes = self.values["sru"].get(account, ())
            self.values["sru"][account] = codes + (self.text(r, 1),)

    def read_dim(self, r: SieRecord) -> None:
        self.values["dimensions"][self.text(r, 0)] = self.text(r, 1)

    def read_objekt(self, r: SieRecord) -> None:
        self.values["objects"][(self.text(r, 0), self.text(r, 1))] = self.text(r, 2)

    def read_ksumma(self, r: SieRecord) -> None:
        if not r.fields:
            self.values["ksumma_started"] = True
            return
        value = self.number(r, 0, "checksum")
        if value is not None and not 0 <= value < 2 ** 32:
            self.problem(r.line, "ksumma", f"#KSUMMA {value} is not a CRC-32 value")
        self.values["ksumma"] = value

    def read_balance(self, r: SieRecord) -> None:
        year = self.number(r, 0, "year")
        at = 1
        period = ""
        if r.label in ("#PSALDO", "#PBUDGET"):
            period = self.text(r, 1)
            if not _is_period(period):
                self.problem(r.line, "date", f"{r.label}: period {period!r} is not written YYYYMM")
            at = 2
        account = self.account(r, at)
        objects: tuple[tuple[str, str], ...] | None = ()
        if r.label in ("#OIB", "#OUB", "#PSALDO", "#PBUDGET"):
            objects = self.objects(r, at + 1)
            at += 1
        amount = self.amount(r, at + 1)
        quantity = self.quantity(r, at + 2)
        if year is not None and account is not None and objects is not None and amount is not None:
            self.balances.append(SieBalance(r.label[1:], year, account, amount, r.line, period,
                                            objects, quantity))

    def balance_layout(self, r: SieRecord) -> SieRecord:
        """A balance record written without its object list, as the spec would have it.

        BL Administration writes "#PBUDGET 0 1119 201701 -1666.00": no object
        list, and the account before the period. Read by the spec, every such
        line lacks its amount; the file has one defect, reported once per label
        (in finish), and its balances are still read as meant. Only the fields
        read change: ``records`` keeps the line as written, for #KSUMMA.
        """
        at = OBJECT_LIST_AT.get(r.label)
        if at is None or len(r.fields) <= at or any(f.objects is not None for f in r.fields):
            return r
        fields = list(r.fields)
        swapped = at == 3 and not _is_period(fields[1].text) and _is_period(fields[2].text)
        if swapped:
            fields[1], fields[2] = fields[2], fields[1]
        fields.insert(at, SieField("", objects=()))
        self.without_objects.setdefault((r.label, swapped), [r.line, 0])[1] += 1
        return replace(r, fields=tuple(fields))

    def report_layouts(self) -> None:
        for (label, swapped), (line, count) in self.without_objects.items():
            times = f"{count} records, the first here" if count > 1 else "1 record"
            written = "årsnr konto period saldo" if swapped else "without its object list"
            self.problem(line, "malformed", (
                f"{label} is written {written} ({times}); §11 writes {label} {_SPEC_LAYOUT[label]}, "
                "with {} for no objects. Read here as meant, but a program that follows the spec "
                "misreads or refuses every one of these records"))

    # -- vouchers -------------------------------------------------------------------------

    def read_ver(self, r: SieRecord) -> None:
        self.voucher = SieVoucher(
            series=self.text(r, 0), number=self.text(r, 1), date=self.date(r, 2), line=r.line,
            text=self.text(r, 3), reg_date=self.date(r, 4, optional=True), sign=self.text(r, 5),
        )

    def read_row(self, r: SieRecord) -> None:
        if not self.in_block:
            self.problem(r.line, "block", f"{r.label} outside a voucher's {{ }} block")
            return
        account, objects, amount = self.account(r, 0), self.objects(r, 1), self.amount(r, 2)
        row_date, text = self.date(r, 3, optional=True), self.text(r, 4)
        quantity, sign = self.quantity(r, 5), self.text(r, 6)
        if account is None or objects is None or amount is None:
            self.complete = False
            self.pending_rtrans = None
            return
        row = SieTrans(account, amount, r.line, objects, row_date, text, quantity, sign, r.label[1:])
        self.check_rtrans(row)
        self.rows[r.label].append(row)

    def check_rtrans(self, row: SieTrans | None) -> None:
        """§11 #RTRANS: an added row is written again as the #TRANS right after it.

        ``row`` is the row after the last one, None at the end of the voucher.
        """
        added = self.pending_rtrans
        self.pending_rtrans = row if row is not None and row.kind == "RTRANS" else None
        if added is None:
            return
        if row is None or row.kind != "TRANS" or _same_row(row) != _same_row(added):
            self.problem(added.line, "rtrans", f"#RTRANS {added.account} {added.amount} is not directly "
                                               "followed by a #TRANS of the same account, objects and "
                                               "amount (§11)")

    def close_voucher(self) -> None:
        self.check_rtrans(None)
        if self.voucher is not None:
            self.vouchers.append(replace(
                self.voucher, transactions=tuple(self.rows["#TRANS"]), added=tuple(self.rows["#RTRANS"]),
                removed=tuple(self.rows["#BTRANS"]), complete=self.voucher.complete and self.complete))
        self.voucher, self.in_block, self.complete = None, False, True
        self.rows = {k: [] for k in ROWS}

    def finish(self) -> None:
        self.report_odd_accounts()
        self.report_layouts()
        if self.in_block:
            assert self.voucher is not None, "a block is opened only after a #VER"
            self.problem(self.voucher.line, "block", "the rows of this voucher are never closed with '}'")
            self.close_voucher()
        elif self.voucher is not None:
            self.problem(self.voucher.line, "block", "#VER is not followed by its rows in { }")
            self.voucher = replace(self.voucher, has_block=False)
            self.close_voucher()


# Records the reader interprets; every other one is kept in ``records`` only.
HANDLERS = {
    "#FLAGGA": _Reader.read_flagga, "#FORMAT": _Reader.read_format, "#SIETYP": _Reader.read_sietyp,
    "#PROGRAM": _Reader.read_program, "#GEN": _Reader.read_gen, "#FNAMN": _Reader.read_fnamn,
    "#ORGNR": _Reader.read_orgnr, "#RAR": _Reader.read_rar, "#KONTO": _Reader.read_konto,
    "#KTYP": _Reader.read_ktyp, "#SRU": _Reader.read_sru, "#DIM": _Reader.read_dim,
    "#UNDERDIM": _Reader.read_dim, "#OBJEKT": _Reader.read_objekt, "#KSUMMA": _Reader.read_ksumma,
    "#VER": _Reader.read_ver,
    **{label: _Reader.read_row for label in ROWS},
    **{label: _Reader.read_balance for label in BALANCES},
}


def read_sie(data: bytes, name: str = "<bytes>") -> SieFile:
    if not isinstance(data, (bytes, bytearray)):
        raise TypeError(f"read_sie wants bytes, got {type(data).__name__}")
    head: list[SieFinding] = []
    if data.startswith(UTF8_BOM):
        head.append(SieFinding(ERROR, 1, "encoding", "the file starts with a UTF-8 byte order mark; "
                                                     "SIE files are PC8 (CP437) text without one"))
        data = data[len(UTF8_BOM):]
    records, ends_with_newline = lex(bytes(data).decode("cp437"))
    if not records or not records[0].label.startswith("#"):
        raise SieError(f"{name}: not a SIE file (it does not start with a #-record such as #FLAGGA)")
    reader = _Reader(name)
    for record in records:
        reader.read(record)
    reader.finish()
    values = reader.values
    return SieFile(
        name=name, flag=values.get("flag"), format=values.get("format"), sie_type=values.get("sie_type"),
        program=values.get("program", ""), program_version=values.get("program_version", ""),
        generated=values.get("generated"), company_name=values.get("company_name", ""),
        orgnr=values.get("orgnr", ""),
        fiscal_years=MappingProxyType(values["fiscal_years"]),
        accounts=MappingProxyType(values["accounts"]),
        account_types=MappingProxyType(values["account_types"]), sru=MappingProxyType(values["sru"]),
        dimensions=MappingProxyType(values["dimensions"]), objects=MappingProxyType(values["objects"]),
        vouchers=tuple(reader.vouchers), balances=tuple(reader.balances),
        ksumma_started=values.get("ksumma_started", False), ksumma=values.get("ksumma"),
        ksumma_computed=checksum.between_marks(records), records=records,
        findings=tuple(head + reader.findings), ends_with_newline=ends_with_newline,
    )


def file_bytes(path: str | Path) -> bytes:
    """The bytes of a SIE file on disk; SieError when it cannot be read.

    Only a regular file up to SIZE_LIMIT: a FIFO, a device or a folder is
    refused without waiting on it or reading it (core/input_files.py).
    """
    return read_regular_file(path, SIZE_LIMIT, "SIE file", SieError)


def read_sie_file(path: str | Path) -> SieFile:
    return read_sie(file_bytes(path), str(path))
