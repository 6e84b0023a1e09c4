"""The run summary the terminal shows after mapping: what was booked, where, and what to check."""

from __future__ import annotations

from decimal import Decimal

from ledger_export.amili.models import PeriodData
from ledger_export.core.money import ZERO, format_amount
from ledger_export.ledger.model import ERROR, OK, WARNING, Ledger
from ledger_export.ledger.texts import category_name

NAME_WIDTH = 48


def _amount(value: Decimal, width: int = 14) -> str:
    return format_amount(value).rjust(width)


def _categories(ledger: Ledger, data: PeriodData) -> list[str]:
    booked = {v.payout_id for v in ledger.vouchers}
    # Per category: payouts, vouchers, lines; and amount, VAT, total.
    counts: dict[str, list[int]] = {}
    amounts: dict[str, list[Decimal]] = {}
    for p in data.payouts:
        n = counts.setdefault(p.finance_category, [0, 0, 0])
        a = amounts.setdefault(p.finance_category, [ZERO, ZERO, ZERO])
        n[0] += 1
        if p.id in booked:
            n[1] += 1
            n[2] += len(data.lines_of(p))
            a[0] += p.amount
            a[1] += p.vat_amount
            a[2] += p.total_amount
    out = [f"{'Booked per category':<36}{'payouts':>8}{'vouchers':>9}{'lines':>7}"
           f"{'amount':>14}{'VAT':>14}{'total':>14}"]
    total_n, total_a = [0, 0, 0], [ZERO, ZERO, ZERO]
    for code in sorted(counts):
        n, a = counts[code], amounts[code]
        total_n = [x + y for x, y in zip(total_n, n)]
        total_a = [x + y for x, y in zip(total_a, a)]
        label = f"{code} ({category_name(code)})" if category_name(code) != code else code
        out.append(f"  {label:<34}{n[0]:>8}{n[1]:>9}{n[2]:>7}{_amount(a[0])}{_amount(a[1])}{_amount(a[2])}")
    out.append(f"  {'total':<34}{total_n[0]:>8}{total_n[1]:>9}{total_n[2]:>7}"
               f"{_amount(total_a[0])}{_amount(total_a[1])}{_amount(total_a[2])}")
    return out


def _accounts(ledger: Ledger) -> list[str]:
    sides = ledger.debit_credit()
    out = [f"{'Per account':<{NAME_WIDTH + 8}}{'debit':>14}{'credit':>14}"]
    for account, (debit, credit) in sides.items():
        name = ledger.account_names.get(account, "")[:NAME_WIDTH]
        out.append(f"  {account} {name:<{NAME_WIDTH + 1}}{_amount(debit)}{_amount(credit)}")
    out.append(f"  {'total':<{NAME_WIDTH + 6}}{_amount(sum((d for d, _ in sides.values()), ZERO))}"
               f"{_amount(sum((c for _, c in sides.values()), ZERO))}")
    return out


def _checks(ledger: Ledger) -> list[str]:
    per_check: dict[str, dict[str, int]] = {}
    for f in ledger.findings:
        counts = per_check.setdefault(f.check, dict.fromkeys((OK, WARNING, ERROR), 0))
        counts[f.severity] += 1
    total = {s: sum(c[s] for c in per_check.values()) for s in (OK, WARNING, ERROR)}
    out = [f"Checks: {total[OK]} ok, {total[WARNING]} warning(s), {total[ERROR]} error(s)",
           f"  {'check':<20}{'ok':>6}{'warning':>9}{'error':>7}"]
    # In the order the checks run, so the table reads like the reconciliation itself.
    for check, c in per_check.items():
        status = ERROR if c[ERROR] else WARNING if c[WARNING] else OK
        out.append(f"  {check:<20}{c[OK]:>6}{c[WARNING]:>9}{c[ERROR]:>7}  {status}")
    for f in ledger.findings:
        if f.severity != OK:
            out.append(f"  {f.severity:<8} {f.check:<18}{f.message}")
    return out


def render_summary(ledger: Ledger, data: PeriodData) -> str:
    lines_total = sum(len(v.lines) for v in ledger.vouchers)
    head = (f"Ledger for {data.period.label}: {len(ledger.vouchers)} voucher(s), {lines_total} voucher lines, "
            f"from {len(data.payouts)} payout(s) and {len(data.specifications)} specification line(s)")
    blocks = [[head], _categories(ledger, data), _accounts(ledger), _checks(ledger)]
    return "\n\n".join("\n".join(b) for b in blocks) + "\n"
