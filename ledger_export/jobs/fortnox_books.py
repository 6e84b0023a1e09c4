"""What posting a month needs from Fortnox, in the bookkeeper's terms: the ``FortnoxBooks`` protocol.

The posting engine (jobs/fortnox_post.py) talks to Fortnox only through
this protocol; the HTTP client (its own layer) is wrapped to it by an
adapter, and the tests use an in-memory fake. Money is Decimal, dates are
dates; every call either answers, or raises a LedgerExportError:

- one of ``OUTCOME_UNKNOWN`` when a write (POST/PUT) went out and its
  answer was lost (the HTTP client's FortnoxOutcomeUnknownError), or came
  back unreadable (FortnoxAnswerUnreadableError: made, but what it is
  cannot be read): Fortnox may or may not have made the thing. The engine
  never repeats such a call blindly; it looks in Fortnox (the
  ``vouchers_in``, ``voucher_documents``, ``connections``, ``payments_of``
  reads) to find out.
- any other LedgerExportError when the request failed and nothing was made
  (refused, validation error, no connection before sending).

How each write is found again (Fortnox's own documented fields):

- a voucher by its ``Comments`` (writable, and returned in the voucher list
  ``GET /3/vouchers/sublist/{series}?fromdate=&todate=``); ``ReferenceNumber``
  cannot carry our id, Fortnox sets it (read-only). ``create_voucher``
  writes ``reference`` there, ``vouchers_in`` returns it as ``comments``;
- a file in the inbox's voucher folder (``inbox_v``) by its name and size
  (``GET /3/inbox/inbox_v`` lists Id, Name, Size; Fortnox keeps no date);
- a file connection by file id (``GET /3/voucherfileconnections``);
- an invoice payment by invoice number, amount and payment date
  (``GET /3/invoicepayments?invoicenumber=``; a payment has no free text).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Literal, Protocol

from ledger_export.core.errors import FortnoxAnswerUnreadableError, FortnoxOutcomeUnknownError, OutcomeUnknownError
from ledger_export.fortnox.settings import InvoiceField

# What a write raises when it may have been made (OutcomeUnknownError: the Amili-side name, kept for fakes).
OUTCOME_UNKNOWN: tuple[type[Exception], ...] = (FortnoxOutcomeUnknownError, FortnoxAnswerUnreadableError,
                                                OutcomeUnknownError)

# How an Amili line finds its Fortnox invoice (exact match): [fortnox] invoice_match.


@dataclass(frozen=True)
class FinancialYear:
    id: int  # Fortnox's own id of the year (1, 2, 3...), not the calendar year
    start: date
    end: date

    def covers(self, day: date) -> bool:
        return self.start <= day <= self.end


@dataclass(frozen=True, order=True)
class VoucherRef:
    """A voucher as Fortnox numbers it: series, number, and the id of its financial year."""

    series: str
    number: int
    year: int

    def __str__(self) -> str:
        return f"{self.series}{self.number} (year {self.year})"


@dataclass(frozen=True)
class VoucherRow:
    account: int
    debit: Decimal
    credit: Decimal
    text: str = ""


@dataclass(frozen=True)
class VoucherFound:
    """One voucher of a series, as the voucher list gives it (no rows)."""

    ref: VoucherRef
    day: date
    description: str
    comments: str


@dataclass(frozen=True)
class InboxFile:
    """A file in Fortnox's inbox for vouchers."""

    id: str
    name: str
    size: int


@dataclass(frozen=True)
class Connection:
    """A file connected to a voucher (voucherfileconnections)."""

    file_id: str
    voucher: VoucherRef


@dataclass(frozen=True)
class Invoice:
    """A customer invoice in Fortnox, as settling needs it."""

    number: str  # DocumentNumber
    total: Decimal
    balance: Decimal  # what is still unpaid
    cancelled: bool
    booked: bool  # only a booked invoice takes a payment


@dataclass(frozen=True)
class InvoicePayment:
    number: int
    invoice: str
    amount: Decimal
    day: date
    booked: bool


class FortnoxBooks(Protocol):
    """One Fortnox company, as the posting engine sees it. Reads are cheap to repeat; writes never are."""

    def company_orgnr(self) -> str:
        """companyinformation OrganizationNumber, as Fortnox writes it (normalised by the caller)."""
        ...

    def financial_years(self) -> tuple[FinancialYear, ...]: ...

    def accounts(self, year: int) -> dict[int, bool]:
        """Account number -> active, in the financial year with id ``year``."""
        ...

    def voucher_series(self) -> dict[str, bool]:
        """Series code -> takes manual vouchers (Fortnox: Manual)."""
        ...

    def modes_of_payment(self) -> dict[str, int]:
        """Mode-of-payment code -> its account."""
        ...

    def granted_scopes(self) -> frozenset[str]:
        """The scopes the token was granted (e.g. bookkeeping, inbox, connectfile)."""
        ...

    def create_voucher(self, series: str, day: date, description: str, rows: tuple[VoucherRow, ...],
                       reference: str) -> VoucherRef:
        """POST /3/vouchers; ``reference`` goes into Comments (our payout id, found again by vouchers_in)."""
        ...

    def vouchers_in(self, series: str, start: date, end: date) -> tuple[VoucherFound, ...]:
        """Every voucher of ``series`` dated ``start``..``end`` (inclusive), across pages."""
        ...

    def upload_voucher_document(self, name: str, content: bytes) -> str:
        """Upload into the inbox for vouchers (inbox_v); the file's id."""
        ...

    def voucher_documents(self) -> tuple[InboxFile, ...]: ...

    def connect_document(self, file_id: str, voucher: VoucherRef) -> None:
        """POST /3/voucherfileconnections."""
        ...

    def connections(self) -> tuple[Connection, ...]: ...

    def find_invoices(self, field: InvoiceField, value: str) -> tuple[Invoice, ...]:
        """Invoices whose ``field`` is exactly ``value`` (the caller never matches loosely)."""
        ...

    def pay_invoice(self, invoice: str, amount: Decimal, day: date, mode_of_payment: str) -> int:
        """POST /3/invoicepayments; the payment's number."""
        ...

    def bookkeep_payment(self, number: int) -> None:
        """PUT /3/invoicepayments/{number}/bookkeep."""
        ...

    def payments_of(self, invoice: str) -> tuple[InvoicePayment, ...]: ...
