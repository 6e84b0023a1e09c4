"""The Fortnox calls the export makes, typed: what it reads before posting, what it posts, what it looks up after a crash.

Each takes the FortnoxClient and returns models.py's frozen dataclasses.
Lists are read whole, page by page (``MetaInformation``: ``@CurrentPage``,
``@TotalPages``), at most MAX_PAGES pages. Posting calls are never retried
by the client once they may have reached Fortnox (FortnoxOutcomeUnknownError):
the ``find``/``list`` calls here are how a later run learns what was made.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from datetime import date
from decimal import Decimal
from typing import Any

from ledger_export.core.errors import FortnoxError, FortnoxNotFoundError
from ledger_export.fortnox.client import FortnoxClient, segment
from ledger_export.fortnox.models import (VOUCHER_INBOX, Account, CompanyInformation, FinancialYear, InboxFile, Invoice,
                                          InvoicePayment, ModeOfPayment, Voucher, VoucherFileConnection, VoucherKey,
                                          VoucherRow, VoucherSeries)

PAGE_SIZE = 500  # Fortnox's largest page
MAX_PAGES = 1000
CENT = Decimal("0.01")


def _entity(body: Mapping[str, Any], name: str, what: str) -> Any:
    if name not in body:
        raise FortnoxError(f"{what}: the answer has no {name} (fields: {', '.join(sorted(map(str, body)))[:200]})")
    return body[name]


def pages(client: FortnoxClient, path: str, collection: str, params: Mapping[str, Any] | None = None) -> Iterator[Any]:
    """Every item of a Fortnox list, page after page."""
    page = 1
    while True:
        body = client.get(path, {**(params or {}), "limit": PAGE_SIZE, "page": page})
        items = _entity(body, collection, f"GET {path}")
        if not isinstance(items, list):
            raise FortnoxError(f"GET {path}: {collection} is not a list")
        yield from items
        meta = body.get("MetaInformation")
        total = meta.get("@TotalPages") if isinstance(meta, dict) else None
        if not isinstance(total, int) or isinstance(total, bool) or page >= total or not items:
            return
        page += 1
        if page > MAX_PAGES:
            raise FortnoxError(f"GET {path}: more than {MAX_PAGES} pages of {collection}")


# -- what the pre-flight reads --------------------------------------------------------------

def company_information(client: FortnoxClient) -> CompanyInformation:
    body = client.get("companyinformation")
    return CompanyInformation.read(_entity(body, "CompanyInformation", "GET companyinformation"))


def financial_years(client: FortnoxClient, on: date | None = None) -> list[FinancialYear]:
    """All financial years, or (``on``) the one holding that day: an empty list means none does."""
    params = {"date": on.isoformat()} if on is not None else {}
    return [FinancialYear.read(y) for y in pages(client, "financialyears", "FinancialYears", params)]


def accounts(client: FortnoxClient, financial_year: int) -> dict[int, Account]:
    """The chart of accounts of one financial year, by number."""
    found = [Account.read(a) for a in pages(client, "accounts", "Accounts", {"financialyear": financial_year})]
    return {a.number: a for a in found}


def voucher_series(client: FortnoxClient, financial_year: int | None = None) -> dict[str, VoucherSeries]:
    params = {"financialyear": financial_year} if financial_year is not None else {}
    found = [VoucherSeries.read(s) for s in pages(client, "voucherseries", "VoucherSeriesCollection", params)]
    return {s.code: s for s in found}


def modes_of_payment(client: FortnoxClient) -> dict[str, ModeOfPayment]:
    found = [ModeOfPayment.read(m) for m in pages(client, "modesofpayments", "ModesOfPayments")]
    return {m.code: m for m in found}


# -- vouchers ---------------------------------------------------------------------------------

def _checked_rows(rows: Sequence[VoucherRow]) -> None:
    """A voucher that does not balance, or an amount Fortnox would round, is never sent (a bug upstream)."""
    if not rows:
        raise ValueError("a voucher needs rows")
    for row in rows:
        for amount in (row.debit, row.credit):
            if amount < 0 or amount != amount.quantize(CENT):
                raise ValueError(f"voucher row on {row.account}: {amount} is not an amount in öre, 0 or more")
    debit, credit = sum(r.debit for r in rows), sum(r.credit for r in rows)
    if debit != credit:
        raise ValueError(f"the voucher does not balance: debit {debit}, credit {credit}")


def create_voucher(client: FortnoxClient, *, series: str, transaction_date: date, description: str,
                   rows: Sequence[VoucherRow], comments: str | None = None,
                   financial_year: int | None = None) -> Voucher:
    """Post one voucher; Fortnox numbers it. ``comments`` carries the reference a later run looks for (the payout id)."""
    _checked_rows(rows)
    voucher: dict[str, Any] = {"VoucherSeries": series, "TransactionDate": transaction_date.isoformat(),
                               "Description": description, "VoucherRows": [r.json() for r in rows]}
    if comments:
        voucher["Comments"] = comments
    params = {"financialyear": financial_year} if financial_year is not None else None
    body = client.post("vouchers", {"Voucher": voucher}, params)
    return Voucher.read(_entity(body, "Voucher", "POST vouchers"))


def get_voucher(client: FortnoxClient, key: VoucherKey) -> Voucher:
    body = client.get(f"vouchers/{segment(key.series)}/{key.number}", {"financialyear": key.year})
    return Voucher.read(_entity(body, "Voucher", "GET vouchers"))


def list_vouchers(client: FortnoxClient, series: str, from_date: date, to_date: date,
                  financial_year: int | None = None) -> list[Voucher]:
    """The vouchers of ``series`` dated ``from_date`` .. ``to_date`` (one financial year: Fortnox lists per year)."""
    params: dict[str, Any] = {"fromdate": from_date.isoformat(), "todate": to_date.isoformat()}
    if financial_year is not None:
        params["financialyear"] = financial_year
    else:
        params["financialyeardate"] = from_date.isoformat()
    found = [Voucher.read(v) for v in pages(client, f"vouchers/sublist/{segment(series)}", "Vouchers", params)]
    return [v for v in found if from_date <= v.transaction_date <= to_date]


# -- documents --------------------------------------------------------------------------------

def upload_to_inbox(client: FortnoxClient, name: str, data: bytes, folder: str = VOUCHER_INBOX) -> InboxFile:
    """Upload a document to the vouchers' inbox; its id is what a voucher file connection names."""
    body = client.upload("inbox", name, data, {"folderid": folder})
    return InboxFile.read(_entity(body, "File", "POST inbox"))


def inbox_files(client: FortnoxClient, folder: str = VOUCHER_INBOX) -> list[InboxFile]:
    """The files waiting in an inbox folder (a connected file moves out of the inbox)."""
    body = client.get(f"inbox/{segment(folder)}")
    folder_body = _entity(body, "Folder", "GET inbox")
    files = folder_body.get("Files") if isinstance(folder_body, dict) else None
    if not isinstance(files, list):
        return []
    return [InboxFile.read(f) for f in files]


def connect_file(client: FortnoxClient, file_id: str, voucher: VoucherKey) -> VoucherFileConnection:
    connection = {"FileId": file_id, "VoucherNumber": voucher.number, "VoucherSeries": voucher.series}
    body = client.post("voucherfileconnections", {"VoucherFileConnection": connection},
                       {"financialyear": voucher.year})
    return VoucherFileConnection.read(_entity(body, "VoucherFileConnection", "POST voucherfileconnections"))


def file_connections(client: FortnoxClient, series: str | None = None,
                     financial_year: int | None = None) -> list[VoucherFileConnection]:
    params: dict[str, Any] = {}
    if series is not None:
        params["voucherseries"] = series
    if financial_year is not None:
        params["voucheryear"] = financial_year
    found = [VoucherFileConnection.read(c)
             for c in pages(client, "voucherfileconnections", "VoucherFileConnections", params)]
    return [c for c in found if (series is None or c.voucher.series == series)
            and (financial_year is None or c.voucher.year == financial_year)]


# -- customer invoices and their payments ------------------------------------------------------

def find_invoices(client: FortnoxClient, field: str, value: str) -> list[Invoice]:
    """The invoices whose ``field`` (DocumentNumber, OCR, ExternalInvoiceReference1, YourOrderNumber) is ``value``, exactly.

    Fortnox's list filters may match more loosely; each candidate is read in
    full and compared, so only exact matches come back.
    """
    if not value:
        return []
    if field == "DocumentNumber":
        if not (value.isascii() and value.isdigit()):
            return []
        try:
            return [invoice(client, int(value))]
        except FortnoxNotFoundError:
            return []
    if field not in ("OCR", "ExternalInvoiceReference1", "YourOrderNumber"):
        raise ValueError(f"{field} is not a Fortnox invoice field ledger-export matches on")
    found: list[Invoice] = []
    for candidate in pages(client, "invoices", "Invoices", {field.lower(): value}):
        listed = candidate.get(field) if isinstance(candidate, dict) else None
        if listed is not None and str(listed) != value:
            continue
        full = invoice(client, _number(candidate))
        if full.field(field) == value:
            found.append(full)
    return found


def _number(candidate: Mapping[str, Any]) -> int:
    value = candidate.get("DocumentNumber")
    if isinstance(value, str) and value.isdigit():
        return int(value)
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    raise FortnoxError(f"a Fortnox invoice in a list has no DocumentNumber ({value!r:.40})")


def invoice(client: FortnoxClient, document_number: int) -> Invoice:
    body = client.get(f"invoices/{document_number}")
    return Invoice.read(_entity(body, "Invoice", "GET invoices"))


def create_invoice_payment(client: FortnoxClient, *, invoice_number: int, amount: Decimal, payment_date: date,
                           mode_of_payment: str, mode_of_payment_account: int | None = None) -> InvoicePayment:
    """Register a payment on a customer invoice (not yet booked: see bookkeep_invoice_payment)."""
    if amount <= 0 or amount != amount.quantize(CENT):
        raise ValueError(f"an invoice payment of {amount} is not an amount in öre more than 0")
    payment: dict[str, Any] = {"InvoiceNumber": invoice_number, "Amount": amount, "AmountCurrency": amount,
                               "PaymentDate": payment_date.isoformat(), "ModeOfPayment": mode_of_payment}
    if mode_of_payment_account is not None:
        payment["ModeOfPaymentAccount"] = mode_of_payment_account
    body = client.post("invoicepayments", {"InvoicePayment": payment})
    return InvoicePayment.read(_entity(body, "InvoicePayment", "POST invoicepayments"))


def bookkeep_invoice_payment(client: FortnoxClient, number: int) -> InvoicePayment:
    """Book a registered payment: Fortnox makes its voucher (debit the mode of payment's account, credit 1510)."""
    body = client.put(f"invoicepayments/{number}/bookkeep")
    return InvoicePayment.read(_entity(body, "InvoicePayment", "PUT invoicepayments bookkeep"))


def invoice_payments(client: FortnoxClient, invoice_number: int) -> list[InvoicePayment]:
    found = [InvoicePayment.read(p)
             for p in pages(client, "invoicepayments", "InvoicePayments", {"invoicenumber": invoice_number})]
    return [p for p in found if p.invoice_number == invoice_number]
