"""Export --to fortnox of the demo's June from its raw snapshot (offline), into a FakeFortnox."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal
from pathlib import Path

from ledger_export.jobs.export import ExportOptions, export
from ledger_export.jobs.fortnox_books import Invoice
from ledger_export.fortnox.settings import FortnoxSettings
from support.export_run import sample_config

MODE = "AMILI"
CLEARING = 1580


def fortnox_config(out: Path, *, settle: bool = False, series: str = "A"):
    config = sample_config("http://127.0.0.1:9", out)  # nothing listens there: offline
    return replace(config, fortnox=FortnoxSettings(series=series, settle_invoices=settle,
                                                   mode_of_payment=MODE if settle else ""))


def post_month(raw: Path, out: Path, books, *, settle: bool = False, **options):
    options = {"generated": date(2025, 7, 1), "from_raw": raw, "to": "fortnox", **options}
    return export(fortnox_config(out, settle=settle), None, ExportOptions(**options), books=books)


def invoice(number: str, balance: str, *, total: str | None = None, cancelled: bool = False,
            booked: bool = True) -> Invoice:
    return Invoice(number, Decimal(total or balance), Decimal(balance), cancelled, booked)


# Invoices of the demo's June in Fortnox, one of each case (the rest are not in Fortnox at all).
SETTLED = {"INV-2025-0021": Decimal("917.76"), "INV-2025-0017": Decimal("1450.00"),
           "INV-2025-0009": Decimal("45.00")}


def june_invoices() -> dict[str, Invoice]:
    found = [
        invoice("INV-2025-0021", "917.76"),                 # capital, paid in full
        invoice("INV-2025-0017", "2000.00"),                # capital, part of what is left
        invoice("INV-2025-0009", "45.00", total="1045.00"),  # an invoice fee (booked on 1510 too)
        invoice("INV-2025-0044", "1551.07", cancelled=True),
        invoice("INV-2025-0059", "0.00", total="3219.95"),   # already paid
        invoice("INV-2025-0191", "100.00", total="3735.94"),  # would be overpaid
        invoice("INV-2025-0098", "3323.25", booked=False),
    ]
    return {i.number: i for i in found}
