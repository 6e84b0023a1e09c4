"""POST /creditor--payments with Amili's rules (creditor-payment.txt).

Validation is Eve's (Cerberus): required fields, ``currency`` "SEK" only,
``origin`` "creditor_system", read-only ``account``/``file_import_report``,
and exactly one of ``case`` or ``invoice_number`` (each requires itself and
excludes the other, the Cerberus idiom for exclusive-or). A stored payment
is then settled against the specifications' invoice data: found means
"completed", unknown invoice or case means "error" with a reason, still
stored, as Amili reports it.

A test can make every stored payment's answer unreadable (a 201 whose body
is not JSON, as a proxy or a failing gateway rewrites it):
``sandbox.app.config[UNREADABLE_ANSWERS] = True``. The payment is stored
all the same, which is the point: the client must not call it "not sent".
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from bson import ObjectId
from eve.io.mongo import Validator
import mongomock
from flask import Request, Response, current_app

from ledger_export.sandbox.data import now

# The sample creditor's account at Amili, as in samples/amili/creditor--payments.json.
SANDBOX_ACCOUNT = "674dbeaf08847b9501cc9132"
UNREADABLE_ANSWERS = "SANDBOX_PAYMENT_ANSWERS_UNREADABLE"
UNREADABLE_BODY = b"<html><body><h1>201 Created</h1></body></html>\n"
NOT_FOUND = {"case": "creditor_payment.status_reason.case_not_found",
             "invoice_number": "creditor_payment.status_reason.invoice_number_not_found"}


def schema() -> dict[str, Any]:
    read_only_text = {"type": "string", "readonly": True}
    return {
        "account": {"type": "objectid", "readonly": True},
        "file_import_report": {"type": "objectid", "readonly": True},
        "creditor": {"type": "objectid", "required": True},
        "case": {"type": "objectid", "required": True, "excludes": "invoice_number"},
        "invoice_number": {"type": "string", "required": True, "empty": False, "excludes": "case"},
        "currency": {"type": "string", "required": True, "allowed": ["SEK"]},
        "amount": {"type": "number", "required": True, "check_with": "positive_amount"},
        "bank_transaction_date": {"type": "datetime", "required": True},
        "client_registration_date": {"type": "datetime"},
        "creditor_payment_reference": {"type": "string"},
        "origin": {"type": "string", "required": True, "allowed": ["creditor_system"]},
        # Filled by the sandbox, as Amili's system does.
        "settled_amount": {"type": "number", "readonly": True},
        "status": read_only_text,
        "status_reason_locale": read_only_text,
        "case_invoice_number": read_only_text,
        "case_reference_number": read_only_text,
        "booking_date": {"type": "datetime", "readonly": True},
    }


class PaymentValidator(Validator):
    """Eve's validator plus the amount rule Cerberus has no word for."""

    def _check_with_positive_amount(self, field: str, value: float) -> None:
        if value <= 0:
            self._error(field, "must be a positive amount")
        elif round(value, 2) != value:
            self._error(field, "must have at most two decimals")


def _eve() -> Any:
    """The Eve app handling the request, for its data layer (Eve ships no types)."""
    return current_app


def _midnight(moment: datetime) -> datetime:
    return moment.replace(hour=0, minute=0, second=0, microsecond=0)


def settle(db: mongomock.Database[dict[str, Any]], payment: dict[str, Any]) -> None:
    """Fill what Amili's system adds to a registered payment (in place)."""
    lines = db["finance--payout-specifications"]
    if "case" in payment:
        key, line = "case", lines.find_one({"references.case": payment["case"], "creditor": payment["creditor"]})
    else:
        key, line = "invoice_number", lines.find_one(
            {"invoice_number": payment["invoice_number"], "creditor": payment["creditor"]})
    payment.setdefault("client_registration_date", now())
    payment["account"] = ObjectId(SANDBOX_ACCOUNT)
    if line is None:
        payment |= {"settled_amount": 0.0, "status": "error", "status_reason_locale": NOT_FOUND[key]}
        return
    # Settled on the day the money reached the bank, so a test's payment
    # lands in the month it names rather than on today's date.
    payment |= {"settled_amount": payment["amount"], "status": "completed",
                "booking_date": _midnight(payment["bank_transaction_date"]),
                "case_invoice_number": line.get("invoice_number"),
                "case_reference_number": line.get("reference_number")}


def on_insert(resource: str, items: list[dict[str, Any]]) -> None:
    if resource == "creditor--payments":
        db = _eve().data.pymongo(resource).db
        for item in items:
            settle(db, item)


def on_post_post(resource: str, request: Request, response: Response) -> None:
    """Add ``_payment_status`` to a 201 answer, as Amili's example response shows."""
    if resource != "creditor--payments" or response.status_code != 201:
        return
    body = json.loads(response.get_data())
    collection = _eve().data.pymongo(resource).db[resource]
    # Eve answers a list POST with {"_items": [...]}, a single one with the item itself.
    for item in body.get("_items", [body]):
        stored = collection.find_one({"_id": ObjectId(item["_id"])}) if "_id" in item else None
        if stored is not None:
            item["_payment_status"] = stored.get("status")
    if current_app.config.get(UNREADABLE_ANSWERS):
        response.set_data(UNREADABLE_BODY)
        response.mimetype = "text/html"
        return
    response.set_data(json.dumps(body))
