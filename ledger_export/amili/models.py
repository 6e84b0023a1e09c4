"""Immutable records of what Amili sent, read strictly.

Each ``*.from_api`` reads one JSON item (numbers already Decimal) and raises
RecordError naming the record and the field when something is missing or
malformed: a bookkeeping tool must not guess.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import cached_property, lru_cache
from decimal import Decimal
from types import MappingProxyType
from typing import Any, TypeVar

from ledger_export.core.errors import RecordError
from ledger_export.core.money import parse_amount
from ledger_export.core.period import Period
from ledger_export.amili import timestamps


# One JSON object as Amili sent it: field names to arbitrary JSON values
# (numbers already Decimal); the reader below checks each field it takes.
JsonObject = Mapping[str, Any]
_When = TypeVar("_When", date, datetime)


@lru_cache(maxsize=8192)
def _shared_amount(value: Decimal, signed: bool) -> Decimal:
    return parse_amount(value)


def _amount(value: Any) -> Decimal:
    """``parse_amount``, one Decimal per distinct amount rather than one per field.

    Most lines of a period carry VAT 0.00 and one of a few fees. Only finite
    Decimals are shared (the others are errors or rare); the sign is part of
    the key because -0.00 equals 0.00 yet must stay what Amili sent.
    """
    if type(value) is Decimal and value.is_finite():
        return _shared_amount(value, value.is_signed())
    return parse_amount(value)


class _Reader:
    """Reads fields of one API item, naming the item in every error."""

    def __init__(self, kind: str, item: Any):
        if not isinstance(item, Mapping):
            raise RecordError(kind, None, None, f"is not a JSON object: {item!r:.60}")
        self.kind = kind
        self.item = item
        raw_id = item.get("_id")
        self.id = raw_id if isinstance(raw_id, str) and raw_id else None
        # Without an _id, what a bookkeeper can look up: the invoice number of
        # a line, the reference of a payout or payment.
        self.label = self.id
        for name, shown in (("invoice_number", "invoice"), ("payout_reference", "ref"),
                            ("creditor_payment_reference", "ref")):
            value = item.get(name)
            if self.label is None and isinstance(value, str) and value:
                self.label = f"{shown} {value}"

    def fail(self, name: str, problem: str) -> RecordError:
        return RecordError(self.kind, self.label, name, problem)

    def _missing(self, name: str) -> RecordError:
        return self.fail(name, "is missing")

    def optional_text(self, name: str) -> str | None:
        value = self.item.get(name)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, (str, int)):
            raise self.fail(name, f"must be text, got {type(value).__name__}")
        value = str(value)
        if any("\ud800" <= ch <= "\udfff" for ch in value):
            # Valid JSON ("\ud800") but no character: no ledger, workbook or file can hold it.
            raise self.fail(name, f"holds a lone surrogate, not a character: {value!r:.60}")
        return value

    def text(self, name: str) -> str:
        value = self.optional_text(name)
        if value is None:
            raise self._missing(name)
        return value

    def optional_amount(self, name: str, source: JsonObject | None = None) -> Decimal | None:
        value = (source if source is not None else self.item).get(name)
        if value is None:
            return None
        try:
            return _amount(value)
        except ValueError as exc:
            raise self.fail(name, str(exc)) from None

    def amount(self, name: str, source: JsonObject | None = None) -> Decimal:
        value = self.optional_amount(name, source)
        if value is None:
            raise self._missing(name)
        return value

    def optional_integer(self, name: str, source: JsonObject | None = None) -> int | None:
        value = (source if source is not None else self.item).get(name)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int):
            if isinstance(value, Decimal) and value == value.to_integral_value():
                return int(value)
            raise self.fail(name, f"must be a whole number, got {value!r:.40}")
        return value

    def integer(self, name: str, source: JsonObject | None = None) -> int:
        value = self.optional_integer(name, source)
        if value is None:
            raise self._missing(name)
        return value

    def moment(self, name: str) -> datetime:
        value = self._timestamp(name, timestamps.parse)
        if value is None:
            raise self._missing(name)
        return value

    def optional_day(self, name: str) -> date | None:
        return self._timestamp(name, timestamps.parse_day)

    def _timestamp(self, name: str, parse: Callable[[str], _When]) -> _When | None:
        value = self.item.get(name)
        if value is None:
            return None
        try:
            return parse(value)
        except ValueError as exc:
            raise self.fail(name, str(exc)) from None

    def reference(self, name: str) -> str | None:
        """An id that Eve may embed as {"_id": ...} or give as a plain string."""
        value = self.item.get(name)
        if isinstance(value, Mapping):
            value = value.get("_id")
        if value is None:
            return None
        if not isinstance(value, str):
            raise self.fail(name, f"must be an id, got {type(value).__name__}")
        return value


def _require_id(r: _Reader) -> str:
    if r.id is None:
        value = r.item.get("_id")
        raise r.fail("_id", "is missing" if value in (None, "") else f"must be an id, got {value!r:.40}")
    return r.id


@dataclass(frozen=True)
class Totals:
    amount: Decimal
    vat_amount: Decimal
    total_amount: Decimal


@dataclass(frozen=True)
class ArticleSummary:
    count: int
    amount: Decimal
    vat_amount: Decimal
    total_amount: Decimal


@dataclass(frozen=True)
class Document:
    """The self-invoice PDF Amili issued on the creditor's behalf."""

    file: str
    name: str
    length: int
    content_type: str


@dataclass(frozen=True)
class Payout:
    id: str
    etag: str
    created: datetime
    creditor: str
    currency: str
    payout_reference: str
    payout_date: date | None
    ledger_account: int | None
    finance_category: str
    finance_interval: str | None
    finance_period_start: date | None
    finance_period_end: date | None
    amount: Decimal
    vat_amount: Decimal
    total_amount: Decimal
    summary: Mapping[str, ArticleSummary] = field(hash=False)
    document: Document | None = None

    @property
    def totals(self) -> Totals:
        return Totals(self.amount, self.vat_amount, self.total_amount)

    @classmethod
    def from_api(cls, item: Any) -> Payout:
        r = _Reader("payout", item)
        summary: dict[str, ArticleSummary] = {}
        raw_summary = item.get("summary") or {}
        if not isinstance(raw_summary, Mapping):
            raise r.fail("summary", "must be an object of articles")
        for article in sorted(raw_summary):
            entry = raw_summary[article]
            if not isinstance(entry, Mapping):
                raise r.fail(f"summary.{article}", "must be an object")
            try:
                summary[article] = ArticleSummary(
                    count=r.integer("count", source=entry),
                    amount=r.amount("amount", source=entry),
                    vat_amount=r.amount("vat_amount", source=entry),
                    total_amount=r.amount("total_amount", source=entry),
                )
            except RecordError as exc:
                raise r.fail(f"summary.{article}.{exc.field}", exc.problem) from None
        document = None
        raw_doc = item.get("document")
        if raw_doc is not None:
            if not isinstance(raw_doc, Mapping):
                raise r.fail("document", "must be an object")
            doc = _Reader("payout", {**raw_doc, "_id": r.id})
            try:
                document = Document(
                    file=doc.text("file"),
                    name=doc.text("name"),
                    length=doc.integer("length"),
                    content_type=doc.optional_text("content_type") or "application/pdf",
                )
            except RecordError as exc:
                raise r.fail(f"document.{exc.field}", exc.problem) from None
        ledger_account = r.optional_integer("ledger_account")
        if ledger_account is not None and not 1900 <= ledger_account <= 1999:
            # Amili's bank accounts are 1900-1999; anything else would book the
            # payout on, say, output VAT as if it were the bank.
            raise r.fail("ledger_account", f"must be a bank account 1900-1999, got {ledger_account}")
        return cls(
            id=_require_id(r),
            etag=r.text("_etag"),
            created=r.moment("_created"),
            creditor=r.reference("creditor") or "",
            currency=r.text("currency"),
            payout_reference=r.optional_text("payout_reference") or "",
            payout_date=r.optional_day("payout_date"),
            ledger_account=ledger_account,
            finance_category=r.text("finance_category"),
            finance_interval=r.optional_text("finance_interval"),
            finance_period_start=r.optional_day("finance_period_start_date"),
            finance_period_end=r.optional_day("finance_period_end_date"),
            amount=r.amount("amount"),
            vat_amount=r.amount("vat_amount"),
            total_amount=r.amount("total_amount"),
            summary=MappingProxyType(summary),
            document=document,
        )


@dataclass(frozen=True)
class Specification:
    """One transaction line behind a payout (one article of one invoice)."""

    id: str
    etag: str
    created: datetime
    creditor: str
    payout: str | None
    payout_reference: str | None
    payout_date: date | None
    booking_date: date | None
    invoice_number: str | None
    reference_number: str | None
    case: str | None
    article: str
    finance_category: str
    currency: str
    amount: Decimal
    vat_amount: Decimal
    total_amount: Decimal
    banking_transaction: str | None
    state: str | None

    @classmethod
    def from_api(cls, item: Any) -> Specification:
        r = _Reader("specification", item)
        refs = item.get("references") or {}
        if not isinstance(refs, Mapping):
            raise r.fail("references", "must be an object")
        case = refs.get("case")
        if isinstance(case, Mapping):
            case = case.get("_id")
        if case is not None and not isinstance(case, str):
            raise r.fail("references.case", "must be an id")
        return cls(
            id=_require_id(r),
            etag=r.text("_etag"),
            created=r.moment("_created"),
            creditor=r.reference("creditor") or "",
            payout=r.reference("payout"),
            payout_reference=r.optional_text("payout_reference"),
            payout_date=r.optional_day("payout_date"),
            booking_date=r.optional_day("booking_date"),
            invoice_number=r.optional_text("invoice_number"),
            reference_number=r.optional_text("reference_number"),
            case=case,
            article=r.text("article"),
            finance_category=r.text("finance_category"),
            currency=r.optional_text("currency") or "SEK",
            amount=r.amount("amount"),
            vat_amount=r.amount("vat_amount"),
            total_amount=r.amount("total_amount"),
            banking_transaction=r.reference("banking_transaction"),
            state=r.optional_text("state"),
        )


@dataclass(frozen=True)
class CreditorPayment:
    """A payment a debtor made straight to the creditor, reported to Amili."""

    id: str
    etag: str
    created: datetime
    creditor: str
    case: str | None
    invoice_number: str | None
    case_invoice_number: str | None
    case_reference_number: str | None
    currency: str
    amount: Decimal
    settled_amount: Decimal | None
    bank_transaction_date: date | None
    booking_date: date | None
    creditor_payment_reference: str | None
    status: str | None
    status_reason_locale: str | None

    @classmethod
    def from_api(cls, item: Any) -> CreditorPayment:
        r = _Reader("creditor payment", item)
        return cls(
            id=_require_id(r),
            etag=r.text("_etag"),
            created=r.moment("_created"),
            creditor=r.reference("creditor") or "",
            case=r.reference("case"),
            invoice_number=r.optional_text("invoice_number"),
            case_invoice_number=r.optional_text("case_invoice_number"),
            case_reference_number=r.optional_text("case_reference_number"),
            currency=r.text("currency"),
            amount=r.amount("amount"),
            settled_amount=r.optional_amount("settled_amount"),
            bank_transaction_date=r.optional_day("bank_transaction_date"),
            booking_date=r.optional_day("booking_date"),
            creditor_payment_reference=r.optional_text("creditor_payment_reference"),
            status=r.optional_text("status"),
            status_reason_locale=r.optional_text("status_reason_locale"),
        )


@dataclass(frozen=True)
class PeriodData:
    """Everything one period's bookkeeping is made from, in a stable order."""

    creditor: str
    period: Period
    payouts: tuple[Payout, ...]
    specifications: tuple[Specification, ...]
    payments: tuple[CreditorPayment, ...]

    @cached_property
    def _lines_by_payout(self) -> dict[str | None, tuple[Specification, ...]]:
        grouped: dict[str | None, list[Specification]] = {}
        for line in self.specifications:
            grouped.setdefault(line.payout, []).append(line)
        return {k: tuple(v) for k, v in grouped.items()}

    def lines_of(self, payout: Payout) -> tuple[Specification, ...]:
        return self._lines_by_payout.get(payout.id, ())


def stable_order(record: Payout | Specification | CreditorPayment) -> tuple[datetime, str]:
    """The order every output lists records in: creation time, then id."""
    return (record.created, record.id)
