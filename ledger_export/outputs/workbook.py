"""The audit workbook ``ledger-<period>.xlsx``: summary, vouchers, trial balance and sources.

Totals are formulas over the sheets that hold the lines, so a revisor's
spreadsheet recomputes them from the ledger lines; each formula also
carries its result, computed here from the same data, so a reader that
does not recalculate shows the same figures. The formulas use only
functions Excel, LibreOffice and Gnumeric compute alike (SUM, SUMIFS,
COUNTIFS, ROUND, IF), and every sum of amounts is rounded to öre so float
noise never shows. Rendering is pure: models in, bytes out, the run's time
passed in.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any
from datetime import datetime
from decimal import Decimal

from ledger_export.amili.models import PeriodData
from ledger_export.core.settings import Company
from ledger_export.ledger.model import OK, Finding, Ledger
from ledger_export.core.money import ZERO
from ledger_export.ledger.invoice_payments import InvoicePayments, invoice_payments
from ledger_export.sie.text import as_written, reference_key
from ledger_export.amili.documents import DocumentRecord
from ledger_export.outputs.self_invoices import document_path
from ledger_export.outputs.manifest import worst
from ledger_export.outputs.workbook_invoice_payments import write_invoice_payments
from ledger_export.outputs.workbook_tables import (ID, write_mapping, write_payments, write_payouts, write_self_invoices,
                              write_specifications)
from ledger_export.outputs.xlsx import AMOUNT, Bold, Column, Formula, Sheet, Workbook, new_workbook, safe_text, save

VOUCHER_COLUMNS = (
    Column("Voucher", 9), Column("Series", 7), Column("Date", 12), Column("Account", 9),
    Column("Account name", 36), Column("Debit", 16), Column("Credit", 16), Column("Text", 44),
    Column("Original text", 30), Column("Voucher text", 44), Column("Original voucher text", 30),
    Column("Payout id", ID), Column("Payout reference", 14),
    Column("Category", 20), Column("Article", 20), Column("Invoice number", 18), Column("Self-invoice", 30),
)

# Only for a run posted to Fortnox (--to fortnox): where each voucher and its self-invoice went.
FORTNOX_COLUMNS = (Column("Fortnox voucher", 18), Column("Fortnox file id", 38))

TRIAL_BALANCE_COLUMNS = (
    Column("Account", 9), Column("Account name", 40), Column("Debit", 16), Column("Credit", 16),
    Column("Net", 16),
)

SUMMARY_COLUMNS = (Column("", 40), Column("", 26), Column("", 22), Column("", 16), Column("", 16),
                   Column("", 12), Column("", 70))

KNOWN_CATEGORIES = ("capital", "interest", "creditor_commission", "creditor_outlay")


def _as_in_sie(text: str, keep: str | None) -> tuple[str, str | None]:
    """The text as the SIE file holds it, and the original beside it when that differs."""
    written = as_written(text, keep)
    return written, (text if written != text else None)


def _fortnox_cells(posted: Mapping[str, Any] | None) -> list[str | None]:
    """The voucher as Fortnox numbered it (``A42 (year 2)``) and its self-invoice's file id there."""
    voucher = (posted or {}).get("voucher")
    document = (posted or {}).get("document")
    number = f"{voucher['series']}{voucher['number']} (year {voucher['year']})" if voucher else None
    file_id = None
    if document and document.get("file_id"):
        file_id = document["file_id"] + ("" if document.get("connected") else " (not connected)")
    return [number, file_id]


def write_vouchers(wb: Workbook, ledger: Ledger, fortnox: Mapping[str, Mapping[str, Any]] | None = None) -> Sheet:
    """One row per ledger line; ``Voucher`` is the voucher's position in the ledger (1, 2, ...).

    ``fortnox`` (a run posted to Fortnox: payout id -> its postings, as the
    manifest records them) adds the voucher's number in Fortnox and its
    self-invoice's file id.

    Texts read as the SIE file has them (cleaned, shortened to 50 characters
    with the payout reference kept), so a voucher found in Fortnox is found
    here by its text; the original stands beside it when it differs.
    """
    sheet = Sheet(wb, "Vouchers", VOUCHER_COLUMNS + (FORTNOX_COLUMNS if fortnox is not None else ()))
    for number, voucher in enumerate(ledger.vouchers, start=1):
        posted = _fortnox_cells(fortnox.get(voucher.payout_id or "")) if fortnox is not None else []
        keep = reference_key(voucher.payout_reference)
        voucher_text, voucher_original = _as_in_sie(voucher.text, keep)
        for line in voucher.lines:
            text, original = _as_in_sie(line.text, keep)
            sheet.append([
                number, voucher.series or None, voucher.date, line.account,
                ledger.account_names.get(line.account), line.debit if line.amount >= 0 else None,
                line.credit if line.amount < 0 else None, text, original, voucher_text, voucher_original,
                voucher.payout_id, voucher.payout_reference, line.category or voucher.category, line.article,
                line.invoice_number, voucher.document_name, *posted,
            ])
    sheet.finish()
    return sheet


def write_trial_balance(wb: Workbook, ledger: Ledger, vouchers: Sheet) -> Sheet:
    """Debit, credit and net per account: SUMIFS over the Vouchers sheet, each with the ledger's own figure."""
    sheet = Sheet(wb, "Trial balance", TRIAL_BALANCE_COLUMNS)
    first, last = 2, vouchers.rows
    accounts = vouchers.range("Account", first, last)
    debit, credit = vouchers.range("Debit", first, last), vouchers.range("Credit", first, last)
    sides = ledger.debit_credit()
    for account, (debits, credits) in sides.items():
        row = sheet.rows + 1
        sheet.append([
            account, ledger.account_names.get(account),
            Formula(f"=ROUND(SUMIFS({debit},{accounts},$A{row}),2)", AMOUNT, debits),
            Formula(f"=ROUND(SUMIFS({credit},{accounts},$A{row}),2)", AMOUNT, credits),
            Formula(f"=ROUND(C{row}-D{row},2)", AMOUNT, debits - credits),
        ])
    bottom = sheet.rows
    sheet.finish()
    total = sheet.rows + 1
    debits = sum((d for d, _ in sides.values()), ZERO)
    credits = sum((c for _, c in sides.values()), ZERO)
    # An empty ledger has no account rows to add up (a SUM over its own row would be circular).
    sheet.append([Bold("Total"), None] + [Formula(f"=ROUND(SUM({c}2:{c}{bottom}),2)", AMOUNT, value)
                                          if bottom >= 2 else ZERO
                                          for c, value in zip("CDE", (debits, credits, debits - credits))])
    sheet.append([Bold("Debit = credit"), Formula(f'=IF(ROUND(C{total}-D{total},2)=0,"yes","NO")',
                                                  value="yes" if debits == credits else "NO")])
    return sheet


def _categories(data: PeriodData) -> list[str]:
    present = {p.finance_category for p in data.payouts}
    return [c for c in KNOWN_CATEGORIES if c in present] + sorted(present - set(KNOWN_CATEGORIES))


def _status(findings: Sequence[Finding]) -> str:
    return worst([f.severity for f in findings])


# Amili's category codes (capital, creditor_commission, ...): lowercase words and underscores.
_CODE = re.compile("[a-z]+(_[a-z0-9]+)*")


def criterion(category: str) -> str | None:
    """A COUNTIFS/SUMIFS criterion matching cells equal to ``category``, as a formula string
    literal; None when no criterion matches it alike in Excel, LibreOffice and Gnumeric.

    A criterion is a pattern, and the three read patterns differently: "*",
    "?" are wildcards after "=" in Excel and LibreOffice but not in
    Gnumeric, which also ignores the "~" escape there; a leading "<", ">" or
    "=" is a comparison; a number-like text matches numbers; every match
    ignores case. A category code (lowercase letters, digits, underscores,
    not TRUE/FALSE) is none of that, so "=code" matches exactly it
    everywhere; any other category gets its figures as values.
    """
    if not _CODE.fullmatch(category) or category in ("true", "false"):
        return None
    return f'"={category}"'


def _category_totals(summary: Sheet, data: PeriodData, payouts: Sheet, specifications: Sheet) -> None:
    summary.append([Bold("Category"), Bold("Payouts"), Bold("Specification lines"), Bold("Amount"),
                    Bold("VAT"), Bold("Total")])
    p_cat = payouts.range("Category", 2, payouts.rows)
    s_cat = specifications.range("Category", 2, specifications.rows)
    categories = _categories(data)
    lines = Counter(s.finance_category for s in data.specifications)
    folded = Counter(c.casefold() for c in categories)
    top = summary.rows + 1
    totals: list[Decimal | int] = [0, 0, ZERO, ZERO, ZERO]
    for category in categories:
        payouts_of = [p for p in data.payouts if p.finance_category == category]
        figures: list[Decimal | int] = [len(payouts_of), lines[category],
                                        sum((p.amount for p in payouts_of), ZERO),
                                        sum((p.vat_amount for p in payouts_of), ZERO),
                                        sum((p.total_amount for p in payouts_of), ZERO)]
        totals = [t + f for t, f in zip(totals, figures)]
        match = criterion(category)
        if match is None or folded[category.casefold()] > 1:  # matching ignores case: "Capital" too
            summary.append([category, *figures])
            continue
        sums = [f"ROUND(SUMIFS({payouts.range(h, 2, payouts.rows)},{p_cat},{match}),2)"
                for h in ("Amount", "VAT", "Total")]
        formulas = [f"COUNTIFS({p_cat},{match})", f"COUNTIFS({s_cat},{match})", *sums]
        summary.append([category, *(Formula(f"={f}", AMOUNT if n > 1 else "General", value)
                                     for n, (f, value) in enumerate(zip(formulas, figures)))])
    bottom = summary.rows
    if bottom < top:  # no payouts: nothing to add up
        summary.append([Bold("Total"), 0, 0, ZERO, ZERO, ZERO])
        return
    summary.append([Bold("Total"), *(Formula(f"=ROUND(SUM({c}{top}:{c}{bottom}),2)" if c > "C"
                                              else f"=SUM({c}{top}:{c}{bottom})",
                                              AMOUNT if c > "C" else "General", value)
                                      for c, value in zip("BCDEF", totals))])


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
                  checksums: Mapping[str, str], sheets: Mapping[str, Sheet], registered: InvoicePayments) -> None:
    warnings, errors = len(ledger.warnings), len(ledger.errors)
    summary.append([Bold("Amili payouts: audit pack")])
    summary.append([])
    summary.append(["Company", company.name])
    summary.append(["Org. no.", company.orgnr or None])
    summary.append(["Creditor", creditor])
    summary.append(["Period", data.period.label, data.period.start, data.period.end])
    # A date cell cannot carry a zone: the label names it.
    summary.append(["Run time (UTC)", generated])
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
    paid = sum((p.amount for p in data.payments), ZERO)
    summary.append(["Creditor payments (direct)", len(data.payments),
                    Formula(f"=ROUND(SUM({payments.range('Amount', 2, payments.rows)}),2)", AMOUNT, paid)])
    # What the bookkeeper registers in the customer ledger: the rows of the sheet (not its total rows).
    count = len(registered.payments)
    summary.append([f"Invoice payments (credited to {registered.account})", count,
                    Formula(f"=ROUND(SUM({sheets['Invoice payments'].range('Amount', 2, 1 + count)}),2)", AMOUNT,
                            registered.total) if count else registered.total])
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
                    checksums: Mapping[str, str], mapping_rows: Sequence[tuple[str, str]],
                    fortnox: Mapping[str, Mapping[str, Any]] | None = None) -> bytes:
    """The audit workbook as .xlsx bytes; the same arguments give the same bytes.

    ``checksums``: output file name -> SHA-256 (the SIE file); the PDFs' come
    from ``documents``. ``mapping_rows``: (setting, value) pairs of the
    configuration used (see config_dump.config_rows).
    """
    orgnr = f", org. no. {company.orgnr}" if company.orgnr else ""
    wb = new_workbook(generated, page_header=f"{company.name}{orgnr}, period {data.period.label}")
    # Sheets appear in creation order; the summary is written last, once the
    # row counts its formulas refer to are known. It prints on one page.
    summary = Sheet(wb, "Summary", SUMMARY_COLUMNS, table=False, one_page=True)
    file_names = {d.payout_id: d.file_name for d in documents if d.file_name}
    vouchers = write_vouchers(wb, ledger, fortnox)
    write_trial_balance(wb, ledger, vouchers)
    receivable = invoice_payments(ledger, data)
    sheets = {s.title: s for s in (
        write_invoice_payments(wb, receivable, vouchers),
        vouchers,
        write_payouts(wb, data, file_names),
        write_specifications(wb, data),
        write_self_invoices(wb, data, ledger, documents),
        write_payments(wb, data.payments),
        write_mapping(wb, mapping_rows),
    )}
    write_summary(summary, ledger=ledger, data=data, company=company, creditor=creditor,
                  generated=generated, tool_version=tool_version, documents=documents,
                  checksums=checksums, sheets=sheets, registered=receivable)
    return save(wb, generated)
