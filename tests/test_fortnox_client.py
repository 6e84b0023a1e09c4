"""The Fortnox client's manners: pacing, 429, retries, no blind POSTs, ErrorInformation, bounds, no token shown."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal

import pytest
import requests

from ledger_export.core.errors import (FortnoxAuthError, FortnoxNotFoundError, FortnoxOutcomeUnknownError,
                                       FortnoxRejectedError, FortnoxUnavailableError)
from ledger_export.fortnox import api
from ledger_export.fortnox.models import VoucherKey, VoucherRow
from support.fortnox_fakes import FakeAccess, FakeClock, error_information, fortnox_client
from support.http_fakes import query, sequence

OK = (200, {"CompanyInformation": {"CompanyName": "Exempelbolaget AB", "OrganizationNumber": "556677-8899",
                                   "DatabaseNumber": "123456"}})


# -- pacing -------------------------------------------------------------------------------

def test_the_26th_request_within_five_seconds_waits_for_the_window():
    sent: list[float] = []
    clock = FakeClock()

    def handler(request):
        sent.append(clock())
        return OK

    client, adapter, _ = fortnox_client(handler, clock=clock)
    for _ in range(26):
        client.get("companyinformation")
    assert len(adapter.requests) == 26
    assert sent[:25] == [sent[0]] * 25  # the first 25 go at once
    assert sent[25] - sent[0] == pytest.approx(5.0)  # the 26th waits for the first to leave the window
    assert clock.sleeps == [pytest.approx(5.0)]


def test_no_five_second_window_ever_holds_more_than_25_requests_seen_by_fortnox():
    # Each request takes 0.13 s; Fortnox counts it somewhere between sending and answering.
    arrived: list[float] = []
    clock = FakeClock()

    def handler(request):
        clock.advance(0.1)
        arrived.append(clock())
        clock.advance(0.03)
        return OK

    client, _, _ = fortnox_client(handler, clock=clock)
    for _ in range(120):
        client.get("companyinformation")
    for i, start in enumerate(arrived):
        assert sum(1 for t in arrived[i:] if t < start + 5.0) <= 25
    # ... and it is not needlessly slow: 120 requests in well under 120/25*5 + 5 s.
    assert arrived[-1] - arrived[0] < 120 / 25 * 5 + 5


def test_a_slower_configured_rate_is_kept():
    client, adapter, clock = fortnox_client(sequence(OK), rate_limit=2, rate_window=1.0)
    for _ in range(5):  # two at t=0, two at t=1, the fifth at t=2
        client.get("companyinformation")
    assert clock.sleeps == [pytest.approx(1.0), pytest.approx(1.0)]


# -- 429 and retries ------------------------------------------------------------------------

def test_429_retry_after_is_honoured_and_the_request_sent_again():
    client, adapter, clock = fortnox_client(sequence((429, {}, {"Retry-After": "7"}), OK))
    assert api.company_information(client).organisation_number == "556677-8899"
    assert len(adapter.requests) == 2
    assert 7.0 in clock.sleeps


def test_429_without_retry_after_waits_one_window():
    client, adapter, clock = fortnox_client(sequence((429, {}), OK))
    client.get("companyinformation")
    assert clock.sleeps == [5.0]


def test_a_post_refused_with_429_was_not_made_so_it_is_sent_again():
    answer = (201, {"Voucher": {"VoucherSeries": "A", "VoucherNumber": 7, "Year": 3, "TransactionDate": "2025-06-30",
                                "Description": "x"}})
    client, adapter, clock = fortnox_client(sequence((429, {}, {"Retry-After": "2"}), answer))
    voucher = api.create_voucher(client, series="A", transaction_date=date(2025, 6, 30), description="x",
                                 rows=[VoucherRow(1930, debit=Decimal("1.00")), VoucherRow(1510, credit=Decimal("1.00"))])
    assert voucher.key == VoucherKey("A", 7, 3)
    assert [r.method for r in adapter.requests] == ["POST", "POST"]


@pytest.mark.parametrize("failure", [(503, {}), (500, {}), (502, {}), requests.ConnectionError("reset"),
                                     requests.exceptions.ChunkedEncodingError("cut short"),
                                     requests.ReadTimeout("read timed out")])
def test_a_get_is_retried_on_5xx_and_dropped_connections(failure):
    client, adapter, clock = fortnox_client(sequence(failure, failure, OK))
    assert client.get("companyinformation") == OK[1]
    assert len(adapter.requests) == 3
    assert len(clock.sleeps) == 2


def test_a_get_gives_up_after_its_retries():
    client, adapter, _ = fortnox_client(sequence((503, {})), max_retries=2)
    with pytest.raises(FortnoxUnavailableError, match="after 3 attempt"):
        client.get("companyinformation")
    assert len(adapter.requests) == 3


@pytest.mark.parametrize("failure", [requests.ConnectionError("reset"), requests.ReadTimeout("timed out"),
                                     (503, {}), (500, error_information(1000003, "System exception"))])
@pytest.mark.parametrize("method", ["POST", "PUT"])
def test_a_post_or_put_whose_answer_is_lost_is_never_sent_again(failure, method):
    client, adapter, clock = fortnox_client(sequence(failure, OK))
    call = client.post if method == "POST" else client.put
    with pytest.raises(FortnoxOutcomeUnknownError, match="may or may not have") as lost:
        call("vouchers", {"Voucher": {}})
    assert len(adapter.requests) == 1
    assert "look in Fortnox before sending it again" in str(lost.value)
    assert "\n" not in str(lost.value)


# -- errors ---------------------------------------------------------------------------------------

def test_error_information_code_and_message_are_in_the_error():
    client, _, _ = fortnox_client(sequence((400, error_information(2000423, "Kan inte hitta kontot."))))
    with pytest.raises(FortnoxRejectedError) as refused:
        client.post("vouchers", {})
    assert refused.value.code == 2000423
    assert "Fortnox error 2000423: Kan inte hitta kontot." in str(refused.value)
    assert "POST https://fortnox.test/3/vouchers" in str(refused.value)


def test_capitalised_error_information_is_read_too():
    body = {"ErrorInformation": {"Error": 1, "Message": "Felaktigt fältnamn", "Code": "2001399"}}
    client, _, _ = fortnox_client(sequence((400, body)))
    with pytest.raises(FortnoxRejectedError, match="2001399: Felaktigt fältnamn") as refused:
        client.get("accounts")
    assert refused.value.code == 2001399


def test_404_is_not_found_and_403_names_scopes():
    client, _, _ = fortnox_client(sequence((404, error_information(2000429, "Kan inte hitta fakturan")),
                                           (403, error_information(2000663, "Har inte behörighet för scope"))))
    with pytest.raises(FortnoxNotFoundError):
        client.get("invoices/9")
    with pytest.raises(FortnoxAuthError, match="scope"):
        client.get("invoices/9")


def test_a_401_renews_the_token_once_and_sends_again():
    tokens = FakeAccess()
    seen: list[str] = []

    def handler(request):
        seen.append(request.headers["Authorization"])
        return (401, {}) if len(seen) == 1 else OK

    client, adapter, _ = fortnox_client(handler, tokens=tokens)
    client.get("companyinformation")
    assert seen == ["Bearer tok-1", "Bearer tok-2"]
    assert tokens.refreshes == 1


def test_a_second_401_is_an_auth_error_without_a_loop():
    tokens = FakeAccess()
    client, adapter, _ = fortnox_client(sequence((401, {})), tokens=tokens)
    with pytest.raises(FortnoxAuthError, match="fortnox login"):
        client.get("companyinformation")
    assert tokens.refreshes == 1 and len(adapter.requests) == 2


def test_the_token_is_never_in_an_error_or_the_client_repr():
    echo = error_information(2000310, "Ogiltig inloggning: token tok-1 okänd")
    client, _, _ = fortnox_client(sequence((400, echo), (503, {"message": "bad tok-1"})), max_retries=0)
    for call in (lambda: client.get("companyinformation"), lambda: client.post("vouchers", {})):
        with pytest.raises(Exception) as failed:
            call()
        assert "tok-1" not in str(failed.value)
    assert "tok-" not in repr(client)


def test_run_deadline_and_body_cap_name_the_fortnox_settings():
    clock = FakeClock()
    client, _, _ = fortnox_client(sequence((200, {"x": "y" * 2000})), clock=clock, max_response_mb=0.001)
    with pytest.raises(FortnoxUnavailableError, match=r"\[fortnox\] max_response_mb"):
        client.get("companyinformation")
    clock.advance(4000)
    with pytest.raises(FortnoxUnavailableError, match=r"\[fortnox\] run_deadline"):
        client.get("companyinformation")


def test_a_redirect_is_not_followed():
    client, adapter, _ = fortnox_client(sequence((302, {}, {"Location": "https://elsewhere.test/"})))
    with pytest.raises(Exception, match="redirected"):
        client.get("companyinformation")
    assert len(adapter.requests) == 1


# -- the typed calls --------------------------------------------------------------------------------

def test_create_voucher_sends_decimal_rows_series_date_and_the_payout_reference():
    bodies: list[dict] = []

    def handler(request):
        bodies.append(json.loads(request.body))
        v = bodies[-1]["Voucher"]
        return 201, {"Voucher": {**v, "VoucherNumber": 12, "Year": 4}}

    client, adapter, _ = fortnox_client(handler)
    rows = [VoucherRow(1930, debit=Decimal("1250.00"), description="Utbetalning"),
            VoucherRow(1510, credit=Decimal("1000.00")), VoucherRow(3590, credit=Decimal("250.00"))]
    voucher = api.create_voucher(client, series="A", transaction_date=date(2025, 6, 13), description="Amili utbetalning",
                                 rows=rows, comments="amili-payout:665f00000000000000000001")
    sent = adapter.requests[0]
    assert b'"Debit": 1250.00' in sent.body  # a JSON number in öre, never a float
    assert bodies[0]["Voucher"]["TransactionDate"] == "2025-06-13"
    assert bodies[0]["Voucher"]["VoucherSeries"] == "A"
    assert voucher.key == VoucherKey("A", 12, 4)
    assert voucher.comments == "amili-payout:665f00000000000000000001"
    assert voucher.rows[0].debit == Decimal("1250.00") and isinstance(voucher.rows[0].debit, Decimal)


def test_an_unbalanced_voucher_is_never_sent():
    client, adapter, _ = fortnox_client(sequence(OK))
    with pytest.raises(ValueError, match="does not balance"):
        api.create_voucher(client, series="A", transaction_date=date(2025, 6, 13), description="x",
                           rows=[VoucherRow(1930, debit=Decimal("1.00")), VoucherRow(1510, credit=Decimal("0.99"))])
    assert adapter.requests == []


def test_list_vouchers_reads_every_page_of_the_series_and_date_range():
    def voucher(n):
        return {"VoucherSeries": "A", "VoucherNumber": n, "Year": 4, "TransactionDate": "2025-06-13",
                "Description": f"v{n}", "Comments": f"amili-payout:{n}"}

    def handler(request):
        q = query(request)
        page = int(q["page"])
        return 200, {"MetaInformation": {"@CurrentPage": page, "@TotalPages": 2, "@TotalResources": 3},
                     "Vouchers": [voucher(1), voucher(2)] if page == 1 else [voucher(3)]}

    client, adapter, _ = fortnox_client(handler)
    found = api.list_vouchers(client, "A", date(2025, 6, 1), date(2025, 6, 30))
    assert [v.key.number for v in found] == [1, 2, 3]
    assert [v.comments for v in found][-1] == "amili-payout:3"
    first = adapter.requests[0]
    assert first.path_url.startswith("/3/vouchers/sublist/A?")
    assert query(first)["fromdate"] == "2025-06-01" and query(first)["todate"] == "2025-06-30"
    assert query(first)["financialyeardate"] == "2025-06-01"


def test_upload_to_inbox_sends_the_bytes_and_returns_the_file_id():
    pdf = b"%PDF-1.4\n" + bytes(range(256)) + b"\n%%EOF\n"

    def handler(request):
        assert pdf in request.body
        assert b'filename="self-invoice 1.pdf"' in request.body
        assert query(request)["folderid"] == "inbox_v"
        return 201, {"File": {"Id": "9b1c-file", "Name": "self-invoice 1.pdf", "Size": len(pdf)}}

    client, adapter, _ = fortnox_client(handler)
    uploaded = api.upload_to_inbox(client, "self-invoice 1.pdf", pdf)
    assert uploaded.id == "9b1c-file" and uploaded.size == len(pdf)
    assert adapter.requests[0].headers["Content-Type"].startswith("multipart/form-data")


def test_connect_file_names_the_voucher_and_its_year():
    def handler(request):
        body = json.loads(request.body)["VoucherFileConnection"]
        assert body == {"FileId": "f1", "VoucherNumber": 12, "VoucherSeries": "A"}
        assert query(request)["financialyear"] == "4"
        return 201, {"VoucherFileConnection": {**body, "VoucherYear": 4, "Name": "x.pdf"}}

    client, _, _ = fortnox_client(handler)
    connection = api.connect_file(client, "f1", VoucherKey("A", 12, 4))
    assert connection.voucher == VoucherKey("A", 12, 4) and connection.name == "x.pdf"


def test_find_invoices_keeps_exact_matches_only():
    full = {
        1: {"DocumentNumber": 1, "OCR": "1234", "Total": 100, "Balance": Decimal("50.50"), "Cancelled": False,
            "Booked": True, "YourOrderNumber": "PO-1"},
        2: {"DocumentNumber": "2", "OCR": "12345", "Total": 100, "Balance": 100, "Cancelled": True, "Booked": True},
    }

    def handler(request):
        path = request.path_url.split("?")[0]
        if path == "/3/invoices":
            return 200, {"MetaInformation": {"@TotalPages": 1}, "Invoices": [
                {"DocumentNumber": 1, "OCR": "1234"}, {"DocumentNumber": "2", "OCR": "12345"}]}
        number = int(path.rsplit("/", 1)[1])
        return (200, {"Invoice": full[number]}) if number in full else (404, error_information(2000429, "saknas"))

    client, _, _ = fortnox_client(handler)
    (found,) = api.find_invoices(client, "OCR", "1234")
    assert found.document_number == 1 and found.balance == Decimal("50.50") and found.booked
    assert [i.document_number for i in api.find_invoices(client, "DocumentNumber", "2")] == [2]
    assert api.find_invoices(client, "DocumentNumber", "77") == []
    assert api.find_invoices(client, "DocumentNumber", "A-1") == []


def test_invoice_payment_is_created_then_booked():
    def handler(request):
        if request.method == "POST":
            body = json.loads(request.body)["InvoicePayment"]
            assert body["Amount"] == 1000 and body["ModeOfPayment"] == "AM" and body["PaymentDate"] == "2025-06-13"
            return 201, {"InvoicePayment": {**body, "Number": 55, "Booked": False}}
        assert request.method == "PUT" and request.path_url == "/3/invoicepayments/55/bookkeep"
        return 200, {"InvoicePayment": {"Number": 55, "InvoiceNumber": 1, "Amount": "1000.00", "Booked": True,
                                        "VoucherSeries": "C", "VoucherNumber": 3, "VoucherYear": 4}}

    client, adapter, _ = fortnox_client(handler)
    made = api.create_invoice_payment(client, invoice_number=1, amount=Decimal("1000.00"),
                                      payment_date=date(2025, 6, 13), mode_of_payment="AM")
    assert made.number == 55 and not made.booked
    booked = api.bookkeep_invoice_payment(client, 55)
    assert booked.booked and booked.voucher == VoucherKey("C", 3, 4) and booked.amount == Decimal("1000.00")


def test_preflight_reads_years_accounts_series_and_modes_of_payment():
    answers = {
        "/3/financialyears": {"FinancialYears": [{"Id": 4, "FromDate": "2025-01-01", "ToDate": "2025-12-31"}]},
        "/3/accounts": {"Accounts": [{"Number": 1930, "Active": True, "Year": 4, "Description": "Bank"},
                                     {"Number": 1510, "Active": False, "Year": 4}]},
        "/3/voucherseries": {"VoucherSeriesCollection": [{"Code": "A", "Manual": True, "Description": "Manuella"},
                                                         {"Code": "B", "Manual": False}]},
        "/3/modesofpayments": {"ModesOfPayments": [{"Code": "AM", "Description": "Amili", "AccountNumber": 1689}]},
    }
    client, _, _ = fortnox_client(lambda r: (200, answers[r.path_url.split("?")[0]]))
    (year,) = api.financial_years(client, on=date(2025, 6, 13))
    assert year.holds(date(2025, 6, 13)) and year.id == 4
    chart = api.accounts(client, 4)
    assert chart[1930].active and not chart[1510].active
    series = api.voucher_series(client, 4)
    assert series["A"].manual and not series["B"].manual
    assert api.modes_of_payment(client)["AM"].account_number == 1689


def test_an_answer_missing_what_the_export_needs_is_an_error_naming_the_field():
    client, _, _ = fortnox_client(sequence((200, {"CompanyInformation": {"CompanyName": "X"}})))
    with pytest.raises(Exception, match="OrganizationNumber is missing"):
        api.company_information(client)
