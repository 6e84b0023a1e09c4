"""Three-way reconciliation per payout: the payout, its specification lines, its summary.

Every check yields a Finding with a status, OK included, so the workbook can
show that a check ran and passed. A difference is reported with the figures
on both sides and is never absorbed into the booking.

Amounts that disagree are errors: the money booked would not be the money
Amili says it paid. A count that disagrees while the amounts agree, a VAT
amount off the mapped rate, and a line outside its payout's category are
warnings: the booking is still the money paid, but someone should look.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal

from ledger_export.amili.models import Payout, PeriodData, Specification
from ledger_export.core.money import ORE, ZERO, format_amount, round_ore
from ledger_export.core.period import Period
from ledger_export.ledger.mapping import AccountMap
from ledger_export.ledger.model import ERROR, OK, WARNING, Finding, Ledger

FIELDS = ("amount", "vat_amount", "total_amount")
# Lines listed by name in one message; the rest are counted.
SHOWN = 5


def _sum(records: Iterable[object], name: str) -> Decimal:
    return sum((getattr(r, name) for r in records), ZERO)


def _label(line: Specification) -> str:
    return f"line {line.id}" + (f" (invoice {line.invoice_number})" if line.invoice_number else "")


def _listing(items: list[str]) -> str:
    more = f"; and {len(items) - SHOWN} more" if len(items) > SHOWN else ""
    return "; ".join(items[:SHOWN]) + more


def _differences(ours: dict[str, Decimal], theirs: dict[str, Decimal], our_name: str, their_name: str) -> list[str]:
    return [f"{name} {our_name} {format_amount(ours[name])} vs {their_name} {format_amount(theirs[name])} "
            f"(difference {format_amount(ours[name] - theirs[name])})"
            for name in FIELDS if ours[name] != theirs[name]]


def _payout_totals(p: Payout) -> Finding:
    expected = p.amount + p.vat_amount
    if expected == p.total_amount:
        return Finding("payout_totals", OK, f"payout {p.id}: amount + vat_amount = total_amount", p.id)
    return Finding("payout_totals", ERROR,
                   f"payout {p.id}: amount {format_amount(p.amount)} + vat_amount {format_amount(p.vat_amount)} "
                   f"= {format_amount(expected)}, but total_amount is {format_amount(p.total_amount)}", p.id)


def _line_totals(p: Payout, lines: tuple[Specification, ...]) -> Finding:
    bad = [f"{_label(s)} {format_amount(s.amount)} + {format_amount(s.vat_amount)} "
           f"!= {format_amount(s.total_amount)}" for s in lines if s.amount + s.vat_amount != s.total_amount]
    if not bad:
        return Finding("line_totals", OK, f"payout {p.id}: every line's amount + vat_amount = total_amount", p.id)
    return Finding("line_totals", ERROR, f"payout {p.id}: {len(bad)} line(s) where amount + vat_amount "
                                         f"!= total_amount: {_listing(bad)}", p.id)


def _lines_vs_payout(p: Payout, lines: tuple[Specification, ...]) -> Finding:
    sums = {name: _sum(lines, name) for name in FIELDS}
    diffs = _differences(sums, {name: getattr(p, name) for name in FIELDS}, "lines", "payout")
    if not diffs:
        return Finding("lines_vs_payout", OK, f"payout {p.id}: its {len(lines)} lines sum to its totals", p.id)
    return Finding("lines_vs_payout", ERROR, f"payout {p.id}: {len(lines)} lines disagree: {'; '.join(diffs)}", p.id)


def _line_category(p: Payout, lines: tuple[Specification, ...]) -> Finding:
    odd = [f"{_label(s)} is {s.finance_category}" for s in lines if s.finance_category != p.finance_category]
    if not odd:
        return Finding("line_category", OK, f"payout {p.id}: every line is {p.finance_category}", p.id)
    return Finding("line_category", WARNING, f"payout {p.id} is {p.finance_category} but {len(odd)} line(s) "
                                             f"are not (booked by their own category): {_listing(odd)}", p.id)


def _vat_off(amount: Decimal, vat: Decimal, rate: int, tolerance: Decimal) -> Decimal | None:
    expected = round_ore(amount * rate / 100)
    return expected if abs(vat - expected) > tolerance else None


def _vat_rate(p: Payout, lines: tuple[Specification, ...], amap: AccountMap) -> Finding | None:
    bad, checked = [], 0
    if lines:
        for s in lines:
            rate = amap.rule(s.finance_category, s.article).vat_rate
            if rate:
                checked += 1
                expected = _vat_off(s.amount, s.vat_amount, rate, ORE)
                if expected is not None:
                    bad.append(f"{_label(s)} {s.article} amount {format_amount(s.amount)} vat "
                               f"{format_amount(s.vat_amount)}, {rate} % is {format_amount(expected)}")
    else:
        # Each line was rounded on its own, so the summary may be off by an öre per line.
        for article, summary in sorted(p.summary.items()):
            rate = amap.rule(p.finance_category, article).vat_rate
            if rate:
                checked += 1
                expected = _vat_off(summary.amount, summary.vat_amount, rate, ORE * max(summary.count, 1))
                if expected is not None:
                    bad.append(f"summary {article} amount {format_amount(summary.amount)} vat "
                               f"{format_amount(summary.vat_amount)}, {rate} % is {format_amount(expected)}")
    if not checked:
        return None
    if not bad:
        return Finding("vat_rate", OK, f"payout {p.id}: VAT matches the mapped rate within 1 öre per line", p.id)
    return Finding("vat_rate", WARNING, f"payout {p.id}: {len(bad)} VAT amount(s) off the mapped rate by more "
                                        f"than 1 öre (booked as given): {_listing(bad)}", p.id)


def _summary_vs_lines(p: Payout, lines: tuple[Specification, ...]) -> Finding:
    if not p.summary:
        return Finding("summary_vs_lines", WARNING, f"payout {p.id}: has no summary to compare its lines with", p.id)
    money, counts = [], []
    for article in sorted(set(p.summary) | {s.article for s in lines}):
        mine = [s for s in lines if s.article == article]
        summary = p.summary.get(article)
        theirs = ({name: getattr(summary, name) for name in FIELDS} if summary else dict.fromkeys(FIELDS, ZERO))
        diffs = _differences({name: _sum(mine, name) for name in FIELDS}, theirs, "lines", "summary")
        if diffs:
            money.append(f"{article}: {', '.join(diffs)}")
        count = summary.count if summary else 0
        if count != len(mine):
            counts.append(f"{article}: {len(mine)} lines vs summary count {count}")
    if money:
        return Finding("summary_vs_lines", ERROR,
                       f"payout {p.id}: summary disagrees with the lines: {_listing(money + counts)}", p.id)
    if counts:
        return Finding("summary_vs_lines", WARNING,
                       f"payout {p.id}: amounts agree but counts differ: {_listing(counts)}", p.id)
    return Finding("summary_vs_lines", OK, f"payout {p.id}: summary agrees with the lines per article", p.id)


def _summary_vs_payout(p: Payout) -> Finding | None:
    if not p.summary:
        return None
    sums = {name: _sum(p.summary.values(), name) for name in FIELDS}
    diffs = _differences(sums, {name: getattr(p, name) for name in FIELDS}, "summary", "payout")
    if not diffs:
        return Finding("summary_vs_payout", OK, f"payout {p.id}: summary sums to its totals", p.id)
    return Finding("summary_vs_payout", ERROR, f"payout {p.id}: {'; '.join(diffs)}", p.id)


def _period(p: Payout, period: Period) -> Finding:
    if p.payout_date is not None and p.payout_date in period:
        return Finding("period", OK, f"payout {p.id}: paid out {p.payout_date}, inside {period.label}", p.id)
    return Finding("period", WARNING, f"payout {p.id}: paid out {p.payout_date}, outside the period "
                                      f"{period.label} ({period.start} to {period.end})", p.id)


def check_payout(payout: Payout, lines: tuple[Specification, ...], amap: AccountMap,
                 period: Period) -> tuple[Finding, ...]:
    """Every reconciliation check of one payout, in a fixed order."""
    findings: list[Finding | None] = [_payout_totals(payout), _period(payout, period)]
    if lines:
        findings += [_line_totals(payout, lines), _lines_vs_payout(payout, lines),
                     _summary_vs_lines(payout, lines), _line_category(payout, lines)]
    findings += [_summary_vs_payout(payout), _vat_rate(payout, lines, amap)]
    return tuple(f for f in findings if f is not None)


def check_run(data: PeriodData) -> tuple[Finding, ...]:
    """Checks over the whole period: specification lines that belong to no payout are not booked."""
    ids = {p.id for p in data.payouts}
    orphans = [s for s in data.specifications if s.payout not in ids]
    if not orphans:
        return (Finding("orphan_lines", OK, "every specification line belongs to a payout of the period"),)
    listed = [f"{_label(s)} payout {s.payout or '(none)'} {format_amount(s.total_amount)}" for s in orphans]
    return (Finding("orphan_lines", WARNING,
                    f"{len(orphans)} specification line(s) belong to no payout of the period and are not "
                    f"booked, total {format_amount(_sum(orphans, 'total_amount'))}: {_listing(listed)}"),)


def failures(ledger: Ledger, *, strict: bool = False) -> tuple[Finding, ...]:
    """Findings that fail the run: errors always, warnings too under --strict."""
    failing = (ERROR, WARNING) if strict else (ERROR,)
    return tuple(f for f in ledger.findings if f.severity in failing)


def strict_failures(ledger: Ledger) -> tuple[Finding, ...]:
    return failures(ledger, strict=True)
