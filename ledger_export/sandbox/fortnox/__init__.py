"""The bundled Fortnox sandbox: a small Fortnox company served on 127.0.0.1.

Follows Fortnox's public documentation for every endpoint ledger-export
uses (README.md in this folder lists them, with their fields and errors):
the OAuth token endpoint with refresh-token rotation and client
credentials, company information, financial years, accounts, voucher
series, vouchers, inbox, archive, voucher file connections, invoices,
invoice payments and bookkeep, modes of payments; with Fortnox's error
bodies, its rate limit, and injected faults (answers lost after a write,
5xx, 429, expired tokens, revoked refresh tokens).

    with FortnoxSandbox() as fortnox:
        ...  # fortnox.base_url, fortnox.auth_url, fortnox.client_id, fortnox.state()
"""

from ledger_export.sandbox.fortnox.faults import FortnoxFaults
from ledger_export.sandbox.fortnox.server import FortnoxSandbox, serve_forever

__all__ = ["FortnoxFaults", "FortnoxSandbox", "serve_forever"]
