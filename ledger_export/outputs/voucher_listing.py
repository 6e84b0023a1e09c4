"""The vouchers as plain text beside the SIE file: what it holds, readable without a ledger program."""

from __future__ import annotations

from collections.abc import Mapping

from ledger_export.core.files import Output
from ledger_export.outputs.base import RunData
from ledger_export.outputs.listing import voucher_listing_file


class VoucherListing:
    name = "vouchers"

    def render(self, run: RunData) -> Mapping[str, Output]:
        # The very text ``export --dry-run`` prints; UTF-8, one voucher line per line.
        return {f"{run.names.stem}-vouchers.txt": voucher_listing_file(run.ledger)}
