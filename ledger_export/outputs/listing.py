"""The vouchers as plain text, for ``export --dry-run``: what the SIE file would hold."""

from __future__ import annotations

from ledger_export.ledger.model import Ledger
from ledger_export.core.money import format_amount

NAME_WIDTH = 32


def voucher_listing(ledger: Ledger) -> str:
    out = [f"Vouchers ({len(ledger.vouchers)}):"]
    for number, voucher in enumerate(ledger.vouchers, 1):
        out.append(f"{number:>4}  {voucher.date:%Y-%m-%d}  {voucher.text}")
        for line in voucher.lines:
            name = ledger.account_names.get(line.account, "")[:NAME_WIDTH]
            debit = format_amount(line.debit) if line.amount > 0 else ""
            credit = format_amount(line.credit) if line.amount < 0 else ""
            out.append(f"        {line.account} {name:<{NAME_WIDTH}} {debit:>13} {credit:>13}  {line.text}")
    return "\n".join(out)
