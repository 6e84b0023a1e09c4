"""The SIE 4 import file, checked by our own reader before anyone else sees it."""

from __future__ import annotations

from collections.abc import Mapping

from ledger_export.core.errors import OutputError
from ledger_export.core.files import Output
from ledger_export.core.version import __version__
from ledger_export.outputs.base import RunData
from ledger_export.sie.chart import DEFAULT_CHART_TYPE
from ledger_export.sie.validate import validate as validate_sie
from ledger_export.sie.writer import render_sie


class SieFile:
    name = "sie"

    def render(self, run: RunData) -> Mapping[str, Output]:
        settings = run.settings
        chart = run.chart
        sie = render_sie(run.ledger, settings.company, generated=run.generated.date(), program_version=__version__,
                         ksumma=settings.ksumma,
                         chart_type=(chart.chart_type if chart else None) or DEFAULT_CHART_TYPE,
                         known_years=chart.fiscal_years if chart else ())
        problems = [f for f in validate_sie(sie, run.names.sie) if f.severity == "error"]
        if problems:  # our own file failed our own reader: a bug, but never hand it to the bookkeeper
            first = problems[0]
            raise OutputError(f"the SIE file we made does not validate, so nothing was written: "
                              f"line {first.line}: {first.message}")
        return {run.names.sie: sie}
