"""``invoice-payments-<period>.csv``: the invoice payments for the customer ledger, as Swedish Excel opens them.

UTF-8 with a byte-order mark (without it Excel reads the file as Windows-1252
and å, ä, ö come out wrong), ``;`` between fields and a decimal comma
(``1234,50``), as a spreadsheet set to Swedish writes and reads CSV: a
double-click opens it in columns with every Amount a number. No thousands
separator (a space would make it text), dates written 2025-06-13, lines
ended by CRLF. A text that a spreadsheet would take for a formula (leading
``=``, ``+``, ``-``, ``@``, tab or CR) gets a leading apostrophe, the usual
CSV guard: shown, never evaluated. Amounts are numbers and keep their minus.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping
from datetime import date
from decimal import Decimal

from ledger_export.core.files import Output
from ledger_export.core.money import format_amount
from ledger_export.ledger.invoice_payments import InvoicePayments, invoice_payments
from ledger_export.outputs.base import RunData
from ledger_export.outputs.invoice_payments_table import HEADERS, Value, row

DELIMITER = ";"
FORMULA_LEADS = ("=", "+", "-", "@", "\t", "\r")


def field(value: Value) -> str:
    if value is None:
        return ""
    if isinstance(value, Decimal):
        return format_amount(value).replace(".", ",")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, int):
        return str(value)
    return f"'{value}" if value.startswith(FORMULA_LEADS) else value


def invoice_payments_csv(payments: InvoicePayments) -> bytes:
    out = io.StringIO(newline="")
    writer = csv.writer(out, delimiter=DELIMITER, lineterminator="\r\n")
    writer.writerow(HEADERS)
    for p in payments.payments:
        writer.writerow([field(v) for v in row(p)])
    return out.getvalue().encode("utf-8-sig")


class InvoicePaymentsCsv:
    name = "invoice-payments"

    def render(self, run: RunData) -> Mapping[str, Output]:
        return {run.names.invoice_payments: invoice_payments_csv(invoice_payments(run.ledger, run.data))}
