"""The raw snapshot: Amili's answers as they came, so ``export --from-raw`` can book them again offline.

Its files were staged right after the fetch (amili.snapshot.stage_snapshot);
this only names them inside the run's ``raw`` folder.
"""

from __future__ import annotations

from collections.abc import Mapping

from ledger_export.core.files import Output
from ledger_export.outputs.base import RunData


class RawSnapshot:
    name = "raw"

    def render(self, run: RunData) -> Mapping[str, Output]:
        return {f"{run.names.raw}/{name}": content for name, content in run.snapshot.items()}
