"""The vouchers as plain text: what the SIE file holds, for ``export --dry-run`` and the voucher listing file."""

from __future__ import annotations

import io
from collections.abc import Iterator

from ledger_export.ledger.model import Ledger
from ledger_export.core.money import format_amount

NAME_WIDTH = 32


def voucher_lines(ledger: Ledger) -> Iterator[str]:
    yield f"Vouchers ({len(ledger.vouchers)}):"
    for number, voucher in enumerate(ledger.vouchers, 1):
        yield f"{number:>4}  {voucher.date:%Y-%m-%d}  {voucher.text}"
        for line in voucher.lines:
            name = ledger.account_names.get(line.account, "")[:NAME_WIDTH]
            debit = format_amount(line.debit) if line.amount > 0 else ""
            credit = format_amount(line.credit) if line.amount < 0 else ""
            yield f"        {line.account} {name:<{NAME_WIDTH}} {debit:>13} {credit:>13}  {line.text}"


def voucher_listing(ledger: Ledger) -> str:
    return "\n".join(voucher_lines(ledger))


def voucher_listing_file(ledger: Ledger) -> bytes:
    """The listing as a UTF-8 text file, every line ended by a newline.

    Written line by line into one buffer: 100,000 ledger lines make 10 MB of
    text, and the whole text, its copy with the last newline and its
    encoding need not be in memory at once beside the other outputs.
    """
    out = io.BytesIO()
    for line in voucher_lines(ledger):
        out.write(line.encode("utf-8"))
        out.write(b"\n")
    return out.getvalue()
