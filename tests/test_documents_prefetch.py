"""Self-invoices downloaded in the fetch's round, and several downloads at once."""

from __future__ import annotations

import hashlib
import threading
from concurrent.futures import ThreadPoolExecutor

from ledger_export.core.errors import NotFoundError, ServiceUnavailableError
from ledger_export.amili.documents import FAILED, IN_PLACE, MISSING, missing_documents
from ledger_export.outputs.self_invoices import OnDisk
from support.documents import PDF, URL, FakeAmili, FlakyAmili, collect, commission, staged, url


def test_a_prefetched_pdf_is_not_downloaded_again(tmp_path):
    fetch = FakeAmili({})
    (record,) = collect([commission(1, "a.pdf")], tmp_path, fetch, prefetched={url(1): PDF})
    assert fetch.calls == [] and record.status == IN_PLACE and record.fetched
    assert staged(tmp_path, "a.pdf").read_bytes() == PDF


def test_a_prefetched_error_means_what_the_download_error_means(tmp_path):
    fetch = FakeAmili({})
    prefetched = {url(1): NotFoundError(f"404 Not Found: {url(1)}", url=url(1), status=404),
                  url(2): ServiceUnavailableError("Amili answered 503 after 5 retries", status=503)}
    missing, failed = collect([commission(1, "a.pdf"), commission(2, "b.pdf")], tmp_path, fetch,
                              prefetched=prefetched)
    assert fetch.calls == []
    assert (missing.status, missing.problem) == (MISSING, f"is missing: Amili has no file "
                                                          f"6650000000000000000000f1 ({url(1)})")
    assert (failed.status, failed.problem) == (FAILED, "could not be downloaded: Amili answered 503 after 5 retries")
    assert list(tmp_path.iterdir()) == []


def test_a_prefetched_body_that_is_not_the_pdf_is_downloaded_once_more(tmp_path):
    fetch = FlakyAmili({url(1): [PDF]})
    (record,) = collect([commission(1, "a.pdf")], tmp_path, fetch,
                        prefetched={url(1): b"<html>502 Bad Gateway</html>"})
    assert fetch.calls == [url(1)] and record.status == IN_PLACE and record.fetched


def _keep(tmp_path, payout, data=PDF):
    """``data`` in self-invoices/ as an earlier run published it for ``payout``; its manifest entry."""
    (tmp_path / "self-invoices").mkdir(exist_ok=True)
    (tmp_path / "self-invoices" / payout.document.name).write_bytes(data)
    return {payout.document.name: (payout.id, hashlib.sha256(data).hexdigest())}


def test_a_file_in_place_wins_over_a_prefetched_body(tmp_path):
    payout = commission(1, "a.pdf")
    (record,) = collect([payout], tmp_path, FakeAmili({}), owners=_keep(tmp_path, payout),
                        prefetched={url(1): b"%PDF- something else"})
    assert record.status == IN_PLACE and not record.fetched and record.staged is None


def test_missing_documents_names_only_what_is_not_in_place(tmp_path):
    payouts = [commission(1, "a.pdf"), commission(2, "b.pdf"), commission(3, "c.pdf")]
    owners = _keep(tmp_path, payouts[0])                   # in place: not asked for
    owners |= _keep(tmp_path, payouts[1], PDF[:20])        # truncated: asked for again, under another name
    on_disk = OnDisk(tmp_path / "self-invoices", owners)
    assert missing_documents(payouts, on_disk.file_names(payouts), on_disk.kept, URL) == [url(2), url(3)]
    # Exactly what collect_documents then downloads, when nothing was fetched before.
    fetch = FakeAmili({url(n): PDF for n in (1, 2, 3)})
    records = collect(payouts, tmp_path, fetch, owners=owners)
    assert fetch.calls == [url(2), url(3)]
    assert [r.file_name for r in records] == ["a.pdf", "b-000000a2.pdf", "c.pdf"]


def test_downloads_run_through_run_all_and_records_keep_payout_order(tmp_path):
    payouts = [commission(n, f"{n}.pdf") for n in range(1, 5)]
    all_at_once = threading.Barrier(4, timeout=5)  # passes only if the four downloads overlap

    def fetch(u):
        all_at_once.wait()
        return PDF

    with ThreadPoolExecutor(4) as pool:
        records = collect(payouts, tmp_path, fetch, run_all=lambda fn, items: list(pool.map(fn, items)))
    assert [r.payout_id for r in records] == [p.id for p in payouts]
    assert all(r.status == IN_PLACE for r in records)
    assert sorted(p.name for p in (tmp_path / "staging" / "self-invoices").iterdir()) == [
        f"{n}.pdf" for n in range(1, 5)]
