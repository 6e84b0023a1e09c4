"""The real Fortnox behind ``FortnoxBooks``: the HTTP client's typed calls (fortnox/api.py), mapped.

A thin mapping, nothing decided here: the engine's dataclasses
(jobs/fortnox_books.py) are in the bookkeeper's terms, the API's
(fortnox/models.py) in Fortnox's field names, and each call turns one into
the other. Errors pass through as the client raises them: a POST or PUT
whose answer was lost is FortnoxOutcomeUnknownError, a 2xx that could not
be read FortnoxAnswerUnreadableError, and the engine treats both as
"perhaps made" (jobs/fortnox_books.py OUTCOME_UNKNOWN).

Granted scopes: the token endpoint's ``scope``. A client-credentials answer
may leave it out; then each scope the check asks about is probed with one
read that needs it (a 403 says it is missing), so the check never passes a
run that would stop half-way on a missing scope, and never refuses one
that would not.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date
from decimal import Decimal
from typing import Any

from ledger_export.core.errors import FortnoxAuthError
from ledger_export.fortnox import api
from ledger_export.fortnox.auth import AccessTokens, access_tokens
from ledger_export.fortnox.client import FortnoxClient
from ledger_export.fortnox.models import VOUCHER_INBOX, VoucherKey
from ledger_export.fortnox.models import VoucherRow as ApiRow
from ledger_export.fortnox.settings import FortnoxSettings, InvoiceField
from ledger_export.jobs.fortnox_books import (Connection, FinancialYear, InboxFile, Invoice, InvoicePayment,
                                              VoucherFound, VoucherRef, VoucherRow)

# One read per scope, each needing only that scope (Fortnox's Scopes page).
PROBES: Mapping[str, Callable[[FortnoxClient], Any]] = {
    "companyinformation": lambda c: c.get("companyinformation"),
    "bookkeeping": lambda c: c.get("financialyears", {"limit": 1}),
    "inbox": lambda c: c.get(f"inbox/{VOUCHER_INBOX}"),
    "connectfile": lambda c: c.get("voucherfileconnections", {"limit": 1}),
    "invoice": lambda c: c.get("invoices", {"limit": 1}),
    "payment": lambda c: c.get("invoicepayments", {"limit": 1}),
    "settings": lambda c: c.get("modesofpayments", {"limit": 1}),
}


def _ref(key: VoucherKey) -> VoucherRef:
    return VoucherRef(key.series, key.number, key.year)


class ApiBooks:
    """One Fortnox company over HTTP, as the posting engine sees it (a ``FortnoxBooks``)."""

    def __init__(self, client: FortnoxClient, tokens: AccessTokens):
        self.client = client
        self.tokens = tokens
        self._years: tuple[FinancialYear, ...] | None = None

    def close(self) -> None:
        self.client.close()
        self.tokens.close()

    def company_orgnr(self) -> str:
        return api.company_information(self.client).organisation_number

    def financial_years(self) -> tuple[FinancialYear, ...]:
        self._years = tuple(sorted((FinancialYear(y.id, y.from_date, y.to_date)
                                    for y in api.financial_years(self.client)), key=lambda y: y.start))
        return self._years

    def _years_over(self, start: date, end: date) -> tuple[FinancialYear, ...]:
        years = self._years if self._years is not None else self.financial_years()
        return tuple(y for y in years if y.start <= end and start <= y.end)

    def accounts(self, year: int) -> dict[int, bool]:
        return {number: a.active for number, a in api.accounts(self.client, year).items()}

    def voucher_series(self) -> dict[str, bool]:
        return {code: s.manual for code, s in api.voucher_series(self.client).items()}

    def modes_of_payment(self) -> dict[str, int]:
        # A mode without an account cannot be a clearing account: left out, so the check names it missing.
        return {code: m.account_number for code, m in api.modes_of_payment(self.client).items()
                if m.account_number is not None}

    def granted_scopes(self) -> frozenset[str]:
        self.tokens.token()  # the scopes come with the first token
        granted = self.tokens.scopes
        if granted:
            return granted
        found = set()
        for scope, probe in PROBES.items():
            try:
                probe(self.client)
            except FortnoxAuthError as exc:
                if exc.status == 403:
                    continue
                raise
            found.add(scope)
        return frozenset(found)

    def create_voucher(self, series: str, day: date, description: str, rows: tuple[VoucherRow, ...],
                       reference: str) -> VoucherRef:
        years = self._years_over(day, day)
        made = api.create_voucher(self.client, series=series, transaction_date=day, description=description,
                                  rows=[ApiRow(r.account, r.debit, r.credit, r.text or None) for r in rows],
                                  comments=reference, financial_year=years[0].id if years else None)
        return _ref(made.key)

    def vouchers_in(self, series: str, start: date, end: date) -> tuple[VoucherFound, ...]:
        found: list[VoucherFound] = []
        for year in self._years_over(start, end):  # Fortnox lists one financial year at a time
            for v in api.list_vouchers(self.client, series, max(start, year.start), min(end, year.end), year.id):
                found.append(VoucherFound(_ref(v.key), v.transaction_date, v.description, v.comments or ""))
        return tuple(found)

    def upload_voucher_document(self, name: str, content: bytes) -> str:
        return api.upload_to_inbox(self.client, name, content).id

    def voucher_documents(self) -> tuple[InboxFile, ...]:
        return tuple(InboxFile(f.id, f.name, f.size if f.size is not None else -1)
                     for f in api.inbox_files(self.client))

    def connect_document(self, file_id: str, voucher: VoucherRef) -> None:
        api.connect_file(self.client, file_id, VoucherKey(voucher.series, voucher.number, voucher.year))

    def connections(self) -> tuple[Connection, ...]:
        return tuple(Connection(c.file_id, _ref(c.voucher)) for c in api.file_connections(self.client))

    def find_invoices(self, field: InvoiceField, value: str) -> tuple[Invoice, ...]:
        return tuple(Invoice(str(i.document_number), i.total, i.balance, i.cancelled, i.booked)
                     for i in api.find_invoices(self.client, field, value))

    def pay_invoice(self, invoice: str, amount: Decimal, day: date, mode_of_payment: str) -> int:
        return api.create_invoice_payment(self.client, invoice_number=int(invoice), amount=amount,
                                          payment_date=day, mode_of_payment=mode_of_payment).number

    def bookkeep_payment(self, number: int) -> None:
        api.bookkeep_invoice_payment(self.client, number)

    def payments_of(self, invoice: str) -> tuple[InvoicePayment, ...]:
        return tuple(InvoicePayment(p.number, str(p.invoice_number), p.amount, p.payment_date or date.min, p.booked)
                     for p in api.invoice_payments(self.client, int(invoice)))


def connect(settings: FortnoxSettings, environ: Mapping[str, str]) -> ApiBooks:
    """The configured Fortnox company: credentials from ``environ``, a service account or the token file."""
    tokens = access_tokens(settings, environ=environ)
    return ApiBooks(FortnoxClient.from_settings(settings, tokens), tokens)
