"""The workbook's source-data sheets: payouts, specification lines, self-invoices,
creditor payments and the mapping used. One row per record, in the order the
period data lists them, so a bookkeeper can trace every voucher line back.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from urllib.parse import quote

from ledger_export.amili.models import CreditorPayment, PeriodData, Payout
from ledger_export.ledger.model import Ledger
from ledger_export.core.money import format_amount
from ledger_export.amili.documents import DocumentRecord
from ledger_export.outputs.self_invoices import document_path
from ledger_export.outputs.xlsx import Column, Link, Sheet, Workbook
from ledger_export.sie.text import as_written, reference_key

ID = 26  # width of a 24-character Amili id

PAYOUT_COLUMNS = (
    Column("Payout id", ID), Column("Created (UTC)", 20), Column("Payout date", 12), Column("Category", 20),
    Column("Reference", 14), Column("Interval", 10), Column("Period start", 12), Column("Period end", 12),
    Column("Ledger account", 10), Column("Currency", 9), Column("Amount", 16), Column("VAT", 14),
    Column("Total", 16), Column("Specification lines", 12), Column("Articles", 40),
    Column("Self-invoice", 30), Column("Etag", 34),
)

SPECIFICATION_COLUMNS = (
    Column("Specification id", ID), Column("Payout id", ID), Column("Payout reference", 14),
    Column("Invoice number", 18), Column("Reference number", 18), Column("Case id", ID),
    Column("Booking date", 12), Column("Payout date", 12), Column("Article", 22), Column("Category", 20),
    Column("Currency", 9), Column("Amount", 16), Column("VAT", 14), Column("Total", 16),
    Column("Banking transaction", ID), Column("State", 12), Column("Created (UTC)", 20),
)

SELF_INVOICE_COLUMNS = (
    Column("File name", 34), Column("Size (bytes)", 12), Column("SHA-256", 66), Column("Payout id", ID),
    Column("Payout reference", 14), Column("Voucher text", 50), Column("Status", 12), Column("Problem", 60),
    Column("Amili file id", ID), Column("Amili length", 12),
)

PAYMENT_COLUMNS = (
    Column("Payment id", ID), Column("Created (UTC)", 20), Column("Case id", ID), Column("Invoice number", 18),
    Column("Case invoice number", 18), Column("Case reference number", 18), Column("Currency", 9),
    Column("Amount", 16), Column("Settled amount", 16), Column("Bank transaction date", 14),
    Column("Booking date", 12), Column("Payment reference", 18), Column("Status", 14),
    Column("Status reason", 40),
)

MAPPING_COLUMNS = (Column("Setting", 50), Column("Value", 60))


def _articles(payout: Payout) -> str:
    # "5 lines, 3000.00": a count and a sum, never read as a multiplication.
    return "; ".join(f"{article}: {s.count} {'line' if s.count == 1 else 'lines'}, {format_amount(s.total_amount)}"
                     for article, s in payout.summary.items())


def write_payouts(wb: Workbook, data: PeriodData, file_names: Mapping[str, str]) -> Sheet:
    sheet = Sheet(wb, "Payouts", PAYOUT_COLUMNS)
    for p in data.payouts:
        sheet.append([
            p.id, p.created, p.payout_date, p.finance_category, p.payout_reference, p.finance_interval,
            p.finance_period_start, p.finance_period_end, p.ledger_account, p.currency,
            p.amount, p.vat_amount, p.total_amount, len(data.lines_of(p)), _articles(p),
            file_names.get(p.id), p.etag,
        ])
    sheet.finish()
    return sheet


def write_specifications(wb: Workbook, data: PeriodData) -> Sheet:
    sheet = Sheet(wb, "Specifications", SPECIFICATION_COLUMNS)
    for s in data.specifications:
        sheet.append([
            s.id, s.payout, s.payout_reference, s.invoice_number, s.reference_number, s.case,
            s.booking_date, s.payout_date, s.article, s.finance_category, s.currency,
            s.amount, s.vat_amount, s.total_amount, s.banking_transaction, s.state, s.created,
        ])
    sheet.finish()
    return sheet


def pdf_link(record: DocumentRecord) -> Link | str | None:
    """The file name, as a link to the local PDF when the file is in place."""
    path = document_path(record)
    if path is None or record.file_name is None:
        return record.file_name
    # Relative to the workbook, which sits in the period folder beside self-invoices/.
    return Link(record.file_name, quote(path))


def write_self_invoices(wb: Workbook, data: PeriodData, ledger: Ledger,
                        documents: Sequence[DocumentRecord]) -> Sheet:
    sheet = Sheet(wb, "Self-invoices", SELF_INVOICE_COLUMNS)
    payouts = {p.id: p for p in data.payouts}
    voucher_texts: dict[str, str] = {}
    for voucher in ledger.vouchers:
        if voucher.payout_id is not None:
            # As the SIE file (and the Vouchers sheet) has it.
            voucher_texts.setdefault(voucher.payout_id,
                                     as_written(voucher.text, reference_key(voucher.payout_reference)))
    for record in documents:
        payout = payouts.get(record.payout_id)
        document = payout.document if payout else None
        sheet.append([
            pdf_link(record), record.size, record.sha256, record.payout_id,
            payout.payout_reference if payout else None, voucher_texts.get(record.payout_id),
            record.status, record.problem,
            document.file if document else None, document.length if document else None,
        ])
    sheet.finish()
    return sheet


def write_payments(wb: Workbook, payments: Sequence[CreditorPayment]) -> Sheet:
    sheet = Sheet(wb, "Creditor payments", PAYMENT_COLUMNS)
    for p in payments:
        sheet.append([
            p.id, p.created, p.case, p.invoice_number, p.case_invoice_number, p.case_reference_number,
            p.currency, p.amount, p.settled_amount, p.bank_transaction_date, p.booking_date,
            p.creditor_payment_reference, p.status, p.status_reason_locale,
        ])
    sheet.finish()
    return sheet


def write_mapping(wb: Workbook, mapping_rows: Sequence[tuple[str, str]]) -> Sheet:
    sheet = Sheet(wb, "Mapping", MAPPING_COLUMNS)
    for setting, value in mapping_rows:
        sheet.append([str(setting), str(value)])
    sheet.finish()
    return sheet
