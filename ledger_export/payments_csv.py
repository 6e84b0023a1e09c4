"""The payments file for ``ledger-export payments register``: read and validated before any request.

Columns (header row, any order, names as below, case and spaces ignored):

    case                   Amili case id     } exactly one of the two per row
    invoice_number         invoice number    }
    amount                 1234.50 or 1234,50 (spaces as thousands separators are fine)
    currency               optional; SEK (the only currency Amili takes)
    bank_transaction_date  YYYY-MM-DD, the day the money reached the bank
    reference              the payment's own reference, unique in the file

UTF-8, with or without the byte-order mark Excel writes ("CSV UTF-8");
comma-, semicolon- (Swedish Excel) or tab-separated, told from the header.
Every problem in every row is reported at once, one line per row, as
``file:line: column: problem``.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path

from .errors import LedgerExportError
from .money import parse_amount

REQUIRED = ("amount", "bank_transaction_date", "reference")
TARGETS = ("case", "invoice_number")
OPTIONAL = ("currency",)
COLUMNS = TARGETS + REQUIRED + OPTIONAL
DELIMITERS = (";", ",", "\t")
CURRENCY = "SEK"
_NUMBER = re.compile(r"[+-]?\d+(\.\d+)?")
_SPACES = re.compile(r"[\s\u00a0\u202f]")  # Excel's grouping: space, no-break space, narrow no-break space
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


def read_payments(path: Path, *, today: date, name: str | None = None) -> tuple[PaymentRow, ...]:
    path = Path(path)
    name = name or str(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise PaymentFileError(name, [(None, f"cannot read it: {exc.strerror or exc}")]) from exc
    return parse_payments(data, name=name, today=today)


def parse_payments(data: bytes, *, name: str, today: date) -> tuple[PaymentRow, ...]:
    """The file's payments, or PaymentFileError listing every problem (``today``: no clock here)."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise PaymentFileError(name, [(None, f"is not UTF-8 text (byte {exc.start}); in Excel save it "
                                             f"as \"CSV UTF-8\"")]) from None
    header_line = text.splitlines()[0] if text.strip() else ""
    delimiter = _delimiter(header_line)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    header = [h.strip().lower() for h in next(reader, [])]
    _check_header(name, header)
    rows, problems, references = [], [], {}
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
        row, errors = _row(line, values, today)
        reference = values.get("reference", "")
        if reference and reference in references:
            errors.append(f"reference: {reference} is also on line {references[reference]}: "
                          f"each payment needs its own reference")
        references.setdefault(reference, line)
        if errors:
            problems.append((line, "; ".join(errors)))
        else:
            rows.append(row)
    if problems:
        raise PaymentFileError(name, problems)
    if not rows:
        raise PaymentFileError(name, [(None, "holds no payments (only a header)")])
    return tuple(rows)


def _delimiter(header_line: str) -> str:
    """The separator that splits the header into the most known column names."""
    def known(d: str) -> int:
        return sum(1 for h in next(csv.reader([header_line], delimiter=d), []) if h.strip().lower() in COLUMNS)

    return max(DELIMITERS, key=lambda d: (known(d), -DELIMITERS.index(d)))


def _check_header(name: str, header: list[str]) -> None:
    problems = []
    unknown = [h or "(empty)" for h in header if h not in COLUMNS]
    if unknown:
        problems.append(f"unknown column{'s' if len(unknown) > 1 else ''} {', '.join(unknown)} "
                        f"(the columns are {', '.join(COLUMNS)})")
    doubled = sorted({h for h in header if h and header.count(h) > 1})
    if doubled:
        problems.append(f"column {', '.join(doubled)} appears more than once")
    missing = [c for c in REQUIRED if c not in header]
    if not any(t in header for t in TARGETS):
        missing.insert(0, "case or invoice_number")
    if missing:
        problems.append(f"missing column{'s' if len(missing) > 1 else ''} {', '.join(missing)}")
    if problems:
        raise PaymentFileError(name, [(1, "; ".join(problems))])


def _row(line: int, v: dict[str, str], today: date) -> tuple[PaymentRow | None, list[str]]:
    errors: list[str] = []
    # Ids are hex: an upper-case copy from a spreadsheet is the same id.
    case, invoice = v.get("case", "").lower(), v.get("invoice_number", "")
    if case and invoice:
        errors.append("case/invoice_number: give one of them, not both")
    elif not case and not invoice:
        errors.append("case/invoice_number: give the Amili case id or the invoice number")
    elif case and not _OBJECT_ID.fullmatch(case):
        errors.append(f"case: must be a 24-character Amili case id, got {case!r:.40}")
    amount = _amount(v.get("amount", ""), errors)
    currency = (v.get("currency") or CURRENCY).upper()
    if currency != CURRENCY:
        errors.append(f"currency: must be {CURRENCY} (the only currency Amili takes), got {currency:.10}")
    day = _day(v.get("bank_transaction_date", ""), today, errors)
    reference = v.get("reference", "")
    if not reference:
        errors.append("reference: is empty; every payment needs its own reference (e.g. the bank's "
                      "transaction id): it is how a re-run recognises payments Amili already has")
    if errors:
        return None, errors
    return PaymentRow(line, reference, amount, day, case or None, invoice or None, currency), errors


def _amount(text: str, errors: list[str]) -> Decimal | None:
    plain = _SPACES.sub("", text)
    if "," in plain and "." in plain:
        errors.append(f"amount: write it with one decimal sign, as 1234.50 or 1234,50, got {text:.20}")
        return None
    plain = plain.replace(",", ".")
    if not _NUMBER.fullmatch(plain):
        errors.append(f"amount: is not an amount, got {text!r:.20}" if text else "amount: is empty")
        return None
    value = Decimal(plain)
    if value <= 0:
        errors.append(f"amount: must be more than 0, got {text}")
        return None
    try:
        return parse_amount(value)
    except ValueError as exc:
        errors.append(f"amount: {exc}")
        return None


def _day(text: str, today: date, errors: list[str]) -> date | None:
    if not text:
        errors.append("bank_transaction_date: is empty")
        return None
    try:
        if not _DAY.fullmatch(text):
            raise ValueError
        day = date.fromisoformat(text)
    except ValueError:
        errors.append(f"bank_transaction_date: must be a date written YYYY-MM-DD, got {text!r:.20}")
        return None
    if day > today:
        errors.append(f"bank_transaction_date: {day} is in the future (today is {today})")
        return None
    return day
