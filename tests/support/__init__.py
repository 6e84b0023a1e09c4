"""Builders and fakes the tests share; no tests here, and no test module imports another.

Each module serves one family of tests: ``http_fakes`` (an injected HTTP layer
for the client), ``records`` (Amili records for the ledger), ``audit_pack`` (a
hand-made period and its ledger for the writers), ``fetch_fakes`` (Eve items
for fetch_period), ``documents`` (a fake media server for the self-invoices),
``export_run`` (the export job against the sandbox) and ``hostile`` (a small
consistent June period as Amili's JSON, booked offline, and what sound books
or a clear error look like). tests/test_suite_hygiene.py keeps it that way.
"""
