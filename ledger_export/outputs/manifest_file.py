"""The manifest: written by every run, last, listing every file the run publishes with its size and hash."""

from __future__ import annotations

from collections.abc import Mapping

from ledger_export.core.files import Output
from ledger_export.core.version import __version__
from ledger_export.outputs.base import RunData
from ledger_export.outputs.manifest import render_manifest


class ManifestFile:
    name = "manifest"

    def render(self, run: RunData) -> Mapping[str, Output]:
        manifest = render_manifest(data=run.data, ledger=run.ledger, creditor=run.data.creditor,
                                   config_sha256=run.settings.config_sha256, generated=run.generated,
                                   tool_version=__version__, documents=run.documents, outputs=run.produced,
                                   orgnr=run.settings.company.orgnr, run_id=run.run_id, mode=run.mode,
                                   fortnox=run.fortnox)
        return {run.names.manifest: manifest}
