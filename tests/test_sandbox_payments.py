"""POST /creditor--payments: Amili's validation rules and how a payment is settled."""

from __future__ import annotations

import pytest
import requests
import simplejson

from ledger_export.core.resources import SAMPLES
from ledger_export.sandbox.payments import UNREADABLE_ANSWERS, UNREADABLE_BODY

CREDITOR = "686e6ed854377058c2dd10bd"
INSERTION_FAILURE = {"code": 422, "message": "Insertion failure: 1 document(s) contain(s) error(s)"}


@pytest.fixture(scope="module")
def known_line() -> dict:
    """A specification line of the sample, whose invoice and case Amili knows."""
    lines = simplejson.loads((SAMPLES / "amili" / "finance--payout-specifications.json").read_text("utf-8"))
    return lines[0]


def payment(known_line: dict, **changes) -> dict:
    body = {"creditor": CREDITOR, "invoice_number": known_line["invoice_number"], "currency": "SEK",
            "amount": 100.0, "bank_transaction_date": "Mon, 16 Jun 2025 16:20:41 GMT",
            "creditor_payment_reference": "PAY-REF-001", "origin": "creditor_system"}
    body.update(changes)
    return {k: v for k, v in body.items() if v is not None}


def post(sandbox, body: dict | list) -> requests.Response:
    return requests.post(f"{sandbox.base_url}/creditor--payments", json=body,
                         headers={"X-API-Key": sandbox.api_key}, timeout=5)


def stored(sandbox, payment_id: str) -> dict:
    response = requests.get(f"{sandbox.base_url}/creditor--payments/{payment_id}",
                            headers={"X-API-Key": sandbox.api_key}, timeout=5)
    assert response.status_code == 200
    return response.json()


def test_payment_by_invoice_number_is_stored_and_settled(sandbox, known_line):
    response = post(sandbox, payment(known_line))
    assert response.status_code == 201
    body = response.json()
    assert body["_status"] == "OK" and body["_payment_status"] == "completed"
    assert {"_id", "_etag", "_created", "_updated"} <= set(body)
    item = stored(sandbox, body["_id"])
    assert item["status"] == "completed" and item["settled_amount"] == 100.0
    assert item["booking_date"] == "Mon, 16 Jun 2025 00:00:00 GMT"
    assert item["case_invoice_number"] == known_line["invoice_number"]
    assert item["case_reference_number"] == known_line["reference_number"]
    assert item["origin"] == "creditor_system" and item["account"]


def test_payment_by_case_resolves_the_invoice(sandbox, known_line):
    body = payment(known_line, invoice_number=None, case=known_line["references"]["case"])
    response = post(sandbox, body)
    assert response.status_code == 201
    item = stored(sandbox, response.json()["_id"])
    assert item["case"] == known_line["references"]["case"]
    assert item["case_invoice_number"] == known_line["invoice_number"]


@pytest.mark.parametrize("field,value,locale", [
    ("invoice_number", "INV-1999-9999", "creditor_payment.status_reason.invoice_number_not_found"),
    ("case", "0123456789abcdef01234567", "creditor_payment.status_reason.case_not_found"),
])
def test_unknown_invoice_or_case_is_stored_with_status_error(sandbox, known_line, field, value, locale):
    body = payment(known_line, **{"invoice_number": None, field: value})
    response = post(sandbox, body)
    assert response.status_code == 201 and response.json()["_payment_status"] == "error"
    item = stored(sandbox, response.json()["_id"])
    assert item["status"] == "error" and item["status_reason_locale"] == locale
    assert item["settled_amount"] == 0.0 and "case_invoice_number" not in item


@pytest.mark.parametrize("changes,issues", [
    ({"invoice_number": None}, {"case": "required field", "invoice_number": "required field"}),
    ({"case": "0123456789abcdef01234567"}, {
        "case": "'invoice_number' must not be present with 'case'",
        "invoice_number": "'case' must not be present with 'invoice_number'"}),
    ({"creditor": None}, {"creditor": "required field"}),
    ({"currency": "EUR"}, {"currency": "unallowed value EUR"}),
    ({"amount": 0}, {"amount": "must be a positive amount"}),
    ({"amount": -10.5}, {"amount": "must be a positive amount"}),
    ({"amount": 10.005}, {"amount": "must have at most two decimals"}),
    ({"amount": None}, {"amount": "required field"}),
    ({"amount": "a lot"}, {"amount": "must be of number type"}),
    ({"bank_transaction_date": "2025-06-16"}, {"bank_transaction_date": "must be of datetime type"}),
    ({"bank_transaction_date": None}, {"bank_transaction_date": "required field"}),
    ({"origin": "web"}, {"origin": "unallowed value web"}),
    ({"origin": None}, {"origin": "required field"}),
    ({"account": "674dbeaf08847b9501cc9132"}, {"account": "field is read-only"}),
    ({"file_import_report": "674dbeaf08847b9501cc9132"}, {"file_import_report": "field is read-only"}),
    ({"status": "completed"}, {"status": "field is read-only"}),
    ({"surprise": 1}, {"surprise": "unknown field"}),
])
def test_rule_breaking_payment_is_422_with_issues(sandbox, known_line, changes, issues):
    response = post(sandbox, payment(known_line, **changes))
    assert response.status_code == 422
    assert response.json() == {"_status": "ERR", "_issues": issues, "_error": INSERTION_FAILURE}
    assert sandbox.db["creditor--payments"].count_documents({}) == 7


def test_a_list_post_answers_each_payment_status(sandbox, known_line):
    response = post(sandbox, [payment(known_line), payment(known_line, invoice_number="INV-1999-9999")])
    assert response.status_code == 201
    assert [item["_payment_status"] for item in response.json()["_items"]] == ["completed", "error"]
    assert sandbox.db["creditor--payments"].count_documents({}) == 9


def test_post_needs_a_key(sandbox, known_line):
    response = requests.post(f"{sandbox.base_url}/creditor--payments", json=payment(known_line), timeout=5)
    assert response.status_code == 401
    assert sandbox.db["creditor--payments"].count_documents({}) == 7


def test_an_unreadable_answer_is_a_201_that_is_not_json_and_the_payment_is_stored(sandbox, known_line):
    sandbox.app.config[UNREADABLE_ANSWERS] = True
    response = post(sandbox, payment(known_line, creditor_payment_reference="UNREADABLE-1"))
    assert response.status_code == 201 and response.content == UNREADABLE_BODY
    assert response.headers["Content-Type"].startswith("text/html")
    with pytest.raises(ValueError):
        response.json()
    item = sandbox.db["creditor--payments"].find_one({"creditor_payment_reference": "UNREADABLE-1"})
    assert item["status"] == "completed" and item["settled_amount"] == 100.0
    # A refused payment keeps Eve's readable 422: only stored payments lose their answer.
    assert post(sandbox, payment(known_line, currency="EUR")).status_code == 422
