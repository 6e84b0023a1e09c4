"""Proposal (monkeypatch, for the benchmark only; needs fetch_plan.py):
the self-invoice PDFs go out in the same round as the lines.

fetch_period learns the commission payouts' documents from page 1 of the payouts,
so their downloads can share the pool with the specification pages instead of
waiting for the ledger. The bytes (or the download's error) are kept for
collect_documents, whose fetch looks there first.
"""
from ledger_export.amili import fetch
from ledger_export.errors import LedgerExportError
from ledger_export.writers import documents

from ledger_export.amili import client as client_module

if not hasattr(client_module, "ListQuery"):
    raise SystemExit("documents_prefetch.py needs fetch_plan.py: pass --patch fetch_plan.py before it")
ListQuery = client_module.ListQuery

PREFETCHED: dict[str, object] = {}
MEDIA = "{base_url}/media/{file}"  # the default [amili] media_url (the real change passes url_for in)


def _download(client, url):
    try:
        return client.download(url)
    except LedgerExportError as exc:  # collect_documents decides what a failed download means
        return exc


_plain_fetch_period = fetch.fetch_period


def fetch_period(client, creditor, period, *, created_since=None):
    in_period = {"$gte": fetch.timestamps.format(period.start),
                 "$lt": fetch.timestamps.format(period.end_exclusive)}
    where = {"creditor": creditor, "payout_date": in_period}
    if created_since is not None:
        where["_created"] = {"$gte": fetch.timestamps.format(created_since)}
    (payouts,) = client.list_many([ListQuery(fetch.PAYOUTS, where)])
    fetch._check(fetch.PAYOUTS, payouts, creditor, "payout_date", period)
    batches = fetch.plan_batches(payouts, page=client.page_size)
    urls = [MEDIA.replace("{base_url}", client.base_url).replace("{file}", p["document"]["file"])
            for p in payouts if isinstance(p.get("document"), dict) and p["document"].get("file")]
    lists, pdfs = client.list_many(
        [ListQuery(fetch.SPECIFICATIONS, {"payout": {"$in": ids}}, n) for ids, n in batches]
        + [ListQuery(fetch.PAYMENTS, {"creditor": creditor, "booking_date": in_period})],
        extra=[lambda u=u: _download(client, u) for u in urls])
    *found, payments = lists
    fetch._check(fetch.PAYMENTS, payments, creditor, "booking_date", period)
    PREFETCHED.update(zip(urls, pdfs))
    lines = []
    for (ids, _), batch in zip(batches, found):
        fetch._check_payout(batch, set(ids))
        lines.extend(batch)
    return fetch.RawPeriod(creditor=creditor, period=period, base_url=client.base_url,
                           payouts=fetch._stable(fetch.PAYOUTS, payouts),
                           specifications=fetch._stable(fetch.SPECIFICATIONS, fetch._unique(lines)),
                           payments=fetch._stable(fetch.PAYMENTS, payments))


_collect = documents.collect_documents


def collect_documents(payouts, folder, fetch_one, url_for, known_sha256=None):
    def cached(url):
        got = PREFETCHED.pop(url, None)
        if got is None:
            return fetch_one(url)
        if isinstance(got, Exception):
            raise got
        return got
    cached.__self__ = getattr(fetch_one, "__self__", None)  # docs_parallel's pool, if loaded
    return _collect(payouts, folder, cached, url_for, known_sha256)


fetch.fetch_period = fetch_period
documents.collect_documents = collect_documents
