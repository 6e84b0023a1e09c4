"""The sample company in Fortnox, fitting the bundled sample month (June 2025).

Exempelbolaget AB with the organisation number of samples/ledger-export.toml;
financial years 2024 (Id 1) and 2025 (Id 2); the BAS accounts the sample's
vouchers use and a few more (one inactive); Fortnox's standard voucher
series (A takes manual vouchers, B-E are the invoicing and payment series
and do not), with three vouchers already in June 2025 in series A; the
modes of payment, AMILI among them on the clearing account 1589.

Customer invoices for the capital lines Amili paid out on 4 June 2025
(payout reference 65404) and for INV-2025-0009 (capital and an invoice fee):
DocumentNumber is the line's ``reference_number`` (Fortnox numbers invoices
with digits), ExternalInvoiceReference1 its ``invoice_number``, and the
OCR Fortnox's own. So ``invoice_match = {amili = "reference_number",
fortnox = "DocumentNumber"}`` and ``{amili = "invoice_number", fortnox =
"ExternalInvoiceReference1"}`` both find them. Each invoice's Balance is
what June's capital and invoice-fee lines pay on it, except:

- INV-2025-0004 is not in Fortnox (missing);
- INV-2025-0021 is already paid (Balance 0);
- INV-2025-0044 is cancelled;
- INV-2025-0059 has 3000.00 left, less than the 3219.95 paid (would overpay);
- INV-2025-0017 is paid in two payouts (4 and 12 June) and settles exactly.
"""

from __future__ import annotations

import tomllib
from collections import defaultdict
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import simplejson

from ledger_export.core.resources import SAMPLES
from ledger_export.sandbox.fortnox.books import Account, Books, FinancialYear, VoucherSeries
from ledger_export.sandbox.fortnox.company import Company, CompanyInformation
from ledger_export.sandbox.fortnox.documents import Documents
from ledger_export.sandbox.fortnox.sales import Invoice, ModeOfPayment, Sales

TENANT_ID = 1234567
CLEARING_ACCOUNT = 1589
ACCOUNTS = {
    1510: "Kundfordringar", 1580: "Fordringar för kontokort och kuponger", 1589: "Avräkning Amili",
    1910: "Kassa", 1920: "PlusGiro", 1930: "Företagskonto/checkkonto/affärskonto",
    2440: "Leverantörsskulder", 2611: "Utgående moms på försäljning inom Sverige, 25 %",
    2641: "Debiterad ingående moms", 2999: "OBS-konto", 3001: "Försäljning inom Sverige, 25 % moms",
    3740: "Öres- och kronutjämning", 3921: "Provisionsintäkter",
    3990: "Övriga ersättningar, bidrag och intäkter", 5010: "Lokalhyra", 6062: "Inkasso och KFM-avgifter",
    6570: "Bankkostnader", 8313: "Ränteintäkter från kortfristiga fordringar",
    8314: "Skattefria ränteintäkter",
}
INACTIVE = {8314}
SERIES = [("A", "Redovisning", True), ("B", "Kundfakturor", False), ("C", "Inbetalningar från kunder", False),
          ("D", "Leverantörsfakturor", False), ("E", "Utbetalningar till leverantörer", False)]
MODES = [("BG", "Bankgiro", 1930), ("PG", "PlusGiro", 1920), ("KONT", "Kontant", 1910),
         ("AMILI", "Amili inkasso", CLEARING_ACCOUNT)]
SETTLED_PAYOUT = "65404"
ALSO_INVOICED = {"INV-2025-0009"}
MISSING = {"INV-2025-0004"}
PAID = {"INV-2025-0021"}
CANCELLED = {"INV-2025-0044"}
SHORT = {"INV-2025-0059": Decimal("3000.00")}
# Lines that book on the receivable and so pay an invoice: capital, and the invoice fee.
RECEIVABLE_ARTICLES = {"capital", "invoice_fee"}


def _books() -> Books:
    years = [FinancialYear(1, date(2024, 1, 1), date(2024, 12, 31)),
             FinancialYear(2, date(2025, 1, 1), date(2025, 12, 31))]
    accounts = {y.id: {n: Account(n, name, active=n not in INACTIVE) for n, name in ACCOUNTS.items()}
                for y in years}
    series = {y.id: {c: VoucherSeries(c, d, m) for c, d, m in SERIES} for y in years}
    series[2]["A"].next_number = 39
    series[2]["C"].next_number = 18
    books = Books(years, accounts, series)
    # Vouchers someone else booked in June: a client must not take them for its own.
    books.add_voucher(series="A", day=date(2025, 6, 2), description="Hyra juni", comments="",
                      rows=[(5010, Decimal("12500.00"), Decimal("0"), ""), (1930, Decimal("0"), Decimal("12500.00"), "")])
    books.add_voucher(series="A", day=date(2025, 6, 10), description="Bankavgifter maj", comments="",
                      rows=[(6570, Decimal("185.00"), Decimal("0"), ""), (1930, Decimal("0"), Decimal("185.00"), "")])
    books.add_voucher(series="A", day=date(2025, 6, 27), description="Amili utbetalning ref 65403 (manuell)",
                      comments="Bokförd för hand", rows=[(1930, Decimal("45.00"), Decimal("0"), ""),
                                                         (3990, Decimal("0"), Decimal("45.00"), "")])
    return books


def _lines(folder: Path) -> list[dict[str, Any]]:
    def read(name: str) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = simplejson.loads((folder / name).read_text(encoding="utf-8"),
                                                        use_decimal=True)
        return items

    june = {p["_id"] for p in read("finance--payouts.json") if " Jun 2025 " in p.get("payout_date", "")}
    return [line for line in read("finance--payout-specifications.json") if line.get("payout") in june]


def _invoices(folder: Path) -> dict[str, Invoice]:
    lines = _lines(folder)
    chosen = {line["invoice_number"] for line in lines
              if line["payout_reference"] == SETTLED_PAYOUT and line["article"] == "capital"}
    chosen = (chosen | ALSO_INVOICED) - MISSING
    paid: dict[str, Decimal] = defaultdict(Decimal)
    references: dict[str, str] = {}
    for line in lines:
        if line["invoice_number"] in chosen and line["article"] in RECEIVABLE_ARTICLES:
            paid[line["invoice_number"]] += Decimal(line["amount"])
            references[line["invoice_number"]] = line["reference_number"]
    invoices = {}
    for i, number in enumerate(sorted(chosen)):
        owed = paid[number].quantize(Decimal("0.01"))
        invoice = Invoice(references[number], str(1000 + i), f"Kund {1000 + i}", date(2025, 3, 14),
                          date(2025, 4, 13), owed, owed, external_invoice_reference1=number,
                          your_order_number=f"PO-{references[number][-4:]}")
        if number in PAID:
            invoice.balance, invoice.final_pay_date = Decimal("0.00"), date(2025, 5, 20)
        if number in CANCELLED:
            invoice.cancelled = True
        invoice.balance = SHORT.get(number, invoice.balance)
        invoices[invoice.document_number] = invoice
    for n in range(3):  # invoices Amili has nothing to do with
        number = str(250500 + n)
        invoices[number] = Invoice(number, "2000", "Kund 2000", date(2025, 6, 1), date(2025, 7, 1),
                                   Decimal("1250.00"), Decimal("1250.00"))
    return invoices


def sample_company(samples: Path = SAMPLES) -> Company:
    config = tomllib.loads((samples / "ledger-export.toml").read_text(encoding="utf-8"))
    info = CompanyInformation(config["company"]["name"], config["company"]["orgnr"], TENANT_ID,
                              "Exempelgatan 1", "111 22", "Stockholm")
    sales = Sales(_invoices(samples / "amili"), {c: ModeOfPayment(c, d, a) for c, d, a in MODES})
    return Company(info, _books(), sales, Documents())
