"""Which fiscal year each voucher falls in, checked before anything is written.

Fortnox refuses a voucher dated outside a financial year the company has
in the ledger, and imports a file into one financial year. With ``--chart``
the ledger's own export says which years exist (#RAR): a voucher dated in
none of them stops the run. Without it, only the ``[company]
fiscal_year_start_month`` setting is known: a voucher in another fiscal
year than the file's latest one is a warning, since the ledger must have
that year open and the file may have to be imported in two parts.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta

from dateutil.relativedelta import relativedelta

from ledger_export.ledger.chart import Chart, ChartError
from ledger_export.ledger.model import OK, WARNING, Finding, Voucher

Year = tuple[date, date]


class OutsideFiscalYearsError(ChartError):
    """A voucher dated in no fiscal year the --chart file declares: nothing is written."""


def fiscal_year_of(day: date, start_month: int) -> Year:
    """The fiscal year ``day`` is in, for years that start on the first of ``start_month``."""
    year = day.year if day.month >= start_month else day.year - 1
    start = date(year, start_month, 1)
    return start, start + relativedelta(years=1) - timedelta(days=1)


def describe(year: Year) -> str:
    return f"{year[0]} to {year[1]}"


def chart_year_of(day: date, years: Sequence[Year]) -> Year | None:
    return next((year for year in years if year[0] <= day <= year[1]), None)


def require_chart_years(vouchers: Sequence[Voucher], chart: Chart) -> None:
    """Refuse, naming the first such voucher's date and payout, a voucher dated in no year of the chart."""
    if not chart.fiscal_years:
        return  # a chart without #RAR says nothing about the years (fiscal_year_findings warns instead)
    outside = [v for v in vouchers if chart_year_of(v.date, chart.fiscal_years) is None]
    if outside:
        first = outside[0]
        more = f" (and {len(outside) - 1} more voucher(s))" if len(outside) > 1 else ""
        years = ", ".join(describe(y) for y in chart.fiscal_years)
        raise OutsideFiscalYearsError(
            f"the voucher for payout {first.payout_id} is dated {first.date}{more}, outside every fiscal year "
            f"the chart in {chart.source} declares (#RAR: {years}): create the fiscal year in the ledger and "
            f"export the chart again; nothing was written")


def fiscal_year_findings(vouchers: Sequence[Voucher], start_month: int, chart: Chart | None = None) -> tuple[Finding, ...]:
    """Per voucher: ok in the fiscal year of the file's latest voucher (its #RAR 0), else a warning.

    The years are the chart's (#RAR) when it declares them, else those the
    start month gives.
    """
    if not vouchers:
        return ()
    years = chart.fiscal_years if chart is not None else ()

    def year_of(day: date) -> Year:
        return (chart_year_of(day, years) if years else None) or fiscal_year_of(day, start_month)

    latest = year_of(max(v.date for v in vouchers))
    setting = f"the chart's #RAR in {chart.source}" if years and chart is not None \
        else f"[company] fiscal_year_start_month = {start_month}"
    findings = []
    for v in vouchers:
        year = year_of(v.date)
        if year == latest:
            findings.append(Finding("fiscal_year", OK, f"payout {v.payout_id}: dated {v.date}, in the fiscal "
                                                       f"year {describe(year)}", v.payout_id))
        else:
            findings.append(Finding(
                "fiscal_year", WARNING,
                f"payout {v.payout_id}: dated {v.date}, in the fiscal year {describe(year)}, not {describe(latest)} "
                f"of the file's latest voucher ({setting}): the ledger must have both years open, and may import "
                f"the file into one of them only", v.payout_id))
    return tuple(findings)
