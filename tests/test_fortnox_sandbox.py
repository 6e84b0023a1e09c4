"""The Fortnox sandbox over real HTTP: Fortnox's OAuth, every endpoint the tool uses, its errors, limit and faults."""

import base64
import hashlib
import json
import signal
import subprocess
import sys
from decimal import Decimal
from urllib.parse import parse_qs, urlsplit

import jwt
import pytest
import requests
import simplejson

from ledger_export.sandbox.fortnox import FortnoxSandbox
from ledger_export.sandbox.fortnox.sales import ocr

PDF = b"%PDF-1.4\n% self-invoice SF-2025-154\n" + bytes(range(256)) + b"\n%%EOF\n"


@pytest.fixture
def fortnox():
    with FortnoxSandbox() as sandbox:
        yield sandbox


class Clock:
    def __init__(self, now=1_750_000_000.0):
        self.now = now

    def __call__(self):
        return self.now


def token_answer(fortnox, **form):
    return requests.post(f"{fortnox.auth_url}/token", auth=(fortnox.client_id, fortnox.client_secret), data=form,
                         timeout=10)


def access_token(fortnox, scopes=None):
    kwargs = {} if scopes is None else {"scopes": scopes}
    answer = token_answer(fortnox, grant_type="refresh_token", refresh_token=fortnox.refresh_token(**kwargs))
    assert answer.status_code == 200, answer.text
    return answer.json()["access_token"]


class Api:
    """requests against /3/ with one bearer token; JSON read with Decimal amounts."""

    def __init__(self, fortnox, token=None):
        self.base = fortnox.api_url
        self.headers = {"Authorization": f"Bearer {token or access_token(fortnox)}", "Accept": "application/json"}

    def call(self, method, path, headers=None, **kwargs):
        return requests.request(method, f"{self.base}/{path}", headers=headers or self.headers, timeout=10, **kwargs)

    def get(self, path, **kwargs):
        return self.call("GET", path, **kwargs)

    def post(self, path, body):
        return self.call("POST", path, data=simplejson.dumps(body, use_decimal=True),
                         headers={**self.headers, "Content-Type": "application/json"})


def body(answer):
    return simplejson.loads(answer.text, use_decimal=True)


def voucher(series="A", day="2025-06-04", rows=((1930, "1804.35", "0"), (3921, "0", "1443.48"), (2611, "0", "360.87")),
            comments="amili-payout:683bd04314eb261291cfe347"):
    return {"Voucher": {"VoucherSeries": series, "TransactionDate": day, "Description": "Amili provision ref 65405",
                        "Comments": comments,
                        "VoucherRows": [{"Account": a, "Debit": Decimal(d), "Credit": Decimal(c),
                                         "TransactionInformation": "provision"} for a, d, c in rows]}}


def state(fortnox):
    return body(requests.get(f"{fortnox.base_url}/_sandbox/state", timeout=10))


def upload(api, name="self_invoice_SF-2025-154.pdf", content=PDF, where="path=inbox_v"):
    return requests.post(f"{api.base}/inbox?{where}", headers=api.headers,
                         files={"Filedata": (name, content, "application/pdf")}, timeout=10)


# -- OAuth ------------------------------------------------------------------

def test_the_authorization_code_flow_redirects_at_once_and_the_code_gives_tokens_once(fortnox):
    redirect_uri = "http://127.0.0.1:9876/callback"
    consent = requests.get(f"{fortnox.auth_url}/auth", allow_redirects=False, timeout=10, params={
        "client_id": fortnox.client_id, "redirect_uri": redirect_uri, "scope": "bookkeeping companyinformation",
        "state": "st-42", "access_type": "offline", "response_type": "code"})
    assert consent.status_code == 302
    location = urlsplit(consent.headers["Location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == redirect_uri
    query = parse_qs(location.query)
    assert query["state"] == ["st-42"]

    answer = token_answer(fortnox, grant_type="authorization_code", code=query["code"][0], redirect_uri=redirect_uri)
    assert answer.status_code == 200
    tokens = answer.json()
    assert tokens["token_type"] == "bearer" and tokens["expires_in"] == 3600
    assert set(tokens["scope"].split()) == {"bookkeeping", "companyinformation"}
    assert jwt.decode(tokens["access_token"], options={"verify_signature": False})["tenantId"] == fortnox.tenant_id
    assert Api(fortnox, tokens["access_token"]).get("companyinformation").status_code == 200

    again = token_answer(fortnox, grant_type="authorization_code", code=query["code"][0], redirect_uri=redirect_uri)
    assert again.status_code == 400 and again.json()["error"] == "invalid_grant"


def test_the_consent_page_refuses_an_unknown_scope_and_a_foreign_redirect(fortnox):
    params = {"client_id": fortnox.client_id, "redirect_uri": "http://127.0.0.1:1/cb", "state": "s",
              "response_type": "code", "scope": "bookkeeping nosuchscope"}
    refused = requests.get(f"{fortnox.auth_url}/auth", params=params, allow_redirects=False, timeout=10)
    assert refused.status_code == 302 and parse_qs(urlsplit(refused.headers["Location"]).query)["error"] == ["invalid_scope"]
    foreign = requests.get(f"{fortnox.auth_url}/auth", allow_redirects=False, timeout=10,
                           params={**params, "scope": "bookkeeping", "redirect_uri": "https://evil.example/cb"})
    assert foreign.status_code == 400 and "Location" not in foreign.headers


def test_a_refresh_token_works_once_and_its_reuse_gets_fortnoxs_invalid_grant(fortnox):
    first = fortnox.refresh_token()
    rotated = token_answer(fortnox, grant_type="refresh_token", refresh_token=first)
    assert rotated.status_code == 200
    second = rotated.json()["refresh_token"]
    assert second != first

    reused = token_answer(fortnox, grant_type="refresh_token", refresh_token=first)
    assert reused.status_code == 400
    assert reused.json() == {"error": "invalid_grant", "error_description": "Invalid refresh token"}
    assert token_answer(fortnox, grant_type="refresh_token", refresh_token=second).status_code == 200


def test_wrong_client_credentials_get_invalid_client(fortnox):
    answer = requests.post(f"{fortnox.auth_url}/token", auth=(fortnox.client_id, "wrong"), timeout=10,
                           data={"grant_type": "refresh_token", "refresh_token": fortnox.refresh_token()})
    assert answer.status_code == 401
    assert json.loads(answer.text) == {"error": "invalid_client", "error_description": "The client credentials are invalid"}


def test_client_credentials_with_the_tenant_id_give_an_access_token_and_no_refresh_token(fortnox):
    credentials = base64.b64encode(f"{fortnox.client_id}:{fortnox.client_secret}".encode()).decode()
    answer = requests.post(f"{fortnox.auth_url}/token", data={"grant_type": "client_credentials"}, timeout=10,
                           headers={"Authorization": f"Basic {credentials}", "TenantId": str(fortnox.tenant_id)})
    assert answer.status_code == 200
    assert "refresh_token" not in answer.json()
    assert Api(fortnox, answer.json()["access_token"]).get("vouchers?financialyear=2").status_code == 200

    wrong = requests.post(f"{fortnox.auth_url}/token", data={"grant_type": "client_credentials"}, timeout=10,
                          headers={"Authorization": f"Basic {credentials}", "TenantId": "999"})
    assert wrong.status_code == 400 and wrong.json()["error"] == "invalid_grant"


def test_an_access_token_expires_after_its_lifetime_with_fortnoxs_401():
    clock = Clock()
    with FortnoxSandbox(clock=clock, access_ttl=60) as fortnox:
        api = Api(fortnox)
        assert api.get("companyinformation").status_code == 200
        clock.now += 61
        expired = api.get("companyinformation")
        assert expired.status_code == 401 and expired.json() == {"message": "unauthorized"}


def test_no_token_and_a_missing_scope_get_fortnoxs_error_information(fortnox):
    anonymous = requests.get(f"{fortnox.api_url}/companyinformation", timeout=10)
    assert anonymous.status_code == 401
    assert anonymous.json()["ErrorInformation"]["code"] == 2000311

    bookkeeping_only = Api(fortnox, access_token(fortnox, scopes={"bookkeeping"}))
    assert bookkeeping_only.get("accounts").status_code == 200
    for path in ("invoices", "invoicepayments", "inbox", "voucherfileconnections", "modesofpayments",
                 "companyinformation"):
        refused = bookkeeping_only.get(path)
        assert refused.status_code == 403, path
        assert refused.json()["ErrorInformation"]["code"] == 2000663


# -- the company ---------------------------------------------------------------

def test_the_company_year_accounts_and_series_fit_the_sample_month(fortnox):
    api = Api(fortnox)
    assert api.get("companyinformation").json()["CompanyInformation"]["OrganizationNumber"] == "556677-8899"
    years = api.get("financialyears", params={"date": "2025-06-04"}).json()["FinancialYears"]
    assert [(y["Id"], y["FromDate"], y["ToDate"]) for y in years] == [(2, "2025-01-01", "2025-12-31")]
    assert api.get("financialyears", params={"date": "2026-01-01"}).json()["FinancialYears"] == []

    accounts = {a["Number"]: a for a in api.get("accounts", params={"financialyear": 2}).json()["Accounts"]}
    assert {1510, 1930, 2611, 3921, 3990, 6062, 8313, 1589} <= set(accounts)
    assert accounts[8314]["Active"] is False and accounts[1930]["Active"] is True
    assert api.get("accounts/1930?financialyear=2").json()["Account"]["Year"] == 2
    assert api.get("accounts/4999?financialyear=2").json()["ErrorInformation"]["code"] == 2001304

    series = {s["Code"]: s for s in api.get("voucherseries?financialyear=2").json()["VoucherSeriesCollection"]}
    assert series["A"]["Manual"] is True and series["C"]["Manual"] is False
    assert series["A"]["NextVoucherNumber"] == 42


def test_a_voucher_is_numbered_in_its_series_and_year_and_listed_with_its_reference(fortnox):
    api = Api(fortnox)
    made = api.post("vouchers", voucher())
    assert made.status_code == 201
    created = body(made)["Voucher"]
    assert (created["VoucherSeries"], created["VoucherNumber"], created["Year"]) == ("A", 42, 2)
    assert created["ReferenceType"] == "MANUAL"
    assert [(r["Account"], r["Debit"], r["Credit"]) for r in created["VoucherRows"]] == [
        (1930, Decimal("1804.35"), Decimal("0.00")), (3921, Decimal("0.00"), Decimal("1443.48")),
        (2611, Decimal("0.00"), Decimal("360.87"))]

    listed = api.get("vouchers/sublist/A", params={"financialyear": 2, "fromdate": "2025-06-03",
                                                   "todate": "2025-06-30"}).json()
    assert [(v["VoucherNumber"], v["Comments"]) for v in listed["Vouchers"]] == [
        (40, ""), (41, "Bokförd för hand"), (42, "amili-payout:683bd04314eb261291cfe347")]
    single = api.get("vouchers/A/42", params={"financialyear": 2}).json()["Voucher"]
    assert single["Description"] == "Amili provision ref 65405" and len(single["VoucherRows"]) == 3


def test_voucher_lists_page_with_fortnoxs_meta_information(fortnox):
    api = Api(fortnox)
    second = api.get("vouchers/sublist/A", params={"financialyear": 2, "limit": 2, "page": 2}).json()
    assert second["MetaInformation"] == {"@TotalResources": 3, "@TotalPages": 2, "@CurrentPage": 2}
    assert [v["VoucherNumber"] for v in second["Vouchers"]] == [41]
    assert api.get("vouchers", params={"financialyear": 2, "limit": 501}).json()["ErrorInformation"]["code"] == 2000588


@pytest.mark.parametrize("change, code", [
    ({"rows": ((1930, "100.00", "0"), (3921, "0", "99.99"))}, 9990005),
    ({"series": "C"}, 9990003),
    ({"series": "Q"}, 9990002),
    ({"rows": ((1930, "10.00", "0"), (8314, "0", "10.00"))}, 9990004),
    ({"rows": ((1930, "10.00", "0"), (4999, "0", "10.00"))}, 2001304),
    ({"day": "2026-02-01"}, 9990001),
    ({"rows": ((1930, "10.001", "0"), (3921, "0", "10.001"))}, 2000108),
])
def test_a_voucher_fortnox_would_refuse_is_refused_and_nothing_is_booked(fortnox, change, code):
    refused = Api(fortnox).post("vouchers", voucher(**change))
    assert refused.status_code == 400
    assert refused.json()["ErrorInformation"]["code"] == code
    assert len(state(fortnox)["Vouchers"]) == 3


def test_unknown_voucher_fields_are_refused_and_read_only_ones_ignored(fortnox):
    api = Api(fortnox)
    typo = voucher()
    typo["Voucher"]["Comment"] = "x"
    assert api.post("vouchers", typo).json()["ErrorInformation"]["code"] == 2001399
    read_only = voucher()
    read_only["Voucher"].update(ReferenceType="INVOICE", ReferenceNumber="65405", VoucherNumber=7)
    created = body(api.post("vouchers", read_only))["Voucher"]
    assert (created["ReferenceType"], created["ReferenceNumber"], created["VoucherNumber"]) == ("MANUAL", "", 42)


# -- documents -----------------------------------------------------------------

def test_a_pdf_uploaded_to_the_voucher_inbox_comes_back_byte_for_byte_and_connects_once(fortnox):
    api = Api(fortnox)
    made = body(api.post("vouchers", voucher()))["Voucher"]
    uploaded = upload(api)
    assert uploaded.status_code == 201
    file = uploaded.json()["File"]
    assert (file["Name"], file["Size"], file["Path"]) == ("self_invoice_SF-2025-154.pdf", len(PDF), "inbox_v")
    assert api.get(f"inbox/{file['Id']}").content == PDF
    assert [f["Id"] for f in api.get("inbox/inbox_v").json()["Folder"]["Files"]] == [file["Id"]]
    assert [f["Id"] for f in api.get("inbox", params={"path": "inbox_v"}).json()["Folder"]["Files"]] == [file["Id"]]

    connected = api.post("voucherfileconnections", {"VoucherFileConnection": {
        "FileId": file["Id"], "VoucherSeries": "A", "VoucherNumber": made["VoucherNumber"], "VoucherYear": 2}})
    assert connected.status_code == 201
    assert connected.json()["VoucherFileConnection"]["VoucherDescription"] == "Amili provision ref 65405"
    assert api.get("inbox/inbox_v").json()["Folder"]["Files"] == []  # connected files leave the inbox
    listed = api.get("voucherfileconnections", params={"voucherseries": "A", "vouchernumber": 42}).json()
    assert [(c["FileId"], c["Name"]) for c in listed["VoucherFileConnections"]] == [(file["Id"], file["Name"])]
    assert api.get(f"archive/{file['ArchiveFileId']}").content == PDF

    twice = api.post("voucherfileconnections", {"VoucherFileConnection": {
        "FileId": file["Id"], "VoucherSeries": "A", "VoucherNumber": 42, "VoucherYear": 2}})
    assert twice.status_code == 400 and twice.json()["ErrorInformation"]["code"] == 9990008
    files = state(fortnox)["Files"]
    assert [(f["Folder"], f["SHA256"]) for f in files] == [("archive", hashlib.sha256(PDF).hexdigest())]


def test_a_connection_to_a_voucher_that_does_not_exist_is_refused(fortnox):
    api = Api(fortnox)
    file = upload(api, where="folderid=inbox_v").json()["File"]
    refused = api.post("voucherfileconnections", {"VoucherFileConnection": {
        "FileId": file["Id"], "VoucherSeries": "A", "VoucherNumber": 99, "VoucherYear": 2}})
    assert refused.json()["ErrorInformation"]["code"] == 9990006
    assert state(fortnox)["VoucherFileConnections"] == []


# -- invoices and payments -----------------------------------------------------

def test_the_sample_invoices_are_found_by_each_matching_field(fortnox):
    api = Api(fortnox)
    by_number = api.get("invoices", params={"documentnumber": "250017"}).json()["Invoices"]
    assert len(by_number) == 1 and Decimal(str(by_number[0]["Balance"])) == Decimal("2250.00")
    for field, value in (("externalinvoicereference1", "INV-2025-0017"), ("ocr", ocr("250017"))):
        assert [i["DocumentNumber"] for i in api.get("invoices", params={field: value}).json()["Invoices"]] == ["250017"]
    assert api.get("invoices/250017").json()["Invoice"]["YourOrderNumber"] == "PO-0017"
    assert [i["DocumentNumber"] for i in api.get("invoices", params={"filter": "cancelled"}).json()["Invoices"]] == ["250044"]
    assert "250021" in [i["DocumentNumber"] for i in api.get("invoices", params={"filter": "fullypaid"}).json()["Invoices"]]
    assert body(api.get("invoices/250059"))["Invoice"]["Balance"] == Decimal("3000.00")
    assert api.get("invoices/250004").json() == {
        "ErrorInformation": {"Error": 1, "Message": "Kan inte hitta fakturan.", "Code": 2000434}}
    assert api.get("invoices", params={"filter": "nonsense"}).json()["ErrorInformation"]["code"] == 2000587


def test_ocr_follows_fortnoxs_recorded_numbers():
    assert (ocr("1"), ocr("3"), ocr("10")) == ("133", "331", "1040")


def test_a_payment_lowers_the_balance_and_bookkeeping_it_books_clearing_against_the_receivable(fortnox):
    api = Api(fortnox)
    modes = {m["Code"]: m["AccountNumber"] for m in api.get("modesofpayments").json()["ModesOfPayments"]}
    assert modes["AMILI"] == 1589
    made = api.post("invoicepayments", {"InvoicePayment": {
        "InvoiceNumber": 250017, "Amount": Decimal("1450.00"), "PaymentDate": "2025-06-04", "ModeOfPayment": "AMILI"}})
    assert made.status_code == 201
    payment = body(made)["InvoicePayment"]
    assert (payment["Booked"], payment["ModeOfPaymentAccount"], payment["Amount"]) == (False, 1589, Decimal("1450.00"))
    assert body(api.get("invoices/250017"))["Invoice"]["Balance"] == Decimal("800.00")
    listed = api.get("invoicepayments", params={"invoicenumber": "250017"}).json()["InvoicePayments"]
    assert [p["Number"] for p in listed] == [payment["Number"]]

    booked = api.call("PUT", f"invoicepayments/{payment['Number']}/bookkeep")
    assert booked.status_code == 200
    booked = body(booked)["InvoicePayment"]
    assert (booked["Booked"], booked["VoucherSeries"], booked["VoucherNumber"], booked["VoucherYear"]) == (True, "C", 18, 2)
    entry = body(api.get("vouchers/C/18", params={"financialyear": 2}))["Voucher"]
    assert [(r["Account"], r["Debit"], r["Credit"]) for r in entry["VoucherRows"]] == [
        (1589, Decimal("1450.00"), Decimal("0.00")), (1510, Decimal("0.00"), Decimal("1450.00"))]
    again = api.call("PUT", f"invoicepayments/{payment['Number']}/bookkeep")
    assert again.status_code == 400 and again.json()["ErrorInformation"]["code"] == 9990012


def test_a_payment_on_a_cancelled_or_missing_invoice_is_refused(fortnox):
    api = Api(fortnox)
    for number, code in ((250044, 9990009), (250004, 2000434)):
        refused = api.post("invoicepayments", {"InvoicePayment": {
            "InvoiceNumber": number, "Amount": Decimal("10.00"), "PaymentDate": "2025-06-04", "ModeOfPayment": "AMILI"}})
        assert refused.status_code == 400 and refused.json()["ErrorInformation"]["code"] == code
    assert state(fortnox)["InvoicePayments"] == []


# -- rate limit and faults -----------------------------------------------------

def test_25_requests_in_5_seconds_pass_the_26th_gets_429_and_the_window_slides(fortnox):
    clock = Clock(100.0)
    fortnox.limiter.clock = clock
    api = Api(fortnox)
    assert [api.get("financialyears").status_code for _ in range(25)] == [200] * 25
    refused = api.get("financialyears")
    assert refused.status_code == 429 and "Retry-After" not in refused.headers
    other = Api(fortnox)  # the limit is per access token
    assert other.get("financialyears").status_code == 200
    clock.now += 5.0
    assert api.get("financialyears").status_code == 200
    served = state(fortnox)["Served"]
    assert served["rate_limited"] == 1 and served["busiest_window"] == 25


@pytest.mark.parametrize("kind", ["voucher", "file", "connection", "payment", "bookkeep"])
def test_an_answer_lost_after_a_write_leaves_the_write_done_once(fortnox, kind):
    api = Api(fortnox)
    if kind == "connection":
        number = body(api.post("vouchers", voucher()))["Voucher"]["VoucherNumber"]
        file_id = upload(api).json()["File"]["Id"]
    if kind == "bookkeep":
        paid = body(api.post("invoicepayments", {"InvoicePayment": {
            "InvoiceNumber": 250017, "Amount": Decimal("1450.00"), "PaymentDate": "2025-06-04",
            "ModeOfPayment": "AMILI"}}))["InvoicePayment"]["Number"]
    requests.post(f"{fortnox.base_url}/_sandbox/faults", json={"lose_answer": {kind: 1}}, timeout=10)
    writes = {
        "voucher": lambda: api.post("vouchers", voucher()),
        "file": lambda: upload(api),
        "connection": lambda: api.post("voucherfileconnections", {"VoucherFileConnection": {
            "FileId": file_id, "VoucherSeries": "A", "VoucherNumber": number, "VoucherYear": 2}}),
        "payment": lambda: api.post("invoicepayments", {"InvoicePayment": {
            "InvoiceNumber": 250017, "Amount": Decimal("1450.00"), "PaymentDate": "2025-06-04",
            "ModeOfPayment": "AMILI"}}),
        "bookkeep": lambda: api.call("PUT", f"invoicepayments/{paid}/bookkeep"),
    }
    with pytest.raises(requests.ConnectionError):
        writes[kind]()
    held = state(fortnox)
    counts = {"voucher": len(held["Vouchers"]) - 3, "file": len(held["Files"]),
              "connection": len(held["VoucherFileConnections"]), "payment": len(held["InvoicePayments"]),
              "bookkeep": sum(p["Booked"] for p in held["InvoicePayments"])}
    assert counts[kind] == 1
    assert held["Faults"]["lose_answer"] == {}
    assert [s.status for s in fortnox.served if s.status is None] == [None]
    assert api.get("companyinformation").status_code == 200  # the next request is answered again


def test_server_errors_hit_the_next_n_requests_of_one_endpoint_only(fortnox):
    api = Api(fortnox)
    requests.post(f"{fortnox.base_url}/_sandbox/faults", json={"server_error": {"vouchers": 2}}, timeout=10)
    assert api.get("accounts").status_code == 200
    failed = [api.get("vouchers") for _ in range(2)]
    assert [f.status_code for f in failed] == [503, 503]
    assert failed[0].json()["ErrorInformation"]["code"] == 1000003
    assert api.get("vouchers").status_code == 200


def test_an_injected_429_carries_retry_after_when_asked_to(fortnox):
    api = Api(fortnox)
    requests.post(f"{fortnox.base_url}/_sandbox/faults", json={"rate_limit": 1, "retry_after": 2}, timeout=10)
    refused = api.get("accounts")
    assert refused.status_code == 429 and refused.headers["Retry-After"] == "2"
    assert api.get("accounts").status_code == 200


def test_tokens_expire_and_refresh_tokens_are_revoked_on_demand(fortnox):
    api = Api(fortnox)
    spare = fortnox.refresh_token()
    requests.post(f"{fortnox.base_url}/_sandbox/faults", json={"expire_access_tokens": True}, timeout=10)
    assert api.get("accounts").status_code == 401
    requests.post(f"{fortnox.base_url}/_sandbox/faults", json={"revoke_refresh_tokens": True}, timeout=10)
    revoked = token_answer(fortnox, grant_type="refresh_token", refresh_token=spare)
    assert revoked.status_code == 400 and revoked.json()["error"] == "invalid_grant"


def test_the_token_endpoint_can_fail_with_a_server_error(fortnox):
    fortnox.faults.arm(server_error={"token": 1})
    assert token_answer(fortnox, grant_type="refresh_token", refresh_token=fortnox.refresh_token()).status_code == 503


def test_an_unknown_fault_is_refused(fortnox):
    answer = requests.post(f"{fortnox.base_url}/_sandbox/faults", json={"lose_answer": {"invoice": 1}}, timeout=10)
    assert answer.status_code == 400


# -- the command ---------------------------------------------------------------

def test_ledger_export_sandbox_fortnox_serves_until_interrupted():
    proc = subprocess.Popen([sys.executable, "-m", "ledger_export", "sandbox", "--fortnox", "--port", "0"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        lines = [proc.stdout.readline() for _ in range(5)]
        assert lines[0].startswith("Fortnox sandbox serving http://127.0.0.1:"), "".join(lines) + proc.stderr.read()
        base = lines[0].split()[3]
        refresh = next(l for l in lines if "FORTNOX_REFRESH_TOKEN=" in l).split("FORTNOX_REFRESH_TOKEN=")[1].split()[0]
        tokens = requests.post(f"{base}/oauth-v1/token", auth=("sandbox-client-id", "sandbox-client-secret"),
                               data={"grant_type": "refresh_token", "refresh_token": refresh}, timeout=10).json()
        info = requests.get(f"{base}/3/companyinformation", timeout=10,
                            headers={"Authorization": f"Bearer {tokens['access_token']}"}).json()
        assert info["CompanyInformation"]["CompanyName"] == "Exempelbolaget AB"
    finally:
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=10) == 0
