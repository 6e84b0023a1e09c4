"""Reading Amili's JSON strictly: every bad field names its record and field."""

from datetime import date, datetime, timezone
from decimal import Decimal

import pytest
import simplejson

from ledger_export.amili import timestamps
from ledger_export.amili.models import CreditorPayment, Payout, Specification
from ledger_export.core.errors import RecordError

PAYOUT = """{
  "_id": "507f1f77bcf86cd799439097", "_created": "Fri, 13 Jun 2025 08:00:00 GMT",
  "_etag": "c3d4", "creditor": "686e6ed854377058c2dd10bd", "currency": "SEK",
  "payout_reference": "123456", "payout_date": "Fri, 13 Jun 2025 00:00:00 GMT",
  "ledger_account": 1930, "amount": 240.0, "vat_amount": 60.0, "total_amount": 300.0,
  "summary": {"reminder": {"count": 4, "amount": 240.0, "vat_amount": 60.0, "total_amount": 300.0}},
  "finance_category": "creditor_commission", "finance_interval": "daily",
  "finance_period_start_date": "Thu, 12 Jun 2025 00:00:00 GMT",
  "document": {"file": "507f1f77bcf86cd799439103", "content_type": "application/pdf",
               "name": "self_invoice_2025_164.pdf", "length": 45678}
}"""

SPEC = """{
  "_id": "507f1f77bcf86cd799439011", "_created": "Wed, 11 Jun 2025 12:00:00 GMT", "_etag": "c1",
  "creditor": "686e6ed854377058c2dd10bd", "currency": "SEK", "amount": 2050.0, "vat_amount": 0.0,
  "total_amount": 2050.0, "article": "capital", "booking_date": "Wed, 11 Jun 2025 00:00:00 GMT",
  "finance_category": "capital", "invoice_number": "INV-2025-020", "reference_number": "25020",
  "references": {"case": "507f1f77bcf86cd799439050"}, "payout": "507f1f77bcf86cd799439099",
  "banking_transaction": {"_id": "507f1f77bcf86cd799439777"}
}"""


def load(text):
    return simplejson.loads(text, use_decimal=True)


def test_payout_reads_amili_fields():
    p = Payout.from_api(load(PAYOUT))
    assert p.payout_date == date(2025, 6, 13)
    assert p.created == datetime(2025, 6, 13, 8, tzinfo=timezone.utc)
    assert (p.amount, p.vat_amount, p.total_amount) == (Decimal("240.00"), Decimal("60.00"), Decimal("300.00"))
    assert p.summary["reminder"].count == 4
    assert p.document.name == "self_invoice_2025_164.pdf" and p.document.length == 45678
    assert p.ledger_account == 1930 and p.finance_period_start == date(2025, 6, 12)


def test_specification_reads_nested_references():
    s = Specification.from_api(load(SPEC))
    assert s.case == "507f1f77bcf86cd799439050"
    assert s.banking_transaction == "507f1f77bcf86cd799439777"
    assert s.payout == "507f1f77bcf86cd799439099"
    assert s.booking_date == date(2025, 6, 11)


@pytest.mark.parametrize("change, field, problem", [
    ({"amount": None}, "amount", "is missing"),
    ({"amount": "240.00"}, "amount", "must be a number"),
    ({"vat_amount": Decimal("60.001")}, "vat_amount", "more than two decimals"),
    ({"payout_date": "13/06/2025"}, "payout_date", "not an RFC 1123 date"),
    ({"ledger_account": 42}, "ledger_account", "bank account 1900-1999"),
    ({"ledger_account": 2611}, "ledger_account", "bank account 1900-1999"),
    ({"summary": {"reminder": {"count": 4, "amount": 1, "vat_amount": 0}}}, "summary.reminder.total_amount",
     "is missing"),
    ({"document": {"file": "x", "name": "a.pdf", "length": "big"}}, "document.length", "whole number"),
    ({"finance_category": None}, "finance_category", "is missing"),
])
def test_bad_payout_field_is_named_with_the_payout(change, field, problem):
    item = {**load(PAYOUT), **change}
    with pytest.raises(RecordError) as err:
        Payout.from_api(item)
    assert str(err.value).startswith("payout 507f1f77bcf86cd799439097: field '")
    assert err.value.field == field and problem in str(err.value)


def test_specification_without_id_is_named_by_invoice_number():
    item = load(SPEC)
    del item["_id"]
    with pytest.raises(RecordError, match=r"specification invoice INV-2025-020: field '_id' is missing"):
        Specification.from_api(item)


def test_non_object_item_is_refused():
    with pytest.raises(RecordError, match="not a JSON object"):
        CreditorPayment.from_api(["x"])


@pytest.mark.parametrize("text, expected", [
    ("Fri, 13 Jun 2025 00:00:00 GMT", datetime(2025, 6, 13, tzinfo=timezone.utc)),
    ("13 Jun 2025 02:00:00 +0200", datetime(2025, 6, 13, tzinfo=timezone.utc)),
    ("Fri, 13 Jun 2025 00:00:00 -0000", datetime(2025, 6, 13, tzinfo=timezone.utc)),
])
def test_timestamps_accept_valid_rfc1123_forms(text, expected):
    assert timestamps.parse(text) == expected


def test_timestamps_format_is_what_eve_expects():
    assert timestamps.format(date(2025, 6, 1)) == "Sun, 01 Jun 2025 00:00:00 GMT"


def test_data_texts_in_errors_cannot_break_the_line_or_reach_the_terminal():
    item = {**load(PAYOUT), "_id": "66500000\n0001\x1b[2J", "amount": None}
    with pytest.raises(RecordError) as err:
        Payout.from_api(item)
    text = str(err.value)
    assert text == "payout 66500000\\n0001\\x1b[2J: field 'amount' is missing"
    assert err.value.record_id == "66500000\n0001\x1b[2J"  # the record keeps its real id
