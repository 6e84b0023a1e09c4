"""The audit workbook ``ledger-<period>.xlsx``: summary, vouchers, trial balance and sources.

Totals are formulas over the sheets that hold the lines, so the figures a
revisor sees are recomputed by Excel or LibreOffice from the ledger lines,
not typed in; the trial balance recomputes to the SIE file's per-account
totals. Rendering is pure: models in, bytes out, the run's time passed in.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime

from openpyxl import Workbook

from ledger_export.amili.models import PeriodData
from ledger_export.core.settings import Company
from ledger_export.ledger.model import OK, Finding, Ledger
from ledger_export.core.money import ZERO
from ledger_export.ledger.invoice_payments import invoice_payments
from ledger_export.amili.documents import DocumentRecord
from ledger_export.outputs.self_invoices import document_path
from ledger_export.outputs.manifest import worst
from ledger_export.outputs.workbook_invoice_payments import write_invoice_payments
from ledger_export.outputs.workbook_tables import (ID, write_mapping, write_payments, write_payouts, write_self_invoices,
                              write_specifications)
from ledger_export.outputs.xlsx import AMOUNT, Bold, Column, Formula, Sheet, new_workbook, save

VOUCHER_COLUMNS = (
    Column("Voucher", 9), Column("Series", 7), Column("Date", 12), Column("Account", 9),
    Column("Account name", 36), Column("Debit", 16), Column("Credit", 16), Column("Text", 44),
    Column("Voucher text", 44), Column("Payout id", ID), Column("Payout reference", 14),
    Column("Category", 20), Column("Article", 20), Column("Invoice number", 18), Column("Self-invoice", 30),
)

TRIAL_BALANCE_COLUMNS = (
    Column("Account", 9), Column("Account name", 40), Column("Debit", 16), Column("Credit", 16),
    Column("Net", 16),
)

SUMMARY_COLUMNS = (Column("", 40), Column("", 26), Column("", 22), Column("", 16), Column("", 16),
                   Column("", 12), Column("", 70))

KNOWN_CATEGORIES = ("capital", "interest", "creditor_commission", "creditor_outlay")


def write_vouchers(wb: Workbook, ledger: Ledger) -> Sheet:
    """One row per ledger line; ``Voucher`` is the voucher's position in the ledger (1, 2, ...)."""
    sheet = Sheet(wb, "Vouchers", VOUCHER_COLUMNS)
    for number, voucher in enumerate(ledger.vouchers, start=1):
        for line in voucher.lines:
            sheet.append([
                number, voucher.series or None, voucher.date, line.account,
                ledger.account_names.get(line.account), line.debit if line.amount >= 0 else None,
                line.credit if line.amount < 0 else None, line.text, voucher.text, voucher.payout_id,
                voucher.payout_reference, line.category or voucher.category, line.article,
                line.invoice_number, voucher.document_name,
            ])
    sheet.finish()
    return sheet


def write_trial_balance(wb: Workbook, ledger: Ledger, vouchers: Sheet) -> Sheet:
    sheet = Sheet(wb, "Trial balance", TRIAL_BALANCE_COLUMNS)
    first, last = 2, vouchers.rows
    accounts = vouchers.range("Account", first, last)
    debit, credit = vouchers.range("Debit", first, last), vouchers.range("Credit", first, last)
    for account in ledger.account_totals():
        row = sheet.rows + 1
        sheet.append([
            account, ledger.account_names.get(account),
            Formula(f"=SUMIFS({debit},{accounts},$A{row})", AMOUNT),
            Formula(f"=SUMIFS({credit},{accounts},$A{row})", AMOUNT),
            Formula(f"=C{row}-D{row}", AMOUNT),
        ])
    bottom = sheet.rows
    sheet.finish()
    total = sheet.rows + 1
    # An empty ledger has no account rows to add up (a SUM over its own row would be circular).
    sheet.append([Bold("Total"), None] + [Formula(f"=SUM({c}2:{c}{bottom})", AMOUNT) if bottom >= 2 else ZERO
                                          for c in "CDE"])
    sheet.append([Bold("Debit = credit"), Formula(f'=IF(ROUND(C{total}-D{total},2)=0,"yes","NO")')])
    return sheet


def _categories(data: PeriodData) -> list[str]:
    present = {p.finance_category for p in data.payouts}
    return [c for c in KNOWN_CATEGORIES if c in present] + sorted(present - set(KNOWN_CATEGORIES))


def _status(findings: Sequence[Finding]) -> str:
    return worst([f.severity for f in findings])


def _category_totals(summary: Sheet, data: PeriodData, payouts: Sheet, specifications: Sheet) -> None:
    summary.append([Bold("Category"), Bold("Payouts"), Bold("Specification lines"), Bold("Amount"),
                    Bold("VAT"), Bold("Total")])
    p_cat = payouts.range("Category", 2, payouts.rows)
    s_cat = specifications.range("Category", 2, specifications.rows)
    top = summary.rows + 1
    for category in _categories(data):
        row = summary.rows + 1
        # EXACT, not SUMIFS: a category is matched as written, never as a wildcard pattern.
        sums = [Formula(f"=SUMPRODUCT(EXACT({p_cat},$A{row})*{payouts.range(h, 2, payouts.rows)})", AMOUNT)
                for h in ("Amount", "VAT", "Total")]
        summary.append([category, Formula(f"=SUMPRODUCT(--EXACT({p_cat},$A{row}))"),
                        Formula(f"=SUMPRODUCT(--EXACT({s_cat},$A{row}))"), *sums])
    bottom = summary.rows
    if bottom < top:  # no payouts: nothing to add up
        summary.append([Bold("Total"), 0, 0, ZERO, ZERO, ZERO])
        return
    summary.append([Bold("Total")] + [Formula(f"=SUM({c}{top}:{c}{bottom})", AMOUNT if c > "C" else "General")
                                      for c in "BCDEF"])


def _reconciliation(summary: Sheet, data: PeriodData, ledger: Ledger) -> None:
    summary.append([Bold("Reconciliation per payout")])
    summary.append([Bold("Payout id"), Bold("Reference"), Bold("Category"), Bold("Payout date"),
                    Bold("Total"), Bold("Status"), Bold("Warnings and errors")])
    by_payout: dict[str | None, list[Finding]] = {}
    for finding in ledger.findings:
        by_payout.setdefault(finding.payout_id, []).append(finding)
    for p in data.payouts:
        findings = by_payout.get(p.id, [])
        problems = [f.message for f in findings if f.severity != OK]
        summary.append([p.id, p.payout_reference, p.finance_category, p.payout_date, p.total_amount,
                        _status(findings), " | ".join(problems) or None])
    summary.append([])
    summary.append([Bold("Findings")])
    summary.append([Bold("Payout id"), Bold("Check"), Bold("Severity"), Bold("Message")])
    for f in ledger.findings:
        summary.append([f.payout_id or "(whole run)", f.check, f.severity, f.message])


def write_summary(summary: Sheet, *, ledger: Ledger, data: PeriodData, company: Company, creditor: str,
                  generated: datetime, tool_version: str, documents: Sequence[DocumentRecord],
                  checksums: Mapping[str, str], sheets: Mapping[str, Sheet]) -> None:
    warnings, errors = len(ledger.warnings), len(ledger.errors)
    summary.append([Bold("Amili payouts: audit pack")])
    summary.append([])
    summary.append(["Company", company.name])
    summary.append(["Org. no.", company.orgnr or None])
    summary.append(["Creditor", creditor])
    summary.append(["Period", data.period.label, data.period.start, data.period.end])
    summary.append(["Run time", generated])
    summary.append(["Tool version", f"ledger-export {tool_version}"])
    summary.append(["Reconciliation", _status(ledger.findings), f"{warnings} warnings, {errors} errors"])
    summary.append([])
    _category_totals(summary, data, sheets["Payouts"], sheets["Specifications"])
    summary.append([])
    payments = sheets["Creditor payments"]
    in_place = sum(1 for d in documents if d.in_place)
    summary.append([Bold("Counts")])
    summary.append(["Vouchers", len(ledger.vouchers)])
    summary.append(["Ledger lines", sheets["Vouchers"].rows - 1])
    summary.append(["Payouts", len(data.payouts)])
    summary.append(["Specification lines", len(data.specifications)])
    summary.append(["Self-invoices in place", in_place, f"of {len(documents)}"])
    summary.append(["Creditor payments (direct)", len(data.payments),
                    Formula(f"=SUM({payments.range('Amount', 2, payments.rows)})", AMOUNT)])
    summary.append([])
    _reconciliation(summary, data, ledger)
    summary.append([])
    summary.append([Bold("Checksums")])
    summary.append([Bold("File"), Bold("SHA-256")])
    for name, digest in sorted(checksums.items()):
        summary.append([name, digest])
    for record in documents:
        path = document_path(record)
        if path is not None:
            summary.append([path, record.sha256])


def render_workbook(*, ledger: Ledger, data: PeriodData, company: Company, creditor: str,
                    generated: datetime, tool_version: str, documents: Sequence[DocumentRecord],
                    checksums: Mapping[str, str], mapping_rows: Sequence[tuple[str, str]]) -> bytes:
    """The audit workbook as .xlsx bytes; the same arguments give the same bytes.

    ``checksums``: output file name -> SHA-256 (the SIE file); the PDFs' come
    from ``documents``. ``mapping_rows``: (setting, value) pairs of the
    configuration used (see config_dump.config_rows).
    """
    wb = new_workbook(generated)
    # Sheets appear in creation order; the summary is written last, once the
    # row counts its formulas refer to are known.
    summary = Sheet(wb, "Summary", SUMMARY_COLUMNS, table=False)
    file_names = {d.payout_id: d.file_name for d in documents if d.file_name}
    vouchers = write_vouchers(wb, ledger)
    write_trial_balance(wb, ledger, vouchers)
    write_invoice_payments(wb, invoice_payments(ledger, data), vouchers)
    sheets = {s.title: s for s in (
        vouchers,
        write_payouts(wb, data, file_names),
        write_specifications(wb, data),
        write_self_invoices(wb, data, ledger, documents),
        write_payments(wb, data.payments),
        write_mapping(wb, mapping_rows),
    )}
    write_summary(summary, ledger=ledger, data=data, company=company, creditor=creditor,
                  generated=generated, tool_version=tool_version, documents=documents,
                  checksums=checksums, sheets=sheets)
    return save(wb, generated)
