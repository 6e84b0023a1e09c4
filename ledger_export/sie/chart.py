"""``--chart FILE``: the target ledger's chart of accounts, read from the company's own SIE export."""

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


def read_chart(path: str | Path) -> Chart:
    """The accounts (number -> name) a SIE file declares with #KONTO."""
    sie = read_sie_file(path)
    # Names are often padded to a fixed width (SoftOne writes "Kassa     ").
    accounts = {account: name.strip() for number, name in sie.accounts.items()
                if (account := _account_number(number)) is not None and is_account(account)}
    if not accounts:
        raise ChartError(f"{path}: has no #KONTO records with four-digit accounts; "
                         "export the chart of accounts (SIE 4 or SIE 1) from the ledger")
    return Chart(MappingProxyType(dict(sorted(accounts.items()))), str(path))
