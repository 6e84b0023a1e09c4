"""The company's books: financial years, the chart of accounts, voucher series and vouchers.

Field names as Fortnox serialises them (Fortnox API reference: Financial
Years, Accounts, Voucher Series, Vouchers; softwerkab/fortnox-csharp-api-sdk
entities). A voucher is identified by series, number and financial year
(Id of the year, not the calendar year): the same series and number come
back every year. ReferenceType and ReferenceNumber are read-only (Fortnox
sets them; a manual voucher gets MANUAL and an empty number), so a client
that must find its own voucher again writes its reference into Comments or
Description, both of which the voucher list returns.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from ledger_export.sandbox.fortnox.errors import (
    ACCOUNT_INACTIVE, ACCOUNT_NOT_FOUND, FINANCIAL_YEAR_MISSING, SERIES_NOT_FOUND, SERIES_NOT_MANUAL,
    VOUCHER_UNBALANCED, bad_request)


@dataclass
class FinancialYear:
    id: int
    from_date: date
    to_date: date
    account_chart_type: str = "BAS 2024"
    accounting_method: str = "ACCRUAL"

    def contains(self, day: date) -> bool:
        return self.from_date <= day <= self.to_date

    def to_json(self, api: str) -> dict[str, Any]:
        return {"@url": f"{api}/financialyears/{self.id}", "Id": self.id,
                "FromDate": self.from_date.isoformat(), "ToDate": self.to_date.isoformat(),
                "AccountChartType": self.account_chart_type, "AccountingMethod": self.accounting_method}


@dataclass
class Account:
    number: int
    description: str
    active: bool = True
    vat_code: str = ""
    sru: int | None = None

    def to_json(self, api: str, year: int) -> dict[str, Any]:
        return {"@url": f"{api}/accounts/{self.number}?financialyear={year}", "Active": self.active,
                "BalanceBroughtForward": 0, "CostCenter": "", "CostCenterSettings": "ALLOWED",
                "Description": self.description, "Number": self.number, "Project": "",
                "ProjectSettings": "ALLOWED", "SRU": self.sru, "TransactionInformation": "",
                "TransactionInformationSettings": "ALLOWED", "VATCode": self.vat_code, "Year": year}


@dataclass
class VoucherSeries:
    code: str
    description: str
    manual: bool
    next_number: int = 1

    def to_json(self, api: str, year: int) -> dict[str, Any]:
        return {"@url": f"{api}/voucherseries/{self.code}?financialyear={year}", "Code": self.code,
                "Description": self.description, "Manual": self.manual,
                "NextVoucherNumber": self.next_number, "Year": year,
                "Approver": {"Id": 0, "Name": ""}}


@dataclass
class VoucherRow:
    account: int
    debit: Decimal
    credit: Decimal
    description: str  # the account's name, as Fortnox fills it in
    transaction_information: str = ""

    def to_json(self) -> dict[str, Any]:
        return {"Account": self.account, "CostCenter": "", "Credit": self.credit,
                "Description": self.description, "Debit": self.debit, "Project": "",
                "Removed": False, "TransactionInformation": self.transaction_information, "Quantity": 0}


@dataclass
class Voucher:
    series: str
    number: int
    year: int
    transaction_date: date
    description: str
    comments: str
    rows: list[VoucherRow]
    reference_type: str = "MANUAL"
    reference_number: str = ""

    def key(self) -> tuple[str, int, int]:
        return (self.series, self.number, self.year)

    def url(self, api: str) -> str:
        return f"{api}/vouchers/{self.series}/{self.number}?financialyear={self.year}"

    def subset_json(self, api: str) -> dict[str, Any]:
        return {"@url": self.url(api), "ApprovalState": 0, "Comments": self.comments,
                "Description": self.description, "ReferenceNumber": self.reference_number,
                "ReferenceType": self.reference_type, "TransactionDate": self.transaction_date.isoformat(),
                "VoucherNumber": self.number, "VoucherSeries": self.series, "Year": self.year}

    def to_json(self, api: str) -> dict[str, Any]:
        return {**self.subset_json(api), "CostCenter": "", "Project": "",
                "VoucherRows": [r.to_json() for r in self.rows]}


@dataclass
class Books:
    """Everything Fortnox's bookkeeping scope reaches, for every financial year."""

    years: list[FinancialYear]
    accounts: dict[int, dict[int, Account]]  # year id -> number -> account
    series: dict[int, dict[str, VoucherSeries]]  # year id -> code -> series
    vouchers: list[Voucher] = field(default_factory=list)

    def year_of(self, day: date) -> FinancialYear:
        for year in self.years:
            if year.contains(day):
                return year
        raise bad_request(FINANCIAL_YEAR_MISSING, f"Räkenskapsår saknas för datum {day.isoformat()}.")

    def year_by_id(self, year_id: int) -> FinancialYear | None:
        return next((y for y in self.years if y.id == year_id), None)

    def current_year(self, today: date) -> FinancialYear:
        """The year a request means when it names none: today's, else the latest there is."""
        return next((y for y in self.years if y.contains(today)), max(self.years, key=lambda y: y.to_date))

    def account(self, year: int, number: int) -> Account:
        found = self.accounts.get(year, {}).get(number)
        if found is None:
            raise bad_request(ACCOUNT_NOT_FOUND, f"Kunde inte hitta konto {number}")
        return found

    def add_voucher(self, *, series: str, day: date, description: str, comments: str,
                    rows: list[tuple[int, Decimal, Decimal, str]], manual: bool = True,
                    reference_type: str = "MANUAL", reference_number: str = "") -> Voucher:
        """Check a voucher as Fortnox does, then give it the series' next number in its year."""
        year = self.year_of(day)
        found = self.series.get(year.id, {}).get(series)
        if found is None:
            raise bad_request(SERIES_NOT_FOUND, f"Verifikationsserien {series} finns inte.")
        if manual and not found.manual:
            raise bad_request(SERIES_NOT_MANUAL, f"Verifikationsserien är inte manuell ({series}).")
        built = []
        for number, debit, credit, info in rows:
            account = self.account(year.id, number)
            if not account.active:
                raise bad_request(ACCOUNT_INACTIVE, f"Konto {number} är inte aktivt.")
            built.append(VoucherRow(number, debit, credit, account.description, info))
        debits, credits = sum(r.debit for r in built), sum(r.credit for r in built)
        if not built or debits != credits:
            raise bad_request(VOUCHER_UNBALANCED,
                              f"Verifikationen är inte i balans (debet {debits}, kredit {credits}).")
        voucher = Voucher(series, found.next_number, year.id, day, description, comments, built,
                          reference_type, reference_number)
        found.next_number += 1
        self.vouchers.append(voucher)
        return voucher

    def find_voucher(self, series: str, number: int, year: int) -> Voucher | None:
        return next((v for v in self.vouchers if v.key() == (series, number, year)), None)
