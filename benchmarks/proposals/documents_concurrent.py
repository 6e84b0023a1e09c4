"""Proposal (monkeypatch, for the benchmark only): collect_documents downloads the PDFs concurrently.

Each payout's document is independent (its own file, its own checks), so
_collect_one can run in the client's pool; the records keep payout order.
Measured: 21 PDFs at 50 ms, concurrency 4: 1.12 s -> 0.32 s.
The real change passes the pool in (e.g. ``run_all=client.map``, a public
name for AmiliClient._map); this patch finds it on the bound client.download.
"""
from pathlib import Path

from ledger_export.writers import documents as d


def _serial(fn, items):
    return [fn(item) for item in items]


def collect_documents(payouts, folder, fetch, url_for, known_sha256=None):
    folder = Path(folder)
    names = d.document_file_names(payouts)
    known_sha256 = known_sha256 or {}
    client = getattr(fetch, "__self__", None)
    run_all = getattr(client, "_map", None) or _serial

    def one(payout):
        if payout.document is None:
            return d.DocumentRecord(payout.id, None, None, None, d.MISSING,
                                    "is missing: Amili gives no document for this commission payout")
        name = names[payout.id]
        return d._collect_one(payout, folder, name, fetch, url_for, known_sha256.get(name))

    wanted = [p for p in payouts if p.document is not None or p.finance_category == d.COMMISSION]
    return tuple(run_all(one, wanted))


d.collect_documents = collect_documents
