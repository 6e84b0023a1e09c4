"""``payments register`` against the sandbox: each payment once, per-row results, lost answers never resent."""

from __future__ import annotations

import random
from datetime import date
from decimal import Decimal

import pytest
import requests
from bson import ObjectId

from ledger_export.jobs import config as config_module
from ledger_export.amili.auth import StaticToken
from ledger_export.amili.client import AmiliClient
from ledger_export.core.lock import LockedError
from ledger_export.jobs.payments import (ALREADY, CONFLICT, MORE_THAN_ONCE, REGISTERED, REJECTED, UNKNOWN, UNREADABLE,
                                    WOULD, PaymentResult, creditor_lock, exit_code, lock_name, register_file,
                                    register_payments, render_results)
from ledger_export.core.resources import SAMPLES
from ledger_export.core.errors import ConfigError
from ledger_export.jobs.payments_csv import PaymentFileError, PaymentRow, read_payments
from ledger_export.sandbox import Faults
from ledger_export.sandbox.payments import UNREADABLE_ANSWERS

CREDITOR = "686e6ed854377058c2dd10bd"
TODAY = date(2025, 7, 1)
SAMPLE = SAMPLES / "payments.csv"


def client(sb) -> AmiliClient:
    return AmiliClient(sb.base_url, StaticToken(sb.api_key), sleep=lambda s: None, rng=random.Random(1))


def posts(sb) -> list:
    return [r for r in sb.requests if r.method == "POST"]


def register(sb, rows, **options):
    with client(sb) as c:
        return register_payments(c, CREDITOR, rows, **options)


def held(sb, reference: str) -> list[dict]:
    return list(sb.db["creditor--payments"].find({"creditor_payment_reference": reference}))


def settings(sb, out) -> config_module.Config:
    return config_module.from_dict({"amili": {"base_url": sb.base_url, "creditor": CREDITOR},
                                    "output": {"folder": str(out)}})


@pytest.fixture
def rows():
    return read_payments(SAMPLE, today=TODAY)


def test_the_sample_file_registers_and_amili_settles_each_row(sandbox, rows):
    results = register(sandbox, rows)
    assert [r.status for r in results] == [REGISTERED] * 4
    assert [r.amili_status for r in results] == ["completed"] * 4
    assert [r.settled_amount for r in results] == [Decimal("1250.00"), Decimal("480.50"), Decimal("2000.00"),
                                                   Decimal("95.75")]
    assert exit_code(results) == 0 and not any(r.failed for r in results)
    stored = sandbox.db["creditor--payments"].find_one({"creditor_payment_reference": "BG-20250623-0003"})
    # The file's ISO date went out as RFC 1123 midnight GMT; the case row went by case, not invoice.
    assert stored["bank_transaction_date"].isoformat() == "2025-06-23T00:00:00"
    assert str(stored["case"]) == "67d83f856b7ed6b6dff66a58" and "invoice_number" not in stored
    assert stored["origin"] == "creditor_system" and stored["currency"] == "SEK" and stored["amount"] == 2000.0
    assert len(posts(sandbox)) == 4


def test_the_amount_goes_out_as_a_json_number_with_the_files_digits(sandbox):
    bodies = []

    class Recording(requests.Session):
        def request(self, method, url, **kwargs):
            if method == "POST":
                bodies.append(kwargs["data"])
            return super().request(method, url, **kwargs)

    row = PaymentRow(2, "R-1", Decimal("480.50"), date(2025, 6, 18), invoice_number="INV-2025-0026")
    with AmiliClient(sandbox.base_url, StaticToken(sandbox.api_key), session_factory=Recording) as c:
        register_payments(c, CREDITOR, [row])
    assert b'"amount": 480.50,' in bodies[0]
    assert b'"bank_transaction_date": "Wed, 18 Jun 2025 00:00:00 GMT"' in bodies[0]


def test_registering_the_same_file_twice_registers_nothing_the_second_time(sandbox, rows):
    register(sandbox, rows)
    before = sandbox.db["creditor--payments"].count_documents({})
    again = register(sandbox, rows)
    assert [r.status for r in again] == [ALREADY] * 4
    assert [r.amili_status for r in again] == ["completed"] * 4 and all(r.payment_id for r in again)
    assert len(posts(sandbox)) == 4  # all from the first run
    assert sandbox.db["creditor--payments"].count_documents({}) == before
    assert exit_code(again) == 0


def test_a_dry_run_checks_references_but_posts_nothing(sandbox, rows):
    register(sandbox, rows[:1])
    results = register(sandbox, rows, dry_run=True)
    assert [r.status for r in results] == [ALREADY, WOULD, WOULD, WOULD]
    assert len(posts(sandbox)) == 1


def test_references_are_asked_for_in_batches_of_100(sandbox):
    rows = [PaymentRow(n + 2, f"R-{n:03}", Decimal("1.00"), date(2025, 6, 2), invoice_number="INV-2025-0170")
            for n in range(150)]
    register(sandbox, rows, dry_run=True)
    asked = [r for r in sandbox.requests if r.method == "GET"]
    assert len(asked) == 2 and all("creditor_payment_reference" in r.query_string for r in asked)


def test_amili_rejecting_a_row_is_shown_on_that_row_and_fails_the_run(sandbox, rows):
    # A rule this tool does not know about: Amili is the judge, and says so per row.
    sandbox.app.config["DOMAIN"]["creditor--payments"]["schema"]["amount"]["max"] = 1000
    results = register(sandbox, rows)
    assert [r.status for r in results] == [REJECTED, REGISTERED, REJECTED, REGISTERED]
    assert results[0].message == "Amili rejected it: amount: max value is 1000"
    assert results[0].payment_id is None and results[0].failed
    assert exit_code(results) == 1


def test_a_lost_answer_is_unknown_never_resent_and_a_rerun_skips_it(sandbox_factory, rows):
    sb = sandbox_factory()
    # Requests: 1 the file's reference check, 2 row 1's check again, 3 its POST, 4 its read-back,
    # 5 row 2's check again, 6 its POST -> dropped.
    sb.set_faults(Faults(drop_every=6))
    results = register(sb, rows[:3])
    assert [r.status for r in results] == [REGISTERED, UNKNOWN, REGISTERED]
    assert "may or may not" in results[1].message and "Run the same file again" in results[1].message
    assert exit_code(results) == 1
    assert [r.status for r in posts(sb)] == [201, None, 201]  # the dropped POST was not sent again
    # The sandbox stored it before the answer was lost, as a real server may have.
    assert sb.db["creditor--payments"].count_documents({"creditor_payment_reference": rows[1].reference}) == 1
    sb.set_faults(Faults())
    again = register(sb, rows[:3])
    assert [r.status for r in again] == [ALREADY] * 3 and exit_code(again) == 0
    assert len(posts(sb)) == 3


def test_a_reference_registered_between_the_files_check_and_its_post_is_not_posted(sandbox_factory, rows):
    sb = sandbox_factory()
    register(sb, rows[1:2])  # how Amili stores row 2: kept, then taken away until the run has begun
    [stored] = held(sb, rows[1].reference)
    sb.db["creditor--payments"].delete_one({"_id": stored["_id"]})
    sb.requests.clear()

    def registered_meanwhile(n, method, path):
        # Right after the run read the file's references (none known), before it sends row 1:
        # as if the bookkeeper's colleague registered row 2 in Amili's web form.
        if method == "GET" and not held(sb, rows[1].reference):
            sb.db["creditor--payments"].insert_one(stored)

    sb.on_request(registered_meanwhile)
    results = register(sb, rows[:3])
    assert [r.status for r in results] == [REGISTERED, ALREADY, REGISTERED]
    assert results[1].payment_id == str(stored["_id"])
    assert results[1].message == "registered at Amili while this run was going, not by this run"
    assert len(held(sb, rows[1].reference)) == 1 and len(posts(sb)) == 2
    assert exit_code(results) == 0
    # One check for the file, then one per row right before its POST.
    gets = [r for r in sb.requests if r.method == "GET" and "creditor_payment_reference" in r.query_string]
    assert len(gets) == 1 + 3


def test_a_reference_amili_holds_twice_needs_attention(sandbox, rows):
    register(sandbox, rows[:2])
    [first] = held(sandbox, rows[0].reference)
    sandbox.db["creditor--payments"].insert_one({**first, "_id": ObjectId("fffff0000000000000000001")})
    results = register(sandbox, rows[:2])
    assert [r.status for r in results] == [MORE_THAN_ONCE, ALREADY]
    assert results[0].failed and exit_code(results) == 1
    assert results[0].message == (f"Amili has reference {rows[0].reference} 2 times (payments {first['_id']}, "
                                  f"fffff0000000000000000001): the payment may count 2 times; "
                                  f"ask Amili to remove all but one")
    assert len(posts(sandbox)) == 2  # nothing sent the second time
    assert "1 needs attention." in render_results(results)


def test_a_stored_payment_whose_answer_is_unreadable_is_registered_with_amilis_id(sandbox, rows):
    sandbox.app.config[UNREADABLE_ANSWERS] = True  # 201, stored, body not JSON
    results = register(sandbox, rows[:2])
    assert [r.status for r in results] == [REGISTERED, REGISTERED] and exit_code(results) == 0
    for row, result in zip(rows, results):
        [stored] = held(sandbox, row.reference)
        assert result.payment_id == str(stored["_id"]) and result.amili_status == "completed"
        assert result.message.startswith(f"registered: Amili's answer to the POST could not be read (POST "
                                          f"{sandbox.base_url}/creditor--payments: Amili accepted it (201), "
                                          f"but its answer is not JSON")
        assert result.message.endswith("looking the reference up found it")
    assert len(posts(sandbox)) == 2  # neither was sent again
    assert [r.status for r in register(sandbox, rows[:2])] == [ALREADY, ALREADY]


def test_a_stored_payment_amili_does_not_list_yet_is_sent_answer_unreadable_and_needs_attention(sandbox, rows):
    sandbox.app.config[UNREADABLE_ANSWERS] = True
    hidden = []

    def not_listed_yet(n, method, path):
        if method == "POST":  # stored, but not yet in Amili's lists when the run looks it up
            hidden.extend(sandbox.db["creditor--payments"].find({"creditor_payment_reference": rows[0].reference}))
            sandbox.db["creditor--payments"].delete_many({"creditor_payment_reference": rows[0].reference})

    sandbox.on_request(not_listed_yet)
    [result] = register(sandbox, rows[:1])
    assert result.status == UNREADABLE and result.failed and result.payment_id is None
    assert "Amili accepted it (201), but its answer is not JSON" in result.message
    assert result.message.endswith("looking the reference up right after did not find it. Check at Amili before "
                                   "sending it again: a run of the same file skips it once Amili lists it")
    assert len(hidden) == 1 and len(posts(sandbox)) == 1
    assert "1 payment: 1 sent, answer unreadable. 1 needs attention." in render_results([result])


def test_an_unknown_invoice_is_registered_with_status_error_and_fails_the_run(sandbox):
    row = PaymentRow(2, "R-404", Decimal("10.00"), date(2025, 6, 2), invoice_number="INV-1999-0001")
    [result] = register(sandbox, [row])
    assert (result.status, result.amili_status, result.settled_amount) == (REGISTERED, "error", Decimal("0.00"))
    assert result.status_reason == "creditor_payment.status_reason.invoice_number_not_found"
    assert result.failed and exit_code([result]) == 1


def test_a_reference_amili_has_for_another_payment_is_not_skipped_quietly(sandbox):
    # DIR-2025-001 is the sample's payment of 2500.00 on INV-2025-0049.
    row = PaymentRow(2, "DIR-2025-001", Decimal("99.00"), date(2025, 6, 2), invoice_number="INV-2025-0170")
    [result] = register(sandbox, [row])
    assert result.status == CONFLICT and result.failed
    assert result.message.startswith("Amili has reference DIR-2025-001 for invoice INV-2025-0049, 2500.00 SEK "
                                     "on 2025-05-19 (payment 682c4bc9111b8b6710303190); this row is invoice "
                                     "INV-2025-0170, 99.00 SEK on 2025-06-02")
    assert posts(sandbox) == []


def test_the_result_table(snapshot):
    results = (
        PaymentResult(2, "BG-1", "invoice INV-2025-0170", Decimal("1250.00"), REGISTERED, "p1",
                      Decimal("1250.00"), "completed"),
        PaymentResult(3, "BG-2", "case 67d83f856b7ed6b6dff66a58", Decimal("95.75"), ALREADY, "p2",
                      Decimal("0.00"), "error", "creditor_payment.status_reason.case_not_found"),
        PaymentResult(4, "BG-3", "invoice INV-9", Decimal("10.00"), REJECTED,
                      message="Amili rejected it: amount: max value is 1"),
    )
    text = render_results(results)
    assert text == snapshot
    assert "2 need attention." in text


def test_register_file_validates_everything_before_any_request(sandbox, tmp_path):
    bad = tmp_path / "payments.csv"
    bad.write_text("invoice_number,amount,bank_transaction_date,reference\nINV-1,-5,2025-06-02,R\n", "utf-8")
    with pytest.raises(PaymentFileError, match=r"payments.csv:2: amount \(column 2\): must be more than 0, got -5"):
        register_file(settings(sandbox, tmp_path / "out"), bad, today=TODAY, tokens=StaticToken(sandbox.api_key))
    assert sandbox.requests == [] and not (tmp_path / "out").exists()


def test_register_file_holds_the_creditors_lock_in_the_output_folder_it_makes(sandbox, tmp_path):
    out = tmp_path / "not" / "yet"
    run = register_file(settings(sandbox, out), SAMPLE, today=TODAY, tokens=StaticToken(sandbox.api_key))
    assert run.exit_code == 0 and len(posts(sandbox)) == 4
    assert (out / lock_name(CREDITOR)).is_file() and lock_name(CREDITOR) == f".ledger-export-payments-{CREDITOR}.lock"


def test_a_second_run_for_the_creditor_is_refused_before_any_request(sandbox, tmp_path):
    config = settings(sandbox, tmp_path)
    with creditor_lock(config):
        with pytest.raises(LockedError) as err:
            register_file(config, SAMPLE, today=TODAY, tokens=StaticToken(sandbox.api_key))
        # A dry run sends nothing, so it needs no lock.
        dry = register_file(config, SAMPLE, today=TODAY, dry_run=True, tokens=StaticToken(sandbox.api_key))
    assert err.value.exit_code == 5
    assert str(err.value).startswith(f"another payments run for creditor {CREDITOR} is using {tmp_path} (pid ")
    assert posts(sandbox) == [] and [r.status for r in dry.results] == [WOULD] * 4
    # Another creditor's lock is another file: its runs do not wait for this one's.
    other = config_module.from_dict({"amili": {"creditor": "0123456789abcdef01234567"},
                                     "output": {"folder": str(tmp_path)}})
    with creditor_lock(config), creditor_lock(other):
        pass


def test_register_file_runs_the_job_and_describes_it(sandbox):
    config = config_module.from_dict({"amili": {"base_url": sandbox.base_url, "creditor": CREDITOR}})
    run = register_file(config, SAMPLE, today=TODAY, dry_run=True, tokens=StaticToken(sandbox.api_key))
    assert run.exit_code == 0 and run.requests == 1
    assert run.describe().endswith("4 payments: 4 would register.\nDry run: nothing was sent to Amili.\n")
    assert sandbox.api_key not in run.describe()


def test_register_file_needs_a_creditor(tmp_path):
    with pytest.raises(ConfigError, match=r"\[amili.creditor\] no creditor given"):
        register_file(config_module.from_dict({}), SAMPLE, today=TODAY, tokens=StaticToken("k"))


def test_a_file_with_amilis_own_field_names_registers_like_ours(sandbox, tmp_path):
    amili = tmp_path / "from-another-system.csv"
    amili.write_text("creditor,origin,invoice_number,currency,amount,bank_transaction_date,creditor_payment_reference\n"
                     f"{CREDITOR},creditor_system,INV-2025-0170,SEK,1250.0,\"Tue, 17 Jun 2025 00:00:00 GMT\",PAY-1\n",
                     "utf-8")
    run = register_file(settings(sandbox, tmp_path / "out"), amili, today=TODAY, tokens=StaticToken(sandbox.api_key))
    assert run.exit_code == 0 and [r.status for r in run.results] == [REGISTERED]
    (stored,) = held(sandbox, "PAY-1")
    assert stored["bank_transaction_date"].isoformat() == "2025-06-17T00:00:00" and stored["amount"] == 1250.0
    assert stored["invoice_number"] == "INV-2025-0170" and stored["origin"] == "creditor_system"


def test_a_file_naming_another_creditor_is_refused_before_any_request(sandbox, tmp_path):
    other = tmp_path / "payments.csv"
    other.write_text(f"creditor,invoice_number,amount,bank_transaction_date,reference\n{'ab' * 12},INV-1,5,"
                     "2025-06-02,R\n", "utf-8")
    with pytest.raises(PaymentFileError, match=f"payments.csv:2: creditor: is {'ab' * 12}, but the configuration "
                                               f"registers payments for creditor {CREDITOR}"):
        register_file(settings(sandbox, tmp_path / "out"), other, today=TODAY, tokens=StaticToken(sandbox.api_key))
    assert sandbox.requests == []
