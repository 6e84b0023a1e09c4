"""BAS 2024/2025 account names for the accounts the default mapping can book on.

Used for #KONTO and the workbook when no target chart (``--chart``) is given.
A company's own chart always wins: Fortnox and Visma import names they
already have, and a name that differs only confuses the bookkeeper.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

BAS_NAMES: Mapping[int, str] = MappingProxyType({
    1510: "Kundfordringar",
    1519: "Nedskrivning av kundfordringar",
    1680: "Andra kortfristiga fordringar",
    1689: "Övriga kortfristiga fordringar",
    # Amili's ledger_account is always in 1900-1999: the whole class is named
    # so a payout to any of the creditor's bank accounts gets a proper name.
    1910: "Kassa",
    1920: "PlusGiro",
    1930: "Företagskonto/checkkonto/affärskonto",
    1940: "Övriga bankkonton",
    1950: "Bankcertifikat",
    1960: "Koncernkonto moderföretag",
    1970: "Särskilda bankkonton",
    1980: "Valutakonton",
    1990: "Redovisningsmedel",
    2611: "Utgående moms på försäljning inom Sverige, 25 %",
    2621: "Utgående moms på försäljning inom Sverige, 12 %",
    2631: "Utgående moms på försäljning inom Sverige, 6 %",
    2999: "OBS-konto",
    3921: "Provisionsintäkter",
    3990: "Övriga ersättningar, bidrag och intäkter",
    6062: "Inkasso och KFM-avgifter",
    8313: "Ränteintäkter från kortfristiga fordringar",
})


def is_account(value: object) -> bool:
    """A BAS account number: four digits, 1000-9999 (Amili's ledger_account is one too)."""
    return isinstance(value, int) and not isinstance(value, bool) and 1000 <= value <= 9999


def account_name(account: int, *, chart: Mapping[int, str] | None = None,
                 overrides: Mapping[int, str] | None = None) -> str:
    """The name #KONTO and the workbook show: target chart, then configured name, then BAS."""
    for names in (chart, overrides, BAS_NAMES):
        if names and account in names:
            return names[account]
    # An account the user mapped that is in neither list: a plain label beats an
    # empty #KONTO name, and the chart check (when a chart is given) refuses it anyway.
    return f"Konto {account}"
