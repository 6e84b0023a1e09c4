"""Invoices, invoice payments (and bookkeep), modes of payments (scopes invoice, payment, settings).

Fortnox API reference: Invoices (list filters ``filter`` = cancelled,
fullypaid, unpaid, unpaidoverdue, unbooked; search fields documentnumber,
ocr, externalinvoicereference1, yourordernumber, customernumber; ``fromdate``
/``todate`` on InvoiceDate), Invoice Payments (``POST {"InvoicePayment":
{InvoiceNumber, Amount, PaymentDate, ModeOfPayment, ModeOfPaymentAccount}}``,
list by ``invoicenumber`` sorted on payment date, ``PUT
/3/invoicepayments/{Number}/bookkeep``), Modes Of Payments (Code,
Description, AccountNumber; the Scopes table puts them under ``settings``).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

from flask import Flask, request

from ledger_export.sandbox.fortnox import request_values as rv
from ledger_export.sandbox.fortnox.context import api_url, ctx, lose_answer_if_armed
from ledger_export.sandbox.fortnox.errors import (
    INVALID_FILTER, INVOICE_CANCELLED, INVOICE_NOT_FOUND, MODE_OF_PAYMENT_NOT_FOUND, PAYMENT_ALREADY_BOOKED,
    PAYMENT_BEFORE_INVOICE, PAYMENT_NOT_FOUND, FortnoxError, bad_request, not_found, required)
from ledger_export.sandbox.fortnox.sales import Invoice, Payment

SEARCH_FIELDS = {"documentnumber": "document_number", "ocr": "ocr",
                 "externalinvoicereference1": "external_invoice_reference1",
                 "yourordernumber": "your_order_number", "customernumber": "customer_number"}
PAYMENT_FIELDS = ("Amount", "AmountCurrency", "CurrencyRate", "InvoiceNumber", "ModeOfPayment",
                  "ModeOfPaymentAccount", "PaymentDate", "WriteOffs")
PAYMENT_READ_ONLY = ("Booked", "Currency", "CurrencyUnit", "ExternalInvoiceReference1",
                     "ExternalInvoiceReference2", "InvoiceCustomerName", "InvoiceCustomerNumber",
                     "InvoiceDueDate", "InvoiceOCR", "InvoiceTotal", "Number", "VoucherNumber", "VoucherSeries",
                     "VoucherYear", "Source")


def _invoice_not_found() -> FortnoxError:
    # Recorded: 404 with capitalised keys.
    return FortnoxError(404, INVOICE_NOT_FOUND, "Kan inte hitta fakturan.", capitalised=True)


def _filtered(invoices: list[Invoice], today: date) -> list[Invoice]:
    wanted = request.args.get("filter")
    tests: dict[str, Callable[[Invoice], bool]] = {
        "cancelled": lambda i: i.cancelled,
        "fullypaid": lambda i: not i.cancelled and i.balance == 0,
        "unpaid": lambda i: not i.cancelled and i.balance != 0,
        "unpaidoverdue": lambda i: not i.cancelled and i.balance != 0 and i.due_date < today,
        "unbooked": lambda i: not i.booked,
    }
    if wanted is None:
        return invoices
    if wanted not in tests:
        raise bad_request(INVALID_FILTER, "Ett ogiltigt filter har använts.")
    return [i for i in invoices if tests[wanted](i)]


def invoices() -> dict[str, Any]:
    found = _filtered(sorted(ctx().company.sales.invoices.values(), key=lambda i: int(i.document_number)),
                      ctx().today())
    for name, attribute in SEARCH_FIELDS.items():
        wanted = request.args.get(name)
        if wanted is not None:
            found = [i for i in found if getattr(i, attribute) == wanted]
    start, end = rv.query_day("fromdate"), rv.query_day("todate")
    found = [i for i in found if (start is None or i.invoice_date >= start) and (end is None or i.invoice_date <= end)]
    return rv.page([i.subset_json(api_url()) for i in found], "Invoices")


def invoice(number: str) -> dict[str, Any]:
    found = ctx().company.sales.invoices.get(number)
    if found is None:
        raise _invoice_not_found()
    return {"Invoice": found.to_json(api_url())}


def modes_of_payments() -> dict[str, Any]:
    modes = ctx().company.sales.modes
    return rv.page([modes[c].to_json(api_url()) for c in sorted(modes)], "ModesOfPayments")


def mode_of_payment(code: str) -> dict[str, Any]:
    found = ctx().company.sales.modes.get(code)
    if found is None:
        raise not_found(MODE_OF_PAYMENT_NOT_FOUND, f"Kunde inte hitta betalningssätt {code}.")
    return {"ModeOfPayment": found.to_json(api_url())}


def payments() -> dict[str, Any]:
    found = list(ctx().company.sales.payments)
    wanted = request.args.get("invoicenumber")
    if wanted is not None:
        found = [p for p in found if p.invoice.document_number == wanted]
    found.sort(key=lambda p: (p.payment_date, p.number))
    return rv.page([p.subset_json(api_url()) for p in found], "InvoicePayments")


def _payment(number: int) -> Payment:
    found = ctx().company.sales.payment(number)
    if found is None:
        raise not_found(PAYMENT_NOT_FOUND, f"Kan inte hitta inbetalning {number}.")
    return found


def payment(number: int) -> dict[str, Any]:
    return {"InvoicePayment": _payment(number).to_json(api_url())}


def create_payment() -> tuple[dict[str, Any], int]:
    given = rv.json_body("InvoicePayment")
    rv.check_fields(given, PAYMENT_FIELDS, PAYMENT_READ_ONLY)
    sales = ctx().company.sales
    if given.get("InvoiceNumber") in (None, ""):
        raise required("InvoiceNumber")
    invoice = sales.invoices.get(str(rv.integer(given["InvoiceNumber"], "InvoiceNumber")))
    if invoice is None:
        raise bad_request(INVOICE_NOT_FOUND, "Kan inte hitta fakturan.")
    if invoice.cancelled:
        raise bad_request(INVOICE_CANCELLED, f"Fakturan {invoice.document_number} är makulerad.")
    if "Amount" not in given:
        raise required("Amount")
    amount = rv.amount(given, "Amount")
    paid_on = rv.day(rv.text(given, "PaymentDate", needed=True), "PaymentDate")
    if paid_on < invoice.invoice_date:
        raise bad_request(PAYMENT_BEFORE_INVOICE, "Betaldatum kan inte vara före fakturadatum.")
    ctx().company.books.year_of(paid_on)
    code = rv.text(given, "ModeOfPayment", needed=True)
    mode = sales.modes.get(code)
    if mode is None:
        raise bad_request(MODE_OF_PAYMENT_NOT_FOUND, f"Kunde inte hitta betalningssätt {code}.")
    account = mode.account_number
    if given.get("ModeOfPaymentAccount") not in (None, ""):
        account = rv.integer(given["ModeOfPaymentAccount"], "ModeOfPaymentAccount")
    ctx().company.books.account(ctx().company.books.year_of(paid_on).id, account)
    number = max((p.number for p in sales.payments), default=0) + 1
    made = Payment(number, invoice, amount, paid_on, code, account)
    sales.payments.append(made)
    invoice.balance -= amount
    if invoice.balance == 0:
        invoice.final_pay_date = paid_on
    lose_answer_if_armed("payment")
    return {"InvoicePayment": made.to_json(api_url())}, 201


def bookkeep(number: int) -> dict[str, Any]:
    found = _payment(number)
    if found.booked:
        raise bad_request(PAYMENT_ALREADY_BOOKED, f"Inbetalning {number} är redan bokförd.")
    sales, books = ctx().company.sales, ctx().company.books
    zero = found.amount - found.amount
    made = books.add_voucher(
        series=sales.payment_series, day=found.payment_date, manual=False,
        description=f"Kundbet {found.invoice.customer_name} ({found.invoice.document_number})", comments="",
        rows=[(found.mode_of_payment_account, found.amount, zero, ""),
              (sales.receivable_account, zero, found.amount, "")],
        reference_type="INVOICEPAYMENT", reference_number=str(found.number))
    found.booked, found.voucher = True, made.key()
    lose_answer_if_armed("bookkeep")
    return {"InvoicePayment": found.to_json(api_url())}


def register(app: Flask) -> None:
    app.add_url_rule("/3/invoices", view_func=invoices)
    app.add_url_rule("/3/invoices/<number>", view_func=invoice)
    app.add_url_rule("/3/modesofpayments", view_func=modes_of_payments)
    app.add_url_rule("/3/modesofpayments/<code>", view_func=mode_of_payment)
    app.add_url_rule("/3/invoicepayments", view_func=payments)
    app.add_url_rule("/3/invoicepayments", view_func=create_payment, methods=["POST"], endpoint="create_payment")
    app.add_url_rule("/3/invoicepayments/<int:number>", view_func=payment)
    app.add_url_rule("/3/invoicepayments/<int:number>/bookkeep", view_func=bookkeep, methods=["PUT"])
