"""The Excel audit workbook: every voucher, payout, line and self-invoice, with the SIE file's checksum."""

from __future__ import annotations

from collections.abc import Mapping

from ledger_export.core.files import Output, output_digest
from ledger_export.core.version import __version__
from ledger_export.outputs.base import RunData
from ledger_export.outputs.workbook import render_workbook


class WorkbookFile:
    name = "workbook"

    def render(self, run: RunData) -> Mapping[str, Output]:
        sie = run.produced.get(run.names.sie)  # absent when --outputs leaves the SIE file out
        checksums = {run.names.sie: output_digest(sie)[1]} if sie is not None else {}
        workbook = render_workbook(ledger=run.ledger, data=run.data, company=run.settings.company,
                                   creditor=run.data.creditor, generated=run.generated, tool_version=__version__,
                                   documents=run.documents, checksums=checksums,
                                   mapping_rows=run.settings.mapping_rows, fortnox=run.fortnox)
        return {run.names.workbook: workbook}
