"""Company information, financial years, accounts, voucher series and vouchers (scopes companyinformation, bookkeeping).

Fortnox API reference pages: Company Information, Financial Years
(``?date=`` answers the year holding that date, or an empty list), Accounts,
Voucher Series (list key ``VoucherSeriesCollection``), Vouchers (list,
``/vouchers/sublist/{series}``, single ``/vouchers/{series}/{number}``, all
with ``financialyear``/``financialyeardate``, lists with ``fromdate`` and
``todate`` on TransactionDate; Fortnox best practice "Vouchers").
"""

from __future__ import annotations

from typing import Any

from flask import Flask

from ledger_export.sandbox.fortnox import request_values as rv
from ledger_export.sandbox.fortnox.books import FinancialYear, Voucher
from ledger_export.sandbox.fortnox.context import api_url, ctx, lose_answer_if_armed
from ledger_export.sandbox.fortnox.errors import (
    ACCOUNT_NOT_FOUND, FINANCIAL_YEAR_MISSING, NO_DATA, SERIES_NOT_FOUND, VOUCHER_NOT_FOUND, bad_request, not_found,
    required)

VOUCHER_FIELDS = ("Comments", "CostCenter", "Description", "Project", "TransactionDate", "VoucherRows",
                  "VoucherSeries")
VOUCHER_READ_ONLY = ("ReferenceNumber", "ReferenceType", "VoucherNumber", "Year", "ApprovalState")
ROW_FIELDS = ("Account", "CostCenter", "Credit", "Description", "Debit", "Project", "TransactionInformation",
              "Quantity")
ROW_READ_ONLY = ("Removed",)


def _year() -> FinancialYear:
    """The year a request names (financialyear or financialyeardate), else the current one."""
    books = ctx().company.books
    wanted = rv.query_int("financialyear")
    if wanted is not None:
        year = books.year_by_id(wanted)
        if year is None:
            raise not_found(FINANCIAL_YEAR_MISSING, f"Kan inte hitta räkenskapsår {wanted}.")
        return year
    on = rv.query_day("financialyeardate")
    return books.year_of(on) if on is not None else books.current_year(ctx().today())


def company_information() -> dict[str, Any]:
    return {"CompanyInformation": ctx().company.info.to_json()}


def financial_years() -> dict[str, Any]:
    on = rv.query_day("date")
    years = [y for y in ctx().company.books.years if on is None or y.contains(on)]
    return rv.page([y.to_json(api_url()) for y in years], "FinancialYears")


def financial_year(year_id: int) -> dict[str, Any]:
    year = ctx().company.books.year_by_id(year_id)
    if year is None:
        raise not_found(FINANCIAL_YEAR_MISSING, f"Kan inte hitta räkenskapsår {year_id}.")
    return {"FinancialYear": year.to_json(api_url())}


def accounts() -> dict[str, Any]:
    year = _year()
    chart = ctx().company.books.accounts.get(year.id, {})
    return rv.page([chart[n].to_json(api_url(), year.id) for n in sorted(chart)], "Accounts")


def account(number: int) -> dict[str, Any]:
    year = _year()
    found = ctx().company.books.accounts.get(year.id, {}).get(number)
    if found is None:
        raise not_found(ACCOUNT_NOT_FOUND, "Kunde inte hitta konto")
    return {"Account": found.to_json(api_url(), year.id)}


def voucher_series_list() -> dict[str, Any]:
    year = _year()
    series = ctx().company.books.series.get(year.id, {})
    return rv.page([series[c].to_json(api_url(), year.id) for c in sorted(series)], "VoucherSeriesCollection")


def voucher_series(code: str) -> dict[str, Any]:
    year = _year()
    found = ctx().company.books.series.get(year.id, {}).get(code)
    if found is None:
        raise not_found(SERIES_NOT_FOUND, f"Verifikationsserien {code} finns inte.")
    return {"VoucherSeries": found.to_json(api_url(), year.id)}


def _listed(vouchers: list[Voucher]) -> dict[str, Any]:
    start, end = rv.query_day("fromdate"), rv.query_day("todate")
    chosen = [v for v in vouchers if (start is None or v.transaction_date >= start)
              and (end is None or v.transaction_date <= end)]
    chosen.sort(key=lambda v: (v.series, v.number))
    return rv.page([v.subset_json(api_url()) for v in chosen], "Vouchers")


def vouchers() -> dict[str, Any]:
    year = _year()
    return _listed([v for v in ctx().company.books.vouchers if v.year == year.id])


def voucher_sublist(series: str) -> dict[str, Any]:
    year = _year()
    return _listed([v for v in ctx().company.books.vouchers if v.year == year.id and v.series == series])


def voucher(series: str, number: int) -> dict[str, Any]:
    year = _year()
    found = ctx().company.books.find_voucher(series, number, year.id)
    if found is None:
        raise not_found(VOUCHER_NOT_FOUND, f"Kan inte hitta verifikationen {series}{number}.")
    return {"Voucher": found.to_json(api_url())}


def create_voucher() -> tuple[dict[str, Any], int]:
    given = rv.json_body("Voucher")
    rv.check_fields(given, VOUCHER_FIELDS, VOUCHER_READ_ONLY)
    series = rv.text(given, "VoucherSeries", needed=True)
    transaction_date = rv.day(rv.text(given, "TransactionDate", needed=True), "TransactionDate")
    rows_given = given.get("VoucherRows")
    if not isinstance(rows_given, list) or not rows_given:
        raise required("VoucherRows")
    rows = []
    for row in rows_given:
        if not isinstance(row, dict):
            raise bad_request(NO_DATA, "Ingen eller felaktig typ av data.")
        rv.check_fields(row, ROW_FIELDS, ROW_READ_ONLY)
        number = rv.integer(row.get("Account"), "Account")
        rows.append((number, rv.amount(row, "Debit"), rv.amount(row, "Credit"),
                     rv.text(row, "TransactionInformation")))
    made = ctx().company.books.add_voucher(series=series, day=transaction_date,
                                           description=rv.text(given, "Description"),
                                           comments=rv.text(given, "Comments"), rows=rows)
    lose_answer_if_armed("voucher")
    return {"Voucher": made.to_json(api_url())}, 201


def register(app: Flask) -> None:
    app.add_url_rule("/3/companyinformation", view_func=company_information)
    app.add_url_rule("/3/financialyears", view_func=financial_years)
    app.add_url_rule("/3/financialyears/<int:year_id>", view_func=financial_year)
    app.add_url_rule("/3/accounts", view_func=accounts)
    app.add_url_rule("/3/accounts/<int:number>", view_func=account)
    app.add_url_rule("/3/voucherseries", view_func=voucher_series_list)
    app.add_url_rule("/3/voucherseries/<code>", view_func=voucher_series)
    app.add_url_rule("/3/vouchers", view_func=vouchers)
    app.add_url_rule("/3/vouchers", view_func=create_voucher, methods=["POST"], endpoint="create_voucher")
    app.add_url_rule("/3/vouchers/sublist/<series>", view_func=voucher_sublist)
    app.add_url_rule("/3/vouchers/<series>/<int:number>", view_func=voucher)
