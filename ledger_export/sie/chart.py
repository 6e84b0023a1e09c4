"""``--chart FILE``: the target ledger's chart of accounts, read from the company's own SIE export.

Besides the accounts (#KONTO), the export says which fiscal years the
ledger has (#RAR: a voucher dated outside them is refused by Fortnox) and
which chart type its accounts follow (#KPTYP), which our file then declares.
"""

from __future__ import annotations

from pathlib import Path
from types import MappingProxyType

from ledger_export.ledger.accounts import is_account
from ledger_export.ledger.chart import Chart, ChartError
from ledger_export.sie.reader import read_sie_file


def _account_number(text: str) -> int | None:
    """A #KONTO number as a number; None when it is none an account can have.

    ASCII digits only: int() reads other scripts' digits ("١٩٣٠") too and raises on "²",
    which isdigit() passes; and on more than 4300 digits, which no account has.
    """
    digits = text.lstrip("0")
    if not (text.isascii() and text.isdigit() and len(digits) <= 4):
        return None
    return int(digits or "0")


# §11 #KPTYP: the types SIE knows. A file without #KPTYP is read as BAS95; the BAS charts of
# today (BAS 2014 ... BAS 2025, which the default mapping follows) keep EU-BAS 97's structure,
# and the spec says a type such as BAS2025 is to be read as EUBAS97.
CHART_TYPES = ("BAS95", "BAS96", "EUBAS97", "NE2007")
DEFAULT_CHART_TYPE = "EUBAS97"


def chart_type(declared: str) -> str | None:
    """The SIE chart type a #KPTYP value means; None when it names none.

    Any BAS version after 1997 ("BAS2014", "BAS 2024", "BAS") is EUBAS97 in
    structure (§11: a type starting BAS2 is handled as EUBAS97).
    """
    value = declared.strip().upper().replace(" ", "").replace("-", "")
    if value in CHART_TYPES:
        return value
    if value.startswith("BAS2") or value == "BAS":
        return DEFAULT_CHART_TYPE
    return None


def read_chart(path: str | Path) -> Chart:
    """The accounts (number -> name) a SIE file declares with #KONTO."""
    sie = read_sie_file(path)
    # Names are often padded to a fixed width (SoftOne writes "Kassa     ").
    accounts = {account: name.strip() for number, name in sie.accounts.items()
                if (account := _account_number(number)) is not None and is_account(account)}
    if not accounts:
        raise ChartError(f"{path}: has no #KONTO records with four-digit accounts; "
                         "export the chart of accounts (SIE 4 or SIE 1) from the ledger")
    declared = next((r.fields[0].text for r in sie.records if r.label == "#KPTYP" and r.fields), "")
    years = tuple(sorted(set(sie.fiscal_years.values())))
    return Chart(MappingProxyType(dict(sorted(accounts.items()))), str(path), fiscal_years=years,
                 chart_type=chart_type(declared) if declared else None)
