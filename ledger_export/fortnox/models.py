"""What Fortnox's answers hold, as frozen dataclasses with Decimal amounts and real dates.

Field names follow Fortnox's JSON (CompanyInformation.OrganizationNumber,
Voucher.VoucherSeries ...). A field that is missing or of the wrong kind
where the export needs it is a FortnoxError naming the resource and field,
never a silent default.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from ledger_export.core.errors import FortnoxError

# The inbox folder Fortnox keeps for vouchers' documents ("Inkorg verifikationer").
VOUCHER_INBOX = "inbox_v"


class Fields:
    """One JSON object of an answer, read field by field; errors name ``what`` and the field."""

    def __init__(self, body: Any, what: str):
        if not isinstance(body, dict):
            raise FortnoxError(f"{what}: expected a JSON object, got {type(body).__name__}")
        self.body = body
        self.what = what

    def _bad(self, name: str, problem: str) -> FortnoxError:
        return FortnoxError(f"{self.what}: field {name} {problem}")

    def text(self, name: str, *, required: bool = False) -> str | None:
        value = self.body.get(name)
        if value is None or value == "":
            if required:
                raise self._bad(name, "is missing")
            return None
        if isinstance(value, bool) or not isinstance(value, (str, int)):
            raise self._bad(name, f"is not text ({type(value).__name__})")
        return str(value)

    def number(self, name: str) -> int:
        value = self.body.get(name)
        if isinstance(value, str) and value.isascii() and value.isdigit():
            return int(value)
        if isinstance(value, bool) or not isinstance(value, int):
            raise self._bad(name, f"is not a whole number ({value!r:.40})")
        return value

    def optional_number(self, name: str) -> int | None:
        return None if self.body.get(name) in (None, "") else self.number(name)

    def flag(self, name: str, default: bool | None = None) -> bool:
        value = self.body.get(name, default)
        if not isinstance(value, bool):
            raise self._bad(name, f"is not true or false ({value!r:.40})")
        return value

    def amount(self, name: str) -> Decimal:
        value = self.body.get(name)
        if isinstance(value, bool) or not isinstance(value, (int, Decimal, str)):
            raise self._bad(name, f"is not an amount ({value!r:.40})")
        try:
            result = Decimal(value) if not isinstance(value, str) else Decimal(value.strip())
        except ArithmeticError:
            raise self._bad(name, f"is not an amount ({value!r:.40})") from None
        if not result.is_finite():
            raise self._bad(name, f"is not an amount ({value!r:.40})")
        return result

    def day(self, name: str) -> date:
        value = self.text(name, required=True)
        try:
            return date.fromisoformat(str(value)[:10])
        except ValueError:
            raise self._bad(name, f"is not a date YYYY-MM-DD ({value!r:.40})") from None

    def optional_day(self, name: str) -> date | None:
        return None if self.body.get(name) in (None, "") else self.day(name)


@dataclass(frozen=True)
class CompanyInformation:
    name: str
    organisation_number: str  # as Fortnox writes it, e.g. "556677-8899"
    tenant_id: str | None  # DatabaseNumber: the tenant id a service account's token needs

    @classmethod
    def read(cls, body: Any) -> CompanyInformation:
        f = Fields(body, "Fortnox's company information")
        return cls(name=f.text("CompanyName") or "", organisation_number=f.text("OrganizationNumber", required=True) or "",
                   tenant_id=f.text("DatabaseNumber"))


@dataclass(frozen=True)
class FinancialYear:
    id: int
    from_date: date
    to_date: date

    def holds(self, day: date) -> bool:
        return self.from_date <= day <= self.to_date

    @classmethod
    def read(cls, body: Any) -> FinancialYear:
        f = Fields(body, "a Fortnox financial year")
        return cls(id=f.number("Id"), from_date=f.day("FromDate"), to_date=f.day("ToDate"))


@dataclass(frozen=True)
class Account:
    number: int
    description: str
    active: bool
    year: int | None  # the financial year id the account list was read for

    @classmethod
    def read(cls, body: Any) -> Account:
        f = Fields(body, "a Fortnox account")
        return cls(number=f.number("Number"), description=f.text("Description") or "",
                   active=f.flag("Active", True), year=f.optional_number("Year"))


@dataclass(frozen=True)
class VoucherSeries:
    code: str
    description: str
    manual: bool  # takes vouchers made by hand (and by the API); automatic series belong to other modules
    year: int | None

    @classmethod
    def read(cls, body: Any) -> VoucherSeries:
        f = Fields(body, "a Fortnox voucher series")
        return cls(code=f.text("Code", required=True) or "", description=f.text("Description") or "",
                   manual=f.flag("Manual", False), year=f.optional_number("Year"))


@dataclass(frozen=True)
class VoucherRow:
    account: int
    debit: Decimal = Decimal("0.00")
    credit: Decimal = Decimal("0.00")
    description: str | None = None  # the row's text (Fortnox: TransactionInformation)

    def json(self) -> dict[str, Any]:
        row: dict[str, Any] = {"Account": self.account, "Debit": self.debit, "Credit": self.credit}
        if self.description:
            row["TransactionInformation"] = self.description
        return row

    @classmethod
    def read(cls, body: Any) -> VoucherRow:
        f = Fields(body, "a Fortnox voucher row")
        return cls(account=f.number("Account"), debit=f.amount("Debit"), credit=f.amount("Credit"),
                   description=f.text("TransactionInformation") or f.text("Description"))


@dataclass(frozen=True)
class VoucherKey:
    """A voucher's identity in Fortnox: series, number and financial year id (numbers restart each year)."""

    series: str
    number: int
    year: int


@dataclass(frozen=True)
class Voucher:
    """A voucher as Fortnox lists it (``rows`` empty in lists) or returns it (with rows)."""

    key: VoucherKey
    transaction_date: date
    description: str
    # Free text Fortnox stores and returns, in lists too: where the export writes the payout id.
    comments: str | None
    reference_type: str | None
    reference_number: str | None
    rows: tuple[VoucherRow, ...] = ()

    @classmethod
    def read(cls, body: Any) -> Voucher:
        f = Fields(body, "a Fortnox voucher")
        rows = body.get("VoucherRows") or []
        if not isinstance(rows, list):
            raise FortnoxError("a Fortnox voucher: field VoucherRows is not a list")
        return cls(key=VoucherKey(series=f.text("VoucherSeries", required=True) or "",
                                  number=f.number("VoucherNumber"), year=f.number("Year")),
                   transaction_date=f.day("TransactionDate"), description=f.text("Description") or "",
                   comments=f.text("Comments"), reference_type=f.text("ReferenceType"),
                   reference_number=f.text("ReferenceNumber"),
                   rows=tuple(VoucherRow.read(r) for r in rows if not (isinstance(r, dict) and r.get("Removed"))))


@dataclass(frozen=True)
class InboxFile:
    id: str
    name: str
    size: int | None

    @classmethod
    def read(cls, body: Any) -> InboxFile:
        f = Fields(body, "a Fortnox inbox file")
        return cls(id=f.text("Id", required=True) or "", name=f.text("Name") or "", size=f.optional_number("Size"))


@dataclass(frozen=True)
class VoucherFileConnection:
    file_id: str
    voucher: VoucherKey
    name: str | None  # the file's name, where Fortnox returns it

    @classmethod
    def read(cls, body: Any) -> VoucherFileConnection:
        f = Fields(body, "a Fortnox voucher file connection")
        return cls(file_id=f.text("FileId", required=True) or "",
                   voucher=VoucherKey(series=f.text("VoucherSeries", required=True) or "",
                                      number=f.number("VoucherNumber"), year=f.number("VoucherYear")),
                   name=f.text("Name"))


@dataclass(frozen=True)
class Invoice:
    document_number: int
    customer_number: str | None
    ocr: str | None
    external_invoice_reference1: str | None
    your_order_number: str | None
    total: Decimal
    balance: Decimal  # what is still to pay
    cancelled: bool
    booked: bool
    currency: str | None

    def field(self, fortnox_name: str) -> str | None:
        """The value of a match field (``[fortnox] invoice_match.fortnox``) as text."""
        return {"DocumentNumber": str(self.document_number), "OCR": self.ocr,
                "ExternalInvoiceReference1": self.external_invoice_reference1,
                "YourOrderNumber": self.your_order_number}[fortnox_name]

    @classmethod
    def read(cls, body: Any) -> Invoice:
        f = Fields(body, "a Fortnox invoice")
        return cls(document_number=f.number("DocumentNumber"), customer_number=f.text("CustomerNumber"),
                   ocr=f.text("OCR"), external_invoice_reference1=f.text("ExternalInvoiceReference1"),
                   your_order_number=f.text("YourOrderNumber"), total=f.amount("Total"),
                   balance=f.amount("Balance"), cancelled=f.flag("Cancelled", False), booked=f.flag("Booked", False),
                   currency=f.text("Currency"))


@dataclass(frozen=True)
class InvoicePayment:
    number: int
    invoice_number: int
    amount: Decimal
    payment_date: date | None
    booked: bool
    mode_of_payment: str | None
    voucher: VoucherKey | None  # the voucher Fortnox made when the payment was booked

    @classmethod
    def read(cls, body: Any) -> InvoicePayment:
        f = Fields(body, "a Fortnox invoice payment")
        series, number, year = f.text("VoucherSeries"), f.optional_number("VoucherNumber"), f.optional_number("VoucherYear")
        voucher = VoucherKey(series, number, year) if series and number and year else None
        return cls(number=f.number("Number"), invoice_number=f.number("InvoiceNumber"), amount=f.amount("Amount"),
                   payment_date=f.optional_day("PaymentDate"), booked=f.flag("Booked", False),
                   mode_of_payment=f.text("ModeOfPayment"), voucher=voucher)


@dataclass(frozen=True)
class ModeOfPayment:
    code: str
    description: str
    account_number: int | None

    @classmethod
    def read(cls, body: Any) -> ModeOfPayment:
        f = Fields(body, "a Fortnox mode of payment")
        return cls(code=f.text("Code", required=True) or "", description=f.text("Description") or "",
                   account_number=f.optional_number("AccountNumber"))
