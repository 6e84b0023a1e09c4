"""The posting keys of ``[fortnox]``: which series, and whether and how customer invoices are settled.

The connection keys (base_url, auth_url, token_file, tenant_id) are the
HTTP client's; jobs/config.py reads both from the one table, then refuses
any key neither knows.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import get_args

from ledger_export.core.errors import ConfigError
from ledger_export.core.settings import Table
from ledger_export.jobs.fortnox_books import AmiliInvoiceField, InvoiceField
from ledger_export.ledger.accounts import is_account

AMILI_FIELDS: tuple[AmiliInvoiceField, ...] = get_args(AmiliInvoiceField)
FORTNOX_FIELDS: tuple[InvoiceField, ...] = get_args(InvoiceField)


@dataclass(frozen=True)
class FortnoxPosting:
    # The voucher series in Fortnox; empty: [ledger] series.
    series: str = ""
    settle_invoices: bool = False
    match_amili: AmiliInvoiceField = "invoice_number"
    match_fortnox: InvoiceField = "DocumentNumber"
    mode_of_payment: str = ""
    # The mode of payment's account; None: whatever Fortnox says it is.
    clearing_account: int | None = None

    def series_for(self, ledger_series: str) -> str:
        series = self.series or ledger_series
        if not series:
            raise ConfigError("must name the Fortnox voucher series the payouts are posted into (e.g. \"A\")",
                              key="fortnox.series")
        return series


def read_posting(t: Table) -> FortnoxPosting:
    """The posting keys of ``t`` (the [fortnox] table); the caller finishes the table."""
    d = FortnoxPosting()
    series = t.get("series", d.series, str)
    if series and not series.isalnum():
        raise t.error("series", f"must be a Fortnox voucher series code (letters or digits), got {series!r}")
    match = t.table("invoice_match")
    amili = match.get("amili", d.match_amili, str)
    fortnox = match.get("fortnox", d.match_fortnox, str)
    match.finish()
    found_amili = next((f for f in AMILI_FIELDS if f == amili), None)
    if found_amili is None:
        raise match.error("amili", f"must be one of {', '.join(AMILI_FIELDS)}, got {amili!r}")
    found_fortnox = next((f for f in FORTNOX_FIELDS if f == fortnox), None)
    if found_fortnox is None:
        raise match.error("fortnox", f"must be one of {', '.join(FORTNOX_FIELDS)}, got {fortnox!r}")
    clearing = t.get("clearing_account", None, int)
    if clearing is not None and not is_account(clearing):
        raise t.error("clearing_account", f"must be a four-digit account (1000-9999), got {clearing}")
    settle = t.get("settle_invoices", d.settle_invoices, bool)
    mode = t.get("mode_of_payment", d.mode_of_payment, str)
    if settle and not mode:
        raise t.error("mode_of_payment", "must name the Fortnox mode of payment (its code) that settles "
                                         "invoices, since settle_invoices is true")
    return FortnoxPosting(series=series, settle_invoices=settle, match_amili=found_amili,
                          match_fortnox=found_fortnox, mode_of_payment=mode, clearing_account=clearing)
