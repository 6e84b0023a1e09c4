"""One Fortnox company (tenant): its information, books, documents and sales, and the state tests read."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ledger_export.sandbox.fortnox.books import Books
from ledger_export.sandbox.fortnox.documents import Documents
from ledger_export.sandbox.fortnox.sales import Sales


@dataclass
class CompanyInformation:
    name: str
    organization_number: str  # as Fortnox shows it: 556677-8899
    database_number: int  # identical to the tenant id (Fortnox blog: client credentials)
    address: str = ""
    zip_code: str = ""
    city: str = ""

    def to_json(self) -> dict[str, Any]:
        return {"Address": self.address, "City": self.city, "CountryCode": "SE",
                "DatabaseNumber": self.database_number, "CompanyName": self.name,
                "OrganizationNumber": self.organization_number, "VisitAddress": self.address,
                "VisitCity": self.city, "VisitCountryCode": "SE", "VisitZipCode": self.zip_code,
                "ZipCode": self.zip_code}


@dataclass
class Company:
    info: CompanyInformation
    books: Books
    sales: Sales
    documents: Documents

    def state(self, api: str) -> dict[str, Any]:
        """Everything a test asserts on ("posted exactly once"), amounts as JSON numbers with their öre."""
        return {
            "CompanyInformation": self.info.to_json(),
            "Vouchers": [v.to_json(api) for v in self.books.vouchers],
            "Files": [f.state() for f in self.documents.files],
            "VoucherFileConnections": [c.to_json(api) for c in self.documents.connections],
            "Invoices": [i.to_json(api) for i in self.sales.invoices.values()],
            "InvoicePayments": [p.to_json(api) for p in self.sales.payments],
            "VoucherSeries": {str(y): {c: s.next_number for c, s in series.items()}
                              for y, series in self.books.series.items()},
        }
