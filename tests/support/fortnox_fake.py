"""An in-memory Fortnox company behind the FortnoxBooks protocol, with faults on chosen writes.

Writes are counted across the fake's life (``writes``); ``faults`` maps a
write's index (0 = the first write) to what happens to it:

- ``"lost"``: Fortnox does the write, the answer is lost (OutcomeUnknownError);
- ``"unsent"``: the connection drops before Fortnox sees it (OutcomeUnknownError, nothing made);
- ``"refused"``: Fortnox refuses it (a plain LedgerExportError, nothing made);
- ``"kill"``: the process dies right after Fortnox did the write (Killed, a BaseException);
- ``"kill-before"``: the process dies before the request goes out.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from ledger_export.core.errors import OutcomeUnknownError, RequestRejectedError
from ledger_export.jobs.fortnox_books import (Connection, FinancialYear, InboxFile, Invoice, InvoicePayment,
                                              VoucherFound, VoucherRef, VoucherRow)

ALL_SCOPES = frozenset({"companyinformation", "bookkeeping", "inbox", "connectfile", "invoice", "payment",
                        "settings"})
BAS = (1510, 1930, 1940, 2611, 2999, 3921, 3990, 6062, 8313, 1580)


class Killed(BaseException):
    """The process died here (a kill -9 as far as the code under test can tell)."""


@dataclass
class PostedVoucher:
    ref: VoucherRef
    day: date
    description: str
    comments: str
    rows: tuple[VoucherRow, ...]


@dataclass
class FakeFortnox:
    orgnr: str = "556677-8899"
    years: tuple[FinancialYear, ...] = (FinancialYear(1, date(2025, 1, 1), date(2025, 12, 31)),)
    chart: dict[int, bool] = field(default_factory=lambda: {a: True for a in BAS})
    series: dict[str, bool] = field(default_factory=lambda: {"A": True, "B": False})
    modes: dict[str, int] = field(default_factory=lambda: {"AMILI": 1580, "BG": 1930})
    scopes: frozenset[str] = ALL_SCOPES
    invoices: dict[str, Invoice] = field(default_factory=dict)
    faults: dict[int, str] = field(default_factory=dict)
    vouchers: list[PostedVoucher] = field(default_factory=list)
    files: dict[str, tuple[str, bytes]] = field(default_factory=dict)
    links: list[Connection] = field(default_factory=list)
    payments: list[InvoicePayment] = field(default_factory=list)
    writes: int = 0
    calls: list[str] = field(default_factory=list)

    # -- fault injection ---------------------------------------------------------

    def _write(self, what: str) -> str | None:
        index = self.writes
        self.writes += 1
        self.calls.append(what)
        fault = self.faults.get(index)
        if fault == "kill-before":
            raise Killed(f"killed before write {index} ({what})")
        if fault == "unsent":
            raise OutcomeUnknownError(f"connection dropped while sending {what}")
        if fault == "refused":
            raise RequestRejectedError(f"Fortnox refused {what} (2000588: test)", status=400)
        return fault

    @staticmethod
    def _after(fault: str | None, what: str) -> None:
        if fault == "lost":
            raise OutcomeUnknownError(f"no answer to {what}")
        if fault == "kill":
            raise Killed(f"killed after {what}")

    # -- reads -------------------------------------------------------------------

    def company_orgnr(self) -> str:
        return self.orgnr

    def financial_years(self) -> tuple[FinancialYear, ...]:
        return self.years

    def accounts(self, year: int) -> dict[int, bool]:
        return dict(self.chart)

    def voucher_series(self) -> dict[str, bool]:
        return dict(self.series)

    def modes_of_payment(self) -> dict[str, int]:
        return dict(self.modes)

    def granted_scopes(self) -> frozenset[str]:
        return self.scopes

    def vouchers_in(self, series: str, start: date, end: date) -> tuple[VoucherFound, ...]:
        return tuple(VoucherFound(v.ref, v.day, v.description, v.comments) for v in self.vouchers
                     if v.ref.series == series and start <= v.day <= end)

    def voucher_documents(self) -> tuple[InboxFile, ...]:
        return tuple(InboxFile(i, name, len(content)) for i, (name, content) in self.files.items())

    def connections(self) -> tuple[Connection, ...]:
        return tuple(self.links)

    def find_invoices(self, field: str, value: str) -> tuple[Invoice, ...]:
        assert field == "DocumentNumber"
        return tuple(i for i in self.invoices.values() if i.number == value)

    def payments_of(self, invoice: str) -> tuple[InvoicePayment, ...]:
        return tuple(p for p in self.payments if p.invoice == invoice)

    # -- writes ------------------------------------------------------------------

    def create_voucher(self, series: str, day: date, description: str, rows: tuple[VoucherRow, ...],
                       reference: str) -> VoucherRef:
        fault = self._write(f"voucher {reference}")
        assert sum(r.debit for r in rows) == sum(r.credit for r in rows), "Fortnox refuses an unbalanced voucher"
        year = next(y.id for y in self.years if y.covers(day))
        number = 1 + sum(1 for v in self.vouchers if v.ref.series == series and v.ref.year == year)
        ref = VoucherRef(series, number, year)
        self.vouchers.append(PostedVoucher(ref, day, description, reference, rows))
        self._after(fault, f"voucher {reference}")
        return ref

    def upload_voucher_document(self, name: str, content: bytes) -> str:
        fault = self._write(f"upload {name}")
        file_id = f"file-{len(self.files) + 1}"
        self.files[file_id] = (name, content)
        self._after(fault, f"upload {name}")
        return file_id

    def connect_document(self, file_id: str, voucher: VoucherRef) -> None:
        fault = self._write(f"connect {file_id}")
        assert file_id in self.files and any(v.ref == voucher for v in self.vouchers)
        self.links.append(Connection(file_id, voucher))
        self._after(fault, f"connect {file_id}")

    def pay_invoice(self, invoice: str, amount: Decimal, day: date, mode_of_payment: str) -> int:
        fault = self._write(f"pay {invoice}")
        found = self.invoices[invoice]
        assert amount <= found.balance, "the engine must never overpay"
        number = len(self.payments) + 1
        self.payments.append(InvoicePayment(number, invoice, amount, day, False))
        self.invoices[invoice] = Invoice(found.number, found.total, found.balance - amount, found.cancelled,
                                         found.booked)
        self._after(fault, f"pay {invoice}")
        return number

    def bookkeep_payment(self, number: int) -> None:
        fault = self._write(f"bookkeep {number}")
        [i] = [i for i, p in enumerate(self.payments) if p.number == number]
        p = self.payments[i]
        assert not p.booked, "a payment is bookkept once"
        self.payments[i] = InvoicePayment(p.number, p.invoice, p.amount, p.day, True)
        self._after(fault, f"bookkeep {number}")
