"""The bundled Amili sandbox: a real Eve application on an in-memory MongoDB.

Seeded with the sample period (samples/amili), served on 127.0.0.1 only,
with Amili's authentication and optional fault injection, so the tool can be
tried and tested with no network and no key.

    with Sandbox() as sandbox:
        requests.get(f"{sandbox.base_url}/finance--payouts", headers={"X-API-Key": sandbox.api_key})
"""

from ledger_export.sandbox.faults import Faults
from ledger_export.sandbox.server import Sandbox, serve_forever

__all__ = ["Faults", "Sandbox", "serve_forever"]
