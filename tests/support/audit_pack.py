"""A small hand-made period and its ledger, for the workbook, document and manifest tests.

Built here rather than by the ledger code so these tests pin the writers
alone. Some texts look like formulas on purpose (=1+1, +46..., -5, @SUM,
a leading tab): they must come out of every writer as plain text.
"""

from __future__ import annotations

from datetime import datetime, timezone
from decimal import Decimal
from types import MappingProxyType

from ledger_export.amili import timestamps
from ledger_export.amili.models import CreditorPayment, Payout, PeriodData, Specification
from ledger_export.core.settings import Company
from ledger_export.ledger.model import OK, WARNING, Finding, Ledger, Line, Voucher
from ledger_export.core.period import month
from ledger_export.amili.documents import IN_PLACE, MISSING, DocumentRecord

CREDITOR = "686e6ed854377058c2dd10bd"
COMPANY = Company(name="Exempelbolaget AB", orgnr="556677-8899")
GENERATED = datetime(2025, 7, 1, 6, 30, 0)
D = Decimal


def rfc(day: int, hour: int = 0) -> str:
    return timestamps.format(datetime(2025, 6, day, hour, tzinfo=timezone.utc))


def _payout(n: int, category: str, amount: str, vat: str, reference: str, article: str, **extra) -> Payout:
    total = D(amount) + D(vat)
    item = {
        "_id": f"6650000000000000000000a{n}", "_etag": f"etag{n}",
        "_created": rfc(10 + n, 8), "creditor": CREDITOR, "currency": "SEK",
        "payout_reference": reference, "payout_date": rfc(10 + n),
        "ledger_account": 1930, "amount": D(amount), "vat_amount": D(vat), "total_amount": total,
        "summary": {article: {"count": 1, "amount": D(amount), "vat_amount": D(vat), "total_amount": total}},
        "finance_category": category, "finance_interval": "daily",
        "finance_period_start_date": rfc(9 + n), "finance_period_end_date": rfc(10 + n),
        **extra,
    }
    return Payout.from_api(item)


DOCUMENT = {"file": "6650000000000000000000f3", "content_type": "application/pdf",
            "name": "self_invoice_2025_164.pdf", "length": 1234}

PAYOUTS = (
    _payout(1, "capital", "12345.67", "0.00", "65432", "capital"),
    _payout(2, "interest", "3000.00", "0.00", "=1+1", "interest"),
    _payout(3, "creditor_commission", "240.00", "60.00", "123456", "reminder", document=DOCUMENT),
    _payout(4, "creditor_outlay", "160.00", "0.00", "+46701234567", "invoice_fee"),
    _payout(5, "capital", "-500.00", "0.00", "-5", "capital"),
    _payout(6, "creditor_commission", "80.00", "20.00", "123457", "debt_collection"),
)


def _spec(n: int, payout: Payout, article: str, amount: str, vat: str = "0.00", invoice: str | None = None,
          reference: str | None = None) -> Specification:
    return Specification.from_api({
        "_id": f"6650000000000000000000b{n}", "_etag": f"s{n}", "_created": rfc(10, n),
        "creditor": CREDITOR, "currency": "SEK", "payout": payout.id, "payout_reference": payout.payout_reference,
        "booking_date": rfc(10), "payout_date": timestamps.format(payout.payout_date),
        "invoice_number": invoice or f"INV-{n}", "reference_number": reference or f"2500{n}",
        "references": {"case": f"6650000000000000000000c{n}"}, "article": article,
        "finance_category": payout.finance_category, "amount": D(amount), "vat_amount": D(vat),
        "total_amount": D(amount) + D(vat), "banking_transaction": {"_id": f"6650000000000000000000e{n}"},
        "state": "paid",
    })


SPECIFICATIONS = (
    _spec(1, PAYOUTS[0], "capital", "12000.00", invoice="@SUM(A1)"),
    _spec(2, PAYOUTS[0], "capital", "345.67", reference="\t=cmd"),
    _spec(3, PAYOUTS[1], "interest", "3000.00"),
    _spec(4, PAYOUTS[2], "reminder", "240.00", "60.00"),
    _spec(5, PAYOUTS[3], "invoice_fee", "100.00"),
    _spec(6, PAYOUTS[3], "reminder", "60.00"),
    _spec(7, PAYOUTS[4], "capital", "-500.00"),
    _spec(8, PAYOUTS[5], "debt_collection", "80.00", "20.00"),
)

PAYMENTS = (
    CreditorPayment.from_api({
        "_id": "6650000000000000000000d1", "_etag": "d1", "_created": rfc(16, 9),
        "creditor": CREDITOR, "case": "6650000000000000000000c9", "invoice_number": '=HYPERLINK("x")',
        "currency": "SEK", "amount": D("1500.50"), "bank_transaction_date": rfc(16),
        "booking_date": rfc(16), "status": "approved",
    }),
)

DATA = PeriodData(creditor=CREDITOR, period=month("2025-06"), payouts=PAYOUTS,
                  specifications=SPECIFICATIONS, payments=PAYMENTS)

ACCOUNT_NAMES = MappingProxyType({
    1510: "Kundfordringar", 1930: "Företagskonto/checkkonto/affärskonto",
    2611: "Utgående moms på försäljning inom Sverige, 25 %", 3921: "Provisionsintäkter",
    3990: "Övriga ersättningar, bidrag och intäkter", 8313: "Ränteintäkter från kortfristiga fordringar",
})


def _voucher(payout: Payout, *lines: tuple[int, str, str], text: str | None = None,
             document: str | None = None) -> Voucher:
    return Voucher(
        date=payout.payout_date, text=text or f"Amili {payout.finance_category} ref {payout.payout_reference}",
        lines=tuple(Line(account, D(amount), line_text, category=payout.finance_category)
                    for account, amount, line_text in lines),
        payout_id=payout.id, payout_reference=payout.payout_reference, payout_etag=payout.etag,
        category=payout.finance_category, document_name=document)


VOUCHERS = (
    _voucher(PAYOUTS[0], (1930, "12345.67", ""), (1510, "-12345.67", "Kapital")),
    _voucher(PAYOUTS[1], (1930, "3000.00", ""), (8313, "-3000.00", "=1+1")),
    _voucher(PAYOUTS[2], (1930, "300.00", ""), (3921, "-240.00", "@SUM(A1)"), (2611, "-60.00", "Moms 25 %"),
             text="Amili provision self_invoice_2025_164.pdf ref 123456", document="self_invoice_2025_164.pdf"),
    _voucher(PAYOUTS[3], (1930, "160.00", ""), (1510, "-100.00", "+46701234567"), (3990, "-60.00", "-5")),
    _voucher(PAYOUTS[4], (1510, "500.00", "\t=cmd"), (1930, "-500.00", "")),
    _voucher(PAYOUTS[5], (1930, "100.00", ""), (3921, "-80.00", ""), (2611, "-20.00", "")),
)

FINDINGS = (
    Finding("totals", OK, "payout 6650000000000000000000a1: lines add up to the payout", PAYOUTS[0].id),
    Finding("vat", WARNING, "payout 6650000000000000000000a3: vat_amount 60.00 is 25 % of 240.00", PAYOUTS[2].id),
    Finding("self-invoice", WARNING, "payout 6650000000000000000000a6: self-invoice is missing", PAYOUTS[5].id),
    Finding("period", WARNING, "=run-level warning with a formula-looking text"),
)

LEDGER = Ledger(vouchers=VOUCHERS, account_names=ACCOUNT_NAMES, findings=FINDINGS)

PDF_SHA = "ab" * 32
DOCUMENTS = (
    DocumentRecord(PAYOUTS[2].id, "self_invoice_2025_164.pdf", 1234, PDF_SHA, IN_PLACE, fetched=True),
    DocumentRecord(PAYOUTS[5].id, None, None, None, MISSING,
                   "is missing: Amili gives no document for this commission payout"),
)

SIE_NAME = "ledger-2025-06.si"
SIE_SHA = "cd" * 32
MAPPING_ROWS = (("ledger.bank_account", "1930"), ("ledger.categories.capital.articles.capital.account", "1510"),
                ("ledger.voucher_text", "=formula-looking template"))


def render(**changes):
    from ledger_export.outputs.workbook import render_workbook

    kwargs = dict(ledger=LEDGER, data=DATA, company=COMPANY, creditor=CREDITOR, generated=GENERATED,
                  tool_version="0.1.0", documents=DOCUMENTS, checksums={SIE_NAME: SIE_SHA},
                  mapping_rows=MAPPING_ROWS)
    kwargs.update(changes)
    return render_workbook(**kwargs)

