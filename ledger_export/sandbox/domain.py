"""The Eve domain: Amili's three finance resources with their field types.

Types matter beyond documentation: Eve uses them to read ``where`` filters
(ids as ObjectIds, RFC 1123 strings as datetimes) and to validate POSTs.
Fields a seed folder holds beyond these (ones Amili adds later) join the
schema untyped, so they are served and projectable like the rest: Eve only
returns fields its schema names.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from ledger_export.sandbox import payments

ID = {"type": "objectid"}
DATE = {"type": "datetime", "nullable": True}
TEXT = {"type": "string", "nullable": True}
NUMBER = {"type": "number"}
INTEGER = {"type": "integer"}
AMOUNTS = {"amount": NUMBER, "vat_amount": NUMBER, "total_amount": NUMBER}


def _payouts() -> dict[str, Any]:
    return {
        "creditor": ID, "currency": TEXT, "payout_reference": TEXT, "ready_for_payout": {"type": "boolean"},
        "bank_payout_request": ID, "payout_date": DATE, "banking_account": ID, "ledger_account": INTEGER,
        **AMOUNTS,
        "summary": {"type": "dict"}, "creditor_payment_reference": TEXT,
        "finance_category": TEXT, "finance_interval": TEXT,
        "finance_period_start_date": DATE, "finance_period_end_date": DATE,
        **{f"finance_period_{p}": INTEGER for p in ("day", "week", "month", "quarter", "half_year", "year")},
        "document": {"type": "dict", "schema": {
            "file": ID, "content_type": TEXT, "name": TEXT, "length": INTEGER}},
    }


def _specifications() -> dict[str, Any]:
    return {
        "creditor": ID, "currency": TEXT, "payout": ID, "payout_reference": TEXT, "payout_interval": TEXT,
        "payout_date": DATE, "booking_date": DATE, "invoice_number": TEXT, "reference_number": TEXT,
        "references": {"type": "dict", "schema": {"case": ID}},
        "article": TEXT, "finance_category": TEXT, "state": TEXT, **AMOUNTS,
        "banking_transaction": {"type": "dict", "schema": {"_id": ID}},
    }


def _read_only(schema: dict[str, Any], extra_fields: Iterable[str]) -> dict[str, Any]:
    schema |= {name: {} for name in sorted(extra_fields) if name not in schema and not name.startswith("_")}
    return {"schema": schema, "resource_methods": ["GET"], "item_methods": ["GET"]}


def domain(extra_fields: Mapping[str, Iterable[str]] | None = None) -> dict[str, Any]:
    """A fresh domain each call (Eve fills in defaults in place)."""
    extra = extra_fields or {}
    return {
        "finance--payouts": _read_only(_payouts(), extra.get("finance--payouts", ())),
        "finance--payout-specifications": _read_only(
            _specifications(), extra.get("finance--payout-specifications", ())),
        "creditor--payments": {
            "schema": payments.schema(),
            "resource_methods": ["GET", "POST"],
            "item_methods": ["GET"],
        },
    }
