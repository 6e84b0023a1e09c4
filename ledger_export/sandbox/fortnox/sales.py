"""Customer invoices, their payments and the modes of payment.

Fortnox API reference: Invoices, Invoice Payments, Modes Of Payments;
field names from recorded answers (accodeing/fortnox-api invoices cassettes)
and softwerkab/fortnox-csharp-api-sdk. Fortnox gives an invoice's OCR as
its number, a length digit and a Luhn check digit (recorded: invoice 1 ->
"133", invoice 10 -> "1040").

A payment is registered (POST), which lowers the invoice's Balance, then
bookkept (PUT .../bookkeep), which makes its voucher in the customer
payments series: the mode of payment's account in debit, the receivable
(1510) in credit. Whether Fortnox lowers Balance at registration or at
bookkeeping is not documented; the sandbox does it at registration, so an
unbooked payment already shows in the customer ledger. Fortnox accepts an
overpayment; the sandbox accepts it too (Balance goes below zero) and the
state shows it, so a test can assert a client never overpays.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any


def ocr(document_number: str) -> str:
    """Fortnox's default OCR: the number, a length digit (mod 10) and a Luhn check digit."""
    body = document_number + str((len(document_number) + 2) % 10)
    total = 0
    for i, digit in enumerate(reversed(body)):
        d = int(digit) * (2 if i % 2 == 0 else 1)
        total += d - 9 if d > 9 else d
    return body + str((10 - total % 10) % 10)


@dataclass
class Invoice:
    document_number: str
    customer_number: str
    customer_name: str
    invoice_date: date
    due_date: date
    total: Decimal
    balance: Decimal
    external_invoice_reference1: str = ""
    your_order_number: str = ""
    cancelled: bool = False
    booked: bool = True
    final_pay_date: date | None = None
    ocr: str = ""

    def __post_init__(self) -> None:
        self.ocr = self.ocr or ocr(self.document_number)

    def subset_json(self, api: str) -> dict[str, Any]:
        return {"@url": f"{api}/invoices/{self.document_number}", "Balance": self.balance,
                "Booked": self.booked, "Cancelled": self.cancelled, "CostCenter": "", "Currency": "SEK",
                "CurrencyRate": "1", "CurrencyUnit": 1, "CustomerName": self.customer_name,
                "CustomerNumber": self.customer_number, "DocumentNumber": self.document_number,
                "DueDate": self.due_date.isoformat(),
                "ExternalInvoiceReference1": self.external_invoice_reference1, "ExternalInvoiceReference2": "",
                "InvoiceDate": self.invoice_date.isoformat(), "InvoiceType": "INVOICE", "NoxFinans": False,
                "OCR": self.ocr, "VoucherNumber": None, "VoucherSeries": None, "VoucherYear": None,
                "WayOfDelivery": "", "TermsOfPayment": "30", "Project": "", "Sent": True, "Total": self.total,
                "FinalPayDate": self.final_pay_date.isoformat() if self.final_pay_date else None}

    def to_json(self, api: str) -> dict[str, Any]:
        return {**self.subset_json(api), "Credit": "false", "CurrencyRate": 1, "InvoiceRows": [],
                "YourOrderNumber": self.your_order_number, "YourReference": "", "OurReference": "",
                "Remarks": "", "Comments": "", "TotalToPay": self.balance, "TotalVAT": 0}


@dataclass
class ModeOfPayment:
    code: str
    description: str
    account_number: int

    def to_json(self, api: str) -> dict[str, Any]:
        return {"@url": f"{api}/modesofpayments/{self.code}", "Code": self.code,
                "Description": self.description, "AccountNumber": self.account_number}


@dataclass
class Payment:
    number: int
    invoice: Invoice
    amount: Decimal
    payment_date: date
    mode_of_payment: str
    mode_of_payment_account: int
    booked: bool = False
    voucher: tuple[str, int, int] | None = None  # series, number, year once bookkept

    def subset_json(self, api: str) -> dict[str, Any]:
        return {"@url": f"{api}/invoicepayments/{self.number}", "Amount": self.amount,
                "Booked": self.booked, "Currency": "SEK", "CurrencyRate": 1, "CurrencyUnit": 1,
                "InvoiceNumber": int(self.invoice.document_number), "Number": self.number,
                "PaymentDate": self.payment_date.isoformat(), "Source": "direct"}

    def to_json(self, api: str) -> dict[str, Any]:
        series, number, year = self.voucher or (None, None, None)
        return {**self.subset_json(api), "AmountCurrency": self.amount,
                "ExternalInvoiceReference1": self.invoice.external_invoice_reference1,
                "ExternalInvoiceReference2": "", "InvoiceCustomerName": self.invoice.customer_name,
                "InvoiceCustomerNumber": self.invoice.customer_number,
                "InvoiceDueDate": self.invoice.due_date.isoformat(), "InvoiceOCR": self.invoice.ocr,
                "InvoiceTotal": self.invoice.total, "ModeOfPayment": self.mode_of_payment,
                "ModeOfPaymentAccount": self.mode_of_payment_account, "VoucherNumber": number,
                "VoucherSeries": series, "VoucherYear": year, "WriteOffs": []}


@dataclass
class Sales:
    invoices: dict[str, Invoice]
    modes: dict[str, ModeOfPayment]
    payments: list[Payment] = field(default_factory=list)
    payment_series: str = "C"  # "Inbetalningar från kunder"
    receivable_account: int = 1510

    def payment(self, number: int) -> Payment | None:
        return next((p for p in self.payments if p.number == number), None)
