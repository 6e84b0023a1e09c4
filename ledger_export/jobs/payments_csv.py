"""The payments file for ``ledger-export payments register``: read and validated before any request.

Columns (header row, any order, names as below, case and spaces ignored):

    case                   Amili case id     } exactly one of the two per row
    invoice_number         invoice number    }
    amount                 1234.50 or 1234,50; thousands may be grouped (see below)
    currency               optional; SEK (the only currency Amili takes)
    bank_transaction_date  YYYY-MM-DD, the day the money reached the bank
    reference              the payment's own reference, unique in the file

Amili's own field names for the creditor payment resource are read as well,
so a file another system writes with them needs no renaming:
creditor_payment_reference is reference; bank_transaction_date may also be
written as Amili writes it (RFC 1123, "Fri, 04 Jul 2025 00:00:00 GMT": its
day as written); and the columns creditor (must be the configured creditor)
and origin (must be creditor_system) are checked, as what is sent anyway.

UTF-8, with or without the byte-order mark Excel writes ("CSV UTF-8");
comma-, semicolon- (Swedish Excel) or tab-separated, told from the header.
Every problem in every row is reported at once, one line per row, as
``file:line: column: problem`` (the amount's also gives the column's number).

The amount rule. A spreadsheet may write one thousand as 1000, 1 000,
1.000 or 1,000, and a point or comma is also a decimal sign, so 1,000 may
as well be one krona. A payment reported to Amili as 1 kr instead of
1 000 kr leaves a paid debt in collection, so an amount is read only when
one reading is possible; otherwise the row is refused, saying how to write
it:

- Only the digits 0-9 (not full-width or Arabic-Indic ones), an optional
  leading + or -, and separators: point, comma, or a space (also the
  no-break, narrow no-break and thin spaces Excel writes).
- One point or comma followed by one or two digits is the decimal sign:
  1234,5  1234.50.
- One point or comma with one to three digits before it and exactly three
  after is ambiguous and refused: 1,000  1.000  2,500  10.005  -1,000
  (write 1000 or 1000.00). With four or more digits before it (12345,678)
  it can only be a decimal sign, with too many decimals (below).
- Thousands are grouped in threes (the first group one to three digits)
  with one kind of separator, followed by nothing or by a decimal sign of
  another kind and one or two digits: 1 000  1 000,50  1.000,50
  1,000.50  1.000.000  1,000,000. A decimal sign may appear only once, so
  1.000.000 can only be a million.
- Anything else is refused: groups not of three (10 00, 1,00,000), two
  kinds of grouping (1.000 000), more than two decimals (1.0005,
  1 000,505), a point or comma twice and then decimals (1.000.50).
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path

from ledger_export.amili import timestamps
from ledger_export.core.errors import LedgerExportError
from ledger_export.core.input_files import MB, read_regular_file
from ledger_export.core.money import ORE, parse_amount

REQUIRED = ("amount", "bank_transaction_date", "reference")
TARGETS = ("case", "invoice_number")
OPTIONAL = ("currency",)
# Fields of Amili's resource a file may carry: each must say what the POST says anyway.
CHECKED = ("creditor", "origin")
COLUMNS = TARGETS + REQUIRED + OPTIONAL + CHECKED
# Amili's field name -> ours, for the same column.
ALIASES = {"creditor_payment_reference": "reference"}
ORIGIN = "creditor_system"
DELIMITERS = (";", ",", "\t")
FILE_LIMIT = 64 * MB  # a year of daily payments is a few hundred kB
CURRENCY = "SEK"
# Excel's grouping spaces: space, no-break space, narrow no-break space, thin space.
_SPACES = " \u00a0\u202f\u2009"
# Digit runs joined by single separators; [0-9], not \d, which takes every script's digits.
_AMOUNT = re.compile(rf"([+-]?)([0-9]+(?:[.,{_SPACES}][0-9]+)*)")
_RUNS = re.compile(r"[0-9]+")
_SEPARATOR = re.compile(r"[^0-9]")
_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")
_OBJECT_ID = re.compile(r"[0-9a-f]{24}")


class PaymentFileError(LedgerExportError):
    """A payments file that cannot be registered; one line per bad row, nothing was sent."""

    def __init__(self, name: str, problems: list[tuple[int | None, str]]):
        self.problems = tuple(problems)
        lines = [f"{name}:{line}: {text}" if line else f"{name}: {text}" for line, text in problems]
        super().__init__("\n".join(lines))


@dataclass(frozen=True)
class PaymentRow:
    """One payment a debtor made straight to the creditor, as the file states it."""

    line: int
    reference: str
    amount: Decimal
    bank_transaction_date: date
    case: str | None = None
    invoice_number: str | None = None
    currency: str = CURRENCY

    @property
    def target(self) -> str:
        return f"case {self.case}" if self.case else f"invoice {self.invoice_number}"


def read_payments(path: Path, *, today: date, name: str | None = None,
                  creditor: str | None = None) -> tuple[PaymentRow, ...]:
    path = Path(path)
    name = name or str(path)
    try:
        # A regular file of bounded size: a FIFO or /dev/zero named by mistake must not hang the run.
        data = read_regular_file(path, FILE_LIMIT, "payments file", LedgerExportError)
    except LedgerExportError as exc:
        raise PaymentFileError(name, [(None, str(exc).replace(f"cannot read {path}: ", "cannot read it: "))]) from None
    return parse_payments(data, name=name, today=today, creditor=creditor)


def parse_payments(data: bytes, *, name: str, today: date, creditor: str | None = None) -> tuple[PaymentRow, ...]:
    """The file's payments, or PaymentFileError listing every problem (``today``: no clock here).

    ``creditor``: the one the payments are registered for; a creditor column must name it.
    """
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise PaymentFileError(name, [(None, f"is not UTF-8 text (byte {exc.start}); in Excel save it "
                                             f"as \"CSV UTF-8\"")]) from None
    header_line = text.splitlines()[0] if text.strip() else ""
    delimiter = _delimiter(header_line)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    written = [h.strip().lower() for h in next(reader, [])]
    header = [ALIASES.get(h, h) for h in written]
    _check_header(name, header, written)
    # Each column by the name the file gives it, for the messages.
    shown = {h: w for h, w in zip(header, written)}
    rows: list[PaymentRow] = []
    problems: list[tuple[int | None, str]] = []
    references: dict[str, int] = {}  # reference -> the line that has it first
    while True:
        line = reader.line_num + 1  # where the record starts, even if a quoted field spans lines
        try:
            fields = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            raise PaymentFileError(name, [(line, f"cannot be read as CSV: {exc}")]) from None
        if not any(f.strip() for f in fields):
            continue  # a blank line, or Excel's ";;;;" for an empty row: no payment
        if len(fields) > len(header):
            problems.append((line, f"has {len(fields)} fields, the header has {len(header)}"))
            continue
        values = dict(zip(header, (f.strip() for f in fields)))
        row, errors = _row(line, values, today, header, shown, creditor)
        reference = values.get("reference", "")
        if reference and reference in references:
            errors.append(f"{shown['reference']}: {reference} is also on line {references[reference]}: "
                          f"each payment needs its own reference")
        references.setdefault(reference, line)
        if errors:
            problems.append((line, "; ".join(errors)))
        elif row is not None:  # None only with errors
            rows.append(row)
    if problems:
        raise PaymentFileError(name, problems)
    if not rows:
        raise PaymentFileError(name, [(None, "holds no payments (only a header)")])
    return tuple(rows)


def _delimiter(header_line: str) -> str:
    """The separator that splits the header into the most known column names."""
    def known(d: str) -> int:
        return sum(1 for h in next(csv.reader([header_line], delimiter=d), [])
                   if h.strip().lower() in COLUMNS or h.strip().lower() in ALIASES)

    return max(DELIMITERS, key=lambda d: (known(d), -DELIMITERS.index(d)))


def _check_header(name: str, header: list[str], written: list[str]) -> None:
    problems = []
    unknown = [h or "(empty)" for h in header if h not in COLUMNS]
    if unknown:
        problems.append(f"unknown column{'s' if len(unknown) > 1 else ''} {', '.join(unknown)} "
                        f"(the columns are {', '.join((*COLUMNS, *ALIASES))})")
    for column in sorted({h for h in header if h and header.count(h) > 1}):
        names = list(dict.fromkeys(w for h, w in zip(header, written) if h == column))
        problems.append(f"column {column} appears more than once" if len(names) == 1 else
                        f"columns {' and '.join(names)} are the same column: give one of them")
    missing = [c for c in REQUIRED if c not in header]
    if not any(t in header for t in TARGETS):
        missing.insert(0, "case or invoice_number")
    if missing:
        problems.append(f"missing column{'s' if len(missing) > 1 else ''} {', '.join(missing)}")
    if problems:
        raise PaymentFileError(name, [(1, "; ".join(problems))])


def _row(line: int, v: dict[str, str], today: date, header: list[str], shown: dict[str, str],
         creditor: str | None) -> tuple[PaymentRow | None, list[str]]:
    errors: list[str] = []
    _checked(v, creditor, errors)
    # Ids are hex: an upper-case copy from a spreadsheet is the same id.
    case, invoice = v.get("case", "").lower(), v.get("invoice_number", "")
    if case and invoice:
        errors.append("case/invoice_number: give one of them, not both")
    elif not case and not invoice:
        errors.append("case/invoice_number: give the Amili case id or the invoice number")
    elif case and not _OBJECT_ID.fullmatch(case):
        errors.append(f"case: must be a 24-character Amili case id, got {case!r:.40}")
    amount = _amount(v.get("amount", ""), header.index("amount") + 1, errors)
    currency = (v.get("currency") or CURRENCY).upper()
    if currency != CURRENCY:
        errors.append(f"currency: must be {CURRENCY} (the only currency Amili takes), got {currency:.10}")
    day = _day(v.get("bank_transaction_date", ""), today, errors)
    reference = v.get("reference", "")
    if not reference:
        errors.append(f"{shown['reference']}: is empty; every payment needs its own reference (e.g. the bank's "
                      "transaction id): it is how a re-run recognises payments Amili already has")
    if errors or amount is None or day is None:  # amount and day are None only with an error
        return None, errors
    return PaymentRow(line, reference, amount, day, case or None, invoice or None, currency), errors


def _checked(v: dict[str, str], creditor: str | None, errors: list[str]) -> None:
    """Amili's creditor and origin, when the file has them: what the POST sends anyway, or refused."""
    given = v.get("creditor", "").lower()
    if given and not _OBJECT_ID.fullmatch(given):
        errors.append(f"creditor: must be a 24-character Amili creditor id, got {given!r:.40}")
    elif given and creditor is not None and given != creditor:
        errors.append(f"creditor: is {given}, but the configuration registers payments for creditor {creditor}")
    origin = v.get("origin", "")
    if origin and origin.lower() != ORIGIN:
        errors.append(f"origin: must be {ORIGIN} (a payment made to the creditor) or empty, got {origin!r:.40}")


def _amount(text: str, column: int, errors: list[str]) -> Decimal | None:
    """The amount by the rule in the module docstring, or None with the reason in ``errors``."""
    try:
        value = read_amount(text)
    except ValueError as exc:
        errors.append(f"amount (column {column}): {exc}")
        return None
    if value <= 0:
        errors.append(f"amount (column {column}): must be more than 0, got {text}")
        return None
    return value


def read_amount(text: str) -> Decimal:
    """``text`` as written in a payments file, or ValueError saying why and how to write it."""
    if not text:
        raise ValueError("is empty")
    if any(ch.isdigit() and not ch.isascii() for ch in text):
        raise ValueError(f"write it with the digits 0-9, got {text!r:.20}")
    match = _AMOUNT.fullmatch(text)
    if match is None:
        raise ValueError(f"is not an amount, got {text!r:.20}")
    sign, body = match.groups()
    runs = _RUNS.findall(body)
    seps = [" " if ch in _SPACES else ch for ch in _SEPARATOR.findall(body)]
    decimals = ""
    # The last separator is the decimal sign if it is a point or comma used nowhere else.
    if seps and seps[-1] in ".," and seps[-1] not in seps[:-1]:
        if len(seps) == 1 and len(runs[0]) <= 3 and len(runs[1]) == 3:
            raise ValueError(_ambiguous(text, sign, runs, seps[-1]))
        decimals, runs, seps = runs[-1], runs[:-1], seps[:-1]
        if len(decimals) > 2:
            raise ValueError(f"has more than two decimals: {text}")
    if seps and (len(set(seps)) > 1 or len(runs[0]) > 3 or any(len(r) != 3 for r in runs[1:])):
        raise ValueError(f"cannot tell where the thousands are in {text!r:.20}: group them in threes "
                         f"(1 234 567,50 or 1.234.567,50) or leave them out (1234567,50)")
    value = Decimal(f"{sign}{''.join(runs)}.{decimals or '0'}")
    return parse_amount(value)


def _ambiguous(text: str, sign: str, runs: list[str], mark: str) -> str:
    """1,000: a thousand, or one krona with three decimals? Say both, and how to write it."""
    thousands = f"{sign}{runs[0]}{runs[1]}"
    small = Decimal(f"{sign}{runs[0]}.{runs[1]}")
    hint = f"write {thousands} or {thousands}{mark}00"
    if small != small.quantize(ORE):
        return f"{text} could be {thousands} or {text} with three decimals — {hint}"

    def written(value: Decimal) -> str:  # in the file's own decimal sign
        return f"{value:f}".replace(".", mark)

    small_text = written(small.normalize())
    return f"{text} could be {thousands} or {small_text} — {hint} (or {written(small.quantize(ORE))} for {small_text})"


def _day(text: str, today: date, errors: list[str]) -> date | None:
    if not text:
        errors.append("bank_transaction_date: is empty")
        return None
    try:
        # YYYY-MM-DD, or the RFC 1123 form Amili's own API writes (its day, as Amili reads it).
        day = date.fromisoformat(text) if _DAY.fullmatch(text) else timestamps.parse_day(text)
    except ValueError:
        errors.append(f"bank_transaction_date: must be a date written YYYY-MM-DD, got {text!r:.40}")
        return None
    if day > today:
        errors.append(f"bank_transaction_date: {day} is in the future (today is {today})")
        return None
    return day
