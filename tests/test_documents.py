"""Downloading the self-invoice PDFs (amili/documents.py) into the names and folder the outputs choose
(outputs/self_invoices.py): checked, hashed, never silently skipped."""

from __future__ import annotations

import hashlib
from dataclasses import replace

import pytest

from ledger_export.amili.models import Document
from ledger_export.amili.settings import AmiliSettings
from ledger_export.core.errors import ServiceUnavailableError
from ledger_export.ledger.model import WARNING
from ledger_export.amili.documents import (FAILED, IN_PLACE, MISSING, REJECTED, media_url,
                                           media_url_for)
from ledger_export.outputs.self_invoices import document_findings, document_path
from support.audit_pack import PAYOUTS
from support.documents import PDF, FakeAmili, FlakyAmili, collect, commission, published, staged, url


def test_downloads_checks_and_hashes_each_pdf(tmp_path):
    payouts = [PAYOUTS[0], commission(1, "a.pdf"), commission(2, "b.pdf")]
    fetch = FakeAmili({url(1): PDF, url(2): PDF})
    records = collect(payouts, tmp_path, fetch)
    assert [(r.payout_id, r.file_name, r.status, r.problem, r.fetched) for r in records] == [
        (payouts[1].id, "a.pdf", IN_PLACE, None, True), (payouts[2].id, "b.pdf", IN_PLACE, None, True)]
    assert records[0].sha256 == hashlib.sha256(PDF).hexdigest() and records[0].size == len(PDF)
    # Downloaded into the run's staging folder only: publish puts them in place with the rest.
    assert staged(tmp_path, "a.pdf").read_bytes() == PDF and staged(tmp_path, "b.pdf").read_bytes() == PDF
    assert [r.staged.path for r in records] == [staged(tmp_path, "a.pdf"), staged(tmp_path, "b.pdf")]
    assert published(tmp_path) == []
    assert document_findings(records) == ()
    assert fetch.calls == [url(1), url(2)]


@pytest.mark.parametrize("body, length, status, problem", [
    (PDF[:40], len(PDF), REJECTED, f"is truncated: 40 of {len(PDF)} bytes"),
    (PDF, len(PDF) - 1, REJECTED, f"is {len(PDF)} bytes, Amili's length says {len(PDF) - 1}"),
    (b"<html>oops</html>", 17, REJECTED, "is not a PDF (starts with b'<html>oo')"),
    (PDF.replace(b"%%EOF", b"%%EOX"), len(PDF), REJECTED, "has no %%EOF marker at its end (truncated PDF)"),
    (None, len(PDF), MISSING, "is missing: Amili has no file 6650000000000000000000f1 "
                              "(http://127.0.0.1:8765/media/6650000000000000000000f1)"),
    (ServiceUnavailableError("Amili answered 503 after 5 retries", status=503), len(PDF), FAILED,
     "could not be downloaded: Amili answered 503 after 5 retries"),
])
def test_a_bad_document_is_a_warning_and_leaves_no_file(tmp_path, body, length, status, problem):
    payout = commission(1, "self_invoice.pdf", length)
    # A file of someone else's under the plain name is left alone: the payout gets a name of its own.
    (tmp_path / "self-invoices").mkdir()
    (tmp_path / "self-invoices" / "self_invoice.pdf").write_bytes(b"theirs")
    (record,) = collect([payout], tmp_path, FakeAmili({url(1): body}))
    assert (record.status, record.problem, record.size, record.sha256) == (status, problem, None, None)
    assert document_path(record) is None and record.staged is None and record.file_name == "self_invoice-000000a1.pdf"
    assert not (tmp_path / "staging").exists()  # nothing unverified is staged for publishing
    assert (tmp_path / "self-invoices" / "self_invoice.pdf").read_bytes() == b"theirs"
    (finding,) = document_findings([record])
    assert finding.severity == WARNING and finding.check == "self-invoice"
    assert finding.payout_id == payout.id
    assert finding.message == f"payout {payout.id}: self-invoice self_invoice-000000a1.pdf {problem}"


def test_a_commission_payout_without_document_is_reported(tmp_path):
    payout = replace(PAYOUTS[2], document=None)
    (record,) = collect([payout], tmp_path, FakeAmili({}))
    assert record.status == MISSING and record.file_name is None
    (finding,) = document_findings([record])
    assert finding.message == (f"payout {payout.id}: self-invoice is missing: "
                               "Amili gives no document for this commission payout")


def _place(tmp_path, name: str, data: bytes = PDF) -> None:
    (tmp_path / "self-invoices").mkdir(exist_ok=True)
    (tmp_path / "self-invoices" / name).write_bytes(data)


def test_a_file_an_earlier_run_published_for_this_payout_is_kept_not_downloaded_again(tmp_path):
    payouts = [commission(1, "a.pdf"), commission(2, "b.pdf")]
    fetch = FakeAmili({url(1): PDF, url(2): PDF})
    first = collect(payouts, tmp_path, fetch)
    assert len(fetch.calls) == 2
    for record in first:  # as publish and the manifest leave them
        _place(tmp_path, record.file_name)
    owners = {r.file_name: (r.payout_id, r.sha256) for r in first}
    again = collect(payouts, tmp_path, fetch, owners=owners)
    assert len(fetch.calls) == 2
    assert [(r.status, r.fetched, r.staged) for r in again] == [(IN_PLACE, False, None), (IN_PLACE, False, None)]
    # Only how the file got there differs, and no writer shows that: a re-run writes the same bytes.
    assert [replace(r, fetched=True) for r in again] == list(first)


@pytest.mark.parametrize("present, owner", [
    (PDF.replace(b"Catalog", b"Catalox"), "this payout, other hash"),  # same size, still looks like a PDF
    (PDF[:30], "nobody"),                                              # truncated, no manifest owns it
    (PDF, "another payout"),                                           # another payout's self-invoice
])
def test_a_file_in_the_way_is_never_written_over_the_payout_gets_a_name_of_its_own(tmp_path, present, owner):
    payout = commission(1, "a.pdf")
    _place(tmp_path, "a.pdf", present)
    owners = {"nobody": {},
              "this payout, other hash": {"a.pdf": (payout.id, hashlib.sha256(PDF).hexdigest())},
              "another payout": {"a.pdf": (commission(2).id, hashlib.sha256(PDF).hexdigest())}}[owner]
    fetch = FakeAmili({url(1): PDF})
    (record,) = collect([payout], tmp_path, fetch, owners=owners)
    assert fetch.calls == [url(1)] and record.status == IN_PLACE and record.fetched
    assert record.file_name == "a-000000a1.pdf" and staged(tmp_path, "a-000000a1.pdf").read_bytes() == PDF
    assert (tmp_path / "self-invoices" / "a.pdf").read_bytes() == present


def test_hostile_names_stay_inside_the_folder(tmp_path):
    payouts = [commission(1, "../../escape.pdf"), commission(2, "/etc/passwd"), commission(3, "C:\\x\\CON.pdf"),
               commission(4, "../../escape.pdf")]
    fetch = FakeAmili({url(n): PDF for n in range(1, 5)})
    records = collect(payouts, tmp_path / "out", fetch)
    assert [r.file_name for r in records] == ["escape.pdf", "passwd.pdf", "_CON.pdf", "escape-000000a4.pdf"]
    assert sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*") if p.is_file()) == sorted(
        f"out/staging/self-invoices/{r.file_name}" for r in records)


def test_media_url_fills_the_template():
    doc = Document(file="abc/../x y", name="n.pdf", length=1, content_type="application/pdf")
    default = media_url_for(AmiliSettings(base_url="http://127.0.0.1:9/"))
    assert default(doc) == "http://127.0.0.1:9/media/abc%2F..%2Fx%20y"
    assert media_url("{base_url}/files/{file}?download=1", "https://x.test")(doc) == \
        "https://x.test/files/abc%2F..%2Fx%20y?download=1"


def test_an_error_page_instead_of_the_pdf_is_tried_once_more(tmp_path):
    fetch = FlakyAmili({url(1): [b"<html>502 Bad Gateway</html>", PDF]})
    (record,) = collect([commission(1, "a.pdf")], tmp_path, fetch)
    assert record.status == IN_PLACE and record.fetched and fetch.calls == [url(1), url(1)]
    assert staged(tmp_path, "a.pdf").read_bytes() == PDF


def test_a_download_that_stays_wrong_is_rejected_after_the_second_try(tmp_path):
    fetch = FlakyAmili({url(1): [b"<html>not found</html>"]})
    (record,) = collect([commission(1, "a.pdf")], tmp_path, fetch)
    assert record.status == REJECTED and "is not a PDF" in record.problem
    assert fetch.calls == [url(1), url(1)] and not staged(tmp_path, "a.pdf").exists()
