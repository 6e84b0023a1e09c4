"""One voucher per payout: the bank line against the specification lines and their VAT.

Signs: a line's amount is debit when positive. The bank line is the payout's
``total_amount`` (debit; a refund-only payout has a negative total and so
credits the bank). Every specification line is credited with its ``amount``
on its mapped account and its ``vat_amount`` on the VAT account: a negative
line (refund, correction) therefore lands on the opposite side by itself.

Detail: ``account`` (default) sums the lines per account; ``invoice`` writes
one line per specification line with its invoice number in the text. VAT is
one line per VAT account in both: VAT is declared per period, and each
line's VAT stays traceable through ``specification_ids`` and the workbook.

A line the mapping does not know, or one carrying VAT where the mapping
says none, is booked whole (amount + VAT) on the suspense account, with a
warning, so the bookkeeper sees everything questionable in one place.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from types import MappingProxyType
from typing import Literal

from ledger_export.amili.document_names import document_file_names
from ledger_export.amili.models import Payout, PeriodData, Specification, stable_order
from ledger_export.core.errors import ConfigError, RecordError
from ledger_export.core.money import ZERO, format_amount
from ledger_export.ledger import reconcile
from ledger_export.ledger.accounts import account_name
from ledger_export.ledger.chart import Chart
from ledger_export.ledger.mapping import AccountMap, Rule
from ledger_export.ledger.model import ERROR, OK, WARNING, Finding, Ledger, Line, Severity, Voucher
from ledger_export.ledger.settings import DETAILS, Detail, LedgerSettings
from ledger_export.ledger.texts import Texts, article_name, category_name

CURRENCY = "SEK"


class BookingError(RecordError):
    """A payout or specification line the ledger cannot book at all (currency, date)."""


@dataclass(frozen=True)
class Entry:
    """One thing to book: a specification line, or a summary article when a payout has none."""

    category: str
    article: str
    amount: Decimal
    vat_amount: Decimal
    specification_ids: tuple[str, ...] = ()
    invoice_number: str | None = None


PartKind = Literal["net", "vat", "suspense"]


@dataclass(frozen=True)
class _Part:
    kind: PartKind
    account: int
    amount: Decimal  # as booked: credit is negative
    entry: Entry
    rule: Rule


def _check_bookable(payout: Payout, lines: Iterable[Specification]) -> None:
    if payout.currency != CURRENCY:
        raise BookingError("payout", payout.id, "currency",
                           f"is {payout.currency!r}; only SEK can be booked")
    if payout.payout_date is None:
        raise BookingError("payout", payout.id, "payout_date",
                           "is missing: the payout has not been paid out, so it has no voucher date")
    for line in lines:
        if line.currency != CURRENCY:
            raise BookingError("specification", line.id, "currency",
                               f"is {line.currency!r} (payout {payout.id}); only SEK can be booked")


def _entries(payout: Payout, lines: tuple[Specification, ...]) -> tuple[Entry, ...]:
    if lines:
        return tuple(Entry(s.finance_category, s.article, s.amount, s.vat_amount, (s.id,), s.invoice_number)
                     for s in sorted(lines, key=stable_order))
    return tuple(Entry(payout.finance_category, article, s.amount, s.vat_amount)
                 for article, s in sorted(payout.summary.items()))


def _suspense_reason(entry: Entry, rule: Rule) -> str | None:
    """Why an entry goes to the suspense account: "unknown" (not mapped), "vat" (VAT the rule has not), or None."""
    if not rule.mapped:
        return "unknown"
    if rule.vat_rate == 0 and entry.vat_amount != ZERO:
        return "vat"
    return None


def _parts(entry: Entry, amap: AccountMap) -> list[_Part]:
    rule = amap.rule(entry.category, entry.article)
    if _suspense_reason(entry, rule):
        suspense = amap.settings.suspense_account
        return [_Part("suspense", suspense, -(entry.amount + entry.vat_amount), entry, rule)]
    parts = [_Part("net", rule.account, -entry.amount, entry, rule)]
    if rule.vat_account is not None and entry.vat_amount != ZERO:
        parts.append(_Part("vat", rule.vat_account, -entry.vat_amount, entry, rule))
    return parts


def _only(values: Iterable[str | None]) -> str | None:
    distinct = set(values)
    return distinct.pop() if len(distinct) == 1 else None


class _VoucherBuilder:
    def __init__(self, payout: Payout, amap: AccountMap, texts: Texts, detail: Detail):
        self.payout = payout
        self.amap = amap
        self.texts = texts
        self.detail = detail
        # Why each account is used ("category/article"), for the chart check's message.
        self.uses: dict[int, dict[str, None]] = {}

    def text(self, kind: str, account: int, parts: list[_Part]) -> str:
        entries = [p.entry for p in parts]
        articles = list(dict.fromkeys(e.article for e in entries))
        categories = list(dict.fromkeys(e.category for e in entries)) or [self.payout.finance_category]
        return self.texts.line(
            kind=kind, category=category_name(categories[0]), category_code=categories[0],
            articles=articles, article_names=[article_name(a) for a in articles],
            unmapped=list(dict.fromkeys(f"{e.category}/{e.article}" for e in entries)),
            invoice_number=_only(e.invoice_number for e in entries) if kind != "vat" else None,
            account=account, vat_rate=parts[0].rule.vat_rate if parts else 0,
            reference=self.payout.payout_reference, payout_date=self.payout.payout_date, payout_id=self.payout.id)

    def line(self, kind: str, account: int, parts: list[_Part]) -> Line:
        entries = [p.entry for p in parts]
        for e in entries:
            self.uses.setdefault(account, {})[f"{e.category}/{e.article}"] = None
        return Line(
            account=account,
            amount=sum((p.amount for p in parts), ZERO),
            text=self.text(kind, account, parts),
            objects=self.amap.objects(account),
            category=_only(e.category for e in entries),
            article=_only(e.article for e in entries),
            specification_ids=tuple(i for e in entries for i in e.specification_ids),
            invoice_number=_only(e.invoice_number for e in entries) if kind != "vat" else None,
        )

    def lines(self, entries: tuple[Entry, ...]) -> tuple[Line, ...]:
        p = self.payout
        bank = self.amap.bank_account(p)
        result = [Line(bank, p.total_amount, self.text("bank", bank, []), self.amap.objects(bank),
                       category=p.finance_category)]
        self.uses.setdefault(bank, {})[f"bank of payout {p.id}"] = None
        parts = [part for e in entries for part in _parts(e, self.amap)]
        grouped: dict[tuple[int, int, PartKind, int], list[_Part]] = {}
        key: tuple[int, int, PartKind, int]
        for i, part in enumerate(parts):
            if part.kind == "vat":
                key = (1, part.account, part.kind, 0)
            elif self.detail == "invoice" or not part.entry.specification_ids:
                # Summary-booked payouts keep one line per article in either detail.
                key = (0, 0, part.kind, i)
            else:
                key = (0, part.account, part.kind, 0)
            grouped.setdefault(key, []).append(part)
        for key in sorted(grouped):
            group = grouped[key]
            result.append(self.line(group[0].kind, group[0].account, group))
        return tuple(result)

    def voucher(self, lines: tuple[Line, ...], series: str, document_name: str | None) -> Voucher:
        p = self.payout
        assert p.payout_date is not None, "_check_bookable refuses a payout with no payout_date"
        text = self.texts.voucher(
            category=category_name(p.finance_category), category_code=p.finance_category,
            reference=p.payout_reference, payout_date=p.payout_date, period_start=p.finance_period_start,
            period_end=p.finance_period_end, interval=p.finance_interval,
            document_name=document_name, payout_id=p.id,
            amount=p.amount, vat_amount=p.vat_amount, total_amount=p.total_amount)
        return Voucher(date=p.payout_date, text=text, lines=lines, series=series, payout_id=p.id,
                       payout_reference=p.payout_reference, payout_etag=p.etag, category=p.finance_category,
                       document_name=document_name)


def _mapping_findings(payout: Payout, entries: tuple[Entry, ...], amap: AccountMap) -> list[Finding]:
    unknown: dict[tuple[str, str, str], list[Entry]] = {}
    for e in entries:
        why = _suspense_reason(e, amap.rule(e.category, e.article))
        if why:
            unknown.setdefault((why, e.category, e.article), []).append(e)
    suspense = amap.settings.suspense_account
    findings = []
    for (why, category, article), group in sorted(unknown.items()):
        total = sum((e.amount + e.vat_amount for e in group), ZERO)
        what = (f"article '{article}' of category '{category}' is not in the mapping" if why == "unknown" else
                f"{category}/{article} carries VAT {format_amount(sum((e.vat_amount for e in group), ZERO))} "
                f"but the mapping books it without VAT")
        findings.append(Finding("mapping", WARNING,
                                f"payout {payout.id}: {what}: {len(group)} line(s), "
                                f"{format_amount(total)} booked on suspense account {suspense}", payout.id))
    return findings or [Finding("mapping", OK, f"payout {payout.id}: every article is mapped", payout.id)]


def _book(payout: Payout, lines: tuple[Specification, ...], amap: AccountMap, texts: Texts,
          detail: Detail, series: str, document_name: str | None) -> tuple[Voucher | None, list[Finding], dict[int, dict[str, None]]]:
    entries = _entries(payout, lines)
    findings = _mapping_findings(payout, entries, amap) if entries else []
    if lines:
        findings.append(Finding("source", OK, f"payout {payout.id}: booked from {len(lines)} "
                                              "specification line(s)", payout.id))
    elif entries:
        findings.append(Finding("source", WARNING, f"payout {payout.id}: has no specification lines; "
                                                   "booked from its summary, one line per article", payout.id))
    else:
        severity: Severity = ERROR if payout.total_amount != ZERO else WARNING
        findings.append(Finding("source", severity, f"payout {payout.id}: has neither specification lines "
                                f"nor a summary; total {format_amount(payout.total_amount)} not booked",
                                payout.id))
        return None, findings, {}
    builder = _VoucherBuilder(payout, amap, texts, detail)
    booked = builder.lines(entries)
    off = sum((line.amount for line in booked), ZERO)
    if off != ZERO:
        # Never absorbed: the bookkeeper must see the difference and settle it with Amili.
        counter = payout.total_amount - off
        findings.append(Finding(
            "voucher", ERROR,
            f"payout {payout.id} ref {payout.payout_reference}: not booked, its lines total "
            f"{format_amount(counter)} but total_amount is {format_amount(payout.total_amount)} "
            f"(difference {format_amount(off)})", payout.id))
        return None, findings, {}
    findings.append(Finding("voucher", OK, f"payout {payout.id}: balanced voucher with {len(booked)} lines",
                            payout.id))
    return builder.voucher(booked, series, document_name), findings, builder.uses


def build_ledger(data: PeriodData, settings: LedgerSettings, *, detail: Detail | None = None,
                 chart: Chart | None = None, document_names: Mapping[str, str] | None = None) -> Ledger:
    """Book every payout of ``data``; raise before anything is written if one cannot be booked.

    ``document_names``: payout id -> the self-invoice's file name, as the run
    publishes it (names unique across runs, outputs/self_invoices.OnDisk); by
    default the names the payouts alone give.
    """
    detail = detail or settings.detail
    if detail not in DETAILS:
        raise ConfigError(f"detail must be one of {', '.join(DETAILS)}, got {detail!r}", key="ledger.detail")
    amap = AccountMap(settings)
    texts = settings.texts()
    payouts = sorted(data.payouts, key=lambda p: (p.payout_date is None, p.payout_date, *stable_order(p)))
    for payout in payouts:
        _check_bookable(payout, data.lines_of(payout))
    vouchers: list[Voucher] = []
    findings: list[Finding] = []
    uses: dict[int, dict[str, None]] = {}
    # The name the PDF gets on disk, never Amili's raw name: that one may hold
    # a path, and the voucher text must match the file the bookkeeper attaches.
    if document_names is None:
        document_names = document_file_names(data.payouts)
    for payout in payouts:
        lines = data.lines_of(payout)
        findings.extend(reconcile.check_payout(payout, lines, amap, data.period))
        voucher, booking, used = _book(payout, lines, amap, texts, detail, settings.series,
                                       document_names.get(payout.id))
        findings.extend(booking)
        if voucher is not None:
            vouchers.append(voucher)
        for account, why in used.items():
            uses.setdefault(account, {}).update(why)
    findings.extend(reconcile.check_run(data))
    if chart is not None:
        chart.require({account: list(why) for account, why in sorted(uses.items())})
    names = {account: account_name(account, chart=chart.accounts if chart else None,
                                   overrides=settings.account_names) for account in sorted(uses)}
    return Ledger(vouchers=tuple(vouchers), account_names=MappingProxyType(names), findings=tuple(findings),
                  receivable_account=settings.receivable_account)
