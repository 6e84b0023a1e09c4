"""The workbook's "Invoice payments" sheet: what to register on each customer invoice.

The same rows as invoice-payments-<period>.csv, then a total, and a check an
auditor can recompute: the rows add up to the total, and the total equals
the Vouchers sheet's net credit to the receivable account. The total is written as a value (a
reader that does not recalculate still sees it), the check as formulas.
"""

from __future__ import annotations

from ledger_export.ledger.invoice_payments import InvoicePayments
from ledger_export.outputs.invoice_payments_table import AMOUNT_COLUMN, HEADERS, row
from ledger_export.outputs.xlsx import AMOUNT, Bold, Column, Formula, Sheet, Workbook

TITLE = "Invoice payments"
WIDTHS = {"Invoice number": 18, "Reference number": 18, "Case id": 26, "Booking date": 12, "Voucher date": 12,
          "Amount": 16, "Account": 9, "Articles": 24, "Payout reference": 14, "Payout id": 26, "Voucher": 9,
          "Series": 7, "Note": 40}
COLUMNS = tuple(Column(h, WIDTHS[h]) for h in HEADERS)


def write_invoice_payments(wb: Workbook, rows: InvoicePayments, vouchers: Sheet | None = None) -> Sheet:
    """One row per invoice payment, a total, and (given the Vouchers sheet) its check against the ledger."""
    sheet = Sheet(wb, TITLE, COLUMNS)
    for payment in rows.payments:
        sheet.append(row(payment))
    sheet.finish()
    pad = [None] * (AMOUNT_COLUMN - 1)
    last = sheet.rows
    total = sheet.append([Bold("Total"), *pad, rows.total])
    if vouchers is None:
        return sheet
    amount = sheet.letter("Amount")
    # No rows: nothing to add up (a range over the header alone would reach the total itself).
    summed = f"SUM({amount}2:{amount}{last})" if last >= 2 else "0"
    accounts = vouchers.range("Account", 2, vouchers.rows)
    credit, debit = vouchers.range("Credit", 2, vouchers.rows), vouchers.range("Debit", 2, vouchers.rows)
    credited = sheet.append([Bold(f"Credited to {rows.account} (Vouchers)"), *pad,
                             Formula(f"=ROUND(SUMIFS({credit},{accounts},{rows.account})"
                                     f"-SUMIFS({debit},{accounts},{rows.account}),2)", AMOUNT,
                                     value=rows.credited)])
    sheet.append([Bold("Total = credited"), *pad,
                  Formula(f'=IF(AND(ROUND({summed}-{amount}{total},2)=0,'
                          f'ROUND({amount}{total}-{amount}{credited},2)=0),"yes","NO")',
                          value="yes" if rows.total == rows.credited else "NO")])
    return sheet
