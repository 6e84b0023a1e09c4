"""The invoice payments as one table: the columns and values the CSV file and the workbook sheet share.

Each row is what the bookkeeper registers on one customer invoice: the
invoice, the amount, and the date and voucher it was paid by. The headers
are the same words in both files, so a row found in one is found in the other.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from decimal import Decimal

from ledger_export.ledger.invoice_payments import InvoicePayment

HEADERS = ("Invoice number", "Reference number", "Case id", "Booking date", "Voucher date", "Amount",
           "Account", "Articles", "Payout reference", "Payout id", "Voucher", "Series", "Note")
AMOUNT_COLUMN = HEADERS.index("Amount")
# A payout Amili sent without specification lines names no invoice: say why the cell is empty.
FROM_SUMMARY = "no invoice: the payout has no specification lines, booked from its summary"

Value = str | int | date | Decimal | None


def booking_date(dates: Sequence[date]) -> date | str | None:
    """One date as a date; several (an invoice's lines booked on different days) as text."""
    if len(dates) == 1:
        return dates[0]
    return ", ".join(d.isoformat() for d in dates) or None


def row(p: InvoicePayment) -> tuple[Value, ...]:
    return (p.invoice_number, p.reference_number, p.case, booking_date(p.booking_dates), p.voucher_date,
            p.amount, p.account, ", ".join(p.articles) or None, p.payout_reference, p.payout_id,
            p.voucher_number, p.voucher_series or None, FROM_SUMMARY if p.from_summary else None)
