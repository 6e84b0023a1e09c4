"""Checks of a SIE file's vouchers and accounts: balance, dates, declared accounts, text lengths."""

from __future__ import annotations

from collections.abc import Iterator

from ledger_export.sie import fields

from ledger_export.sie import rules
from ledger_export.sie.model import ERROR, WARNING, FindingSeverity, SieFile, SieFinding


def check_balance(file: SieFile) -> Iterator[SieFinding]:
    """§11 #TRANS 4: the #TRANS amounts of a voucher sum to zero (#BTRANS rows are struck out)."""
    for voucher in file.vouchers:
        if not voucher.complete or not voucher.has_block:
            continue  # a row could not be read; that is reported, and a sum would mislead
        if not voucher.transactions and not voucher.removed:
            yield SieFinding(WARNING, voucher.line, "empty-voucher",
                             f"voucher {voucher.label} has no #TRANS rows")
            continue
        difference = voucher.balance()
        if difference:
            side = "debit" if difference > 0 else "credit"
            yield SieFinding(ERROR, voucher.line, "unbalanced", (
                f"voucher {voucher.label} (line {voucher.line}) does not balance: its #TRANS rows sum to "
                f"{difference} ({side} exceeds by {abs(difference)}), they must sum to 0"))


def check_dates(file: SieFile) -> Iterator[SieFinding]:
    """Voucher dates inside a declared fiscal year.

    A warning, not an error: the spec sets no rule tying #VER dates to #RAR,
    and what decides an import is whether the target company has the year
    open, which a file cannot tell. A date outside every year the file
    declares is still almost always a mistake.
    """
    years = sorted(file.fiscal_years.items())
    if 0 not in file.fiscal_years:
        return
    current = file.fiscal_years[0]
    for voucher in file.vouchers:
        day = voucher.date
        if day is None or any(start <= day <= end for _, (start, end) in years):
            continue
        declared = ", ".join(f"#RAR {n} {s:%Y%m%d}-{e:%Y%m%d}" for n, (s, e) in years)
        yield SieFinding(WARNING, voucher.line, "date-outside-year", (
            f"voucher {voucher.label} is dated outside the fiscal year #RAR 0 "
            f"({current[0]} to {current[1]}) and every other declared year ({declared})"))


def check_numbering(file: SieFile) -> Iterator[SieFinding]:
    """§11 #VER 7: numbered vouchers of one series come in ascending number order."""
    last: dict[str, tuple[int, int]] = {}
    for voucher in file.vouchers:
        number, problem = fields.parse_int(voucher.number, "voucher number")
        if number is None or number < 0:
            continue  # unnumbered, or not a plain number: nothing to order by
        previous = last.get(voucher.series)
        if previous is not None and number <= previous[0]:
            yield SieFinding(ERROR, voucher.line, "voucher-order", (
                f"voucher {voucher.label} comes after number {previous[0]} of the same series "
                f"(line {previous[1]}); numbered vouchers must be in ascending order (§11 #VER)"))
        last[voucher.series] = (number, voucher.line)


def check_accounts(file: SieFile, kind: str) -> Iterator[SieFinding]:
    """Every account used is declared with #KONTO: required of exports, recommended for imports (§6)."""
    first_use: dict[str, tuple[int, str, int]] = {}

    def use(account: str, line: int, label: str) -> None:
        line0, label0, count = first_use.get(account, (line, label, 0))
        if line < line0:  # rows are counted before balances, which come first in the file
            line0, label0 = line, label
        first_use[account] = (line0, label0, count + 1)

    for voucher in file.vouchers:
        for row in (*voucher.transactions, *voucher.added, *voucher.removed):
            use(row.account, row.line, "#" + row.kind)
    for balance in file.balances:
        use(balance.account, balance.line, "#" + balance.kind)
    severity: FindingSeverity = WARNING if kind == "4I" else ERROR
    why = ("the importing program must already have it; the spec recommends declaring every account"
           if kind == "4I" else f"a type {kind} file must declare every account it uses")
    for account, (line, label, count) in sorted(first_use.items(), key=lambda item: item[1][0]):
        if account not in file.accounts:
            times = f", used by {count} records, the first here" if count > 1 else ""
            yield SieFinding(severity, line, "undeclared-account",
                             f"{label}: account {account} has no #KONTO ({why}){times}")


def check_texts(file: SieFile) -> Iterator[SieFinding]:
    """Fortnox cuts voucher and row texts after 50 characters; say which would lose their end."""
    for voucher in file.vouchers:
        rows = (*voucher.transactions, *voucher.added, *voucher.removed)
        for line, what, text in ((voucher.line, "#VER", voucher.text),
                                 *((r.line, "#" + r.kind, r.text) for r in rows)):
            if len(text) > rules.TEXT_LIMIT:
                yield SieFinding(WARNING, line, "text-too-long", (
                    f"{what} text has {len(text)} characters; Fortnox keeps {rules.TEXT_LIMIT}, "
                    f"so {text[rules.TEXT_LIMIT:]!r} is lost"))
