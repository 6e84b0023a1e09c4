"""Which account (and VAT) a (category, article) books on, and why.

Order of precedence: the article's own line in the configuration, then the
creditor_outlay fee switch, then the category's fallback account, then the
suspense account, which always comes with a warning naming what was unknown.
Capital and the invoice fee have no account of their own by default: they
follow [ledger] receivable_account (settings.py says when a line of their own
may differ from it).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from ledger_export.amili.models import Payout
from ledger_export.ledger.settings import OUTLAY_FEE_ARTICLES, LedgerSettings

OUTLAY = "creditor_outlay"
# Where a rule came from, as the workbook's mapping sheet names it.
RuleSource = Literal["article", "outlay_fees", "category", "suspense"]


@dataclass(frozen=True)
class Rule:
    account: int
    vat_rate: int  # percent, 0 = no VAT
    vat_account: int | None
    source: RuleSource

    @property
    def mapped(self) -> bool:
        return self.source != "suspense"


@dataclass(frozen=True)
class MappingRow:
    """One line of the mapping used, for the workbook's mapping sheet."""

    category: str
    article: str  # "*" for the category's fallback
    account: int
    vat_rate: int
    vat_account: int | None
    source: RuleSource


class AccountMap:
    """The configured mapping, answering per specification line and per payout."""

    def __init__(self, settings: LedgerSettings):
        self.settings = settings

    def _rule(self, account: int, vat_rate: int, source: RuleSource) -> Rule:
        vat_account = self.settings.vat_accounts[vat_rate] if vat_rate else None
        return Rule(account, vat_rate, vat_account, source)

    def rule(self, category: str, article: str) -> Rule:
        s = self.settings
        cat = s.categories.get(category)
        if cat is not None and article in cat.articles:
            art = cat.articles[article]
            account = art.account
            if account is None:
                account = s.receivable_account if art.receivable else cat.account
            rate = art.vat_rate if art.vat_rate is not None else cat.vat_rate
            # settings.parse refuses an article rule with no account on either;
            # one built by hand without them falls through to suspense.
            if account is not None:
                return self._rule(account, rate, "article")
        if category == OUTLAY and article in OUTLAY_FEE_ARTICLES:
            return self._rule(s.outlay_fee_account(), 0, "outlay_fees")
        if cat is not None and cat.account is not None:
            return self._rule(cat.account, cat.vat_rate, "category")
        return Rule(s.suspense_account, 0, None, "suspense")

    def bank_account(self, payout: Payout) -> int:
        if self.settings.use_payout_ledger_account and payout.ledger_account is not None:
            return payout.ledger_account
        return self.settings.bank_account

    def objects(self, account: int) -> tuple[tuple[str, str], ...]:
        return self.settings.objects.get(account, ())

    def rows(self) -> tuple[MappingRow, ...]:
        """Every configured rule, in a stable order, as the bookkeeper would read it."""
        s = self.settings
        rows = []
        for category in sorted(set(s.categories) | {OUTLAY}):
            cat = s.categories.get(category)
            articles = sorted(set(cat.articles if cat else ()) |
                              (set(OUTLAY_FEE_ARTICLES) if category == OUTLAY else set()))
            for article in articles:
                r = self.rule(category, article)
                rows.append(MappingRow(category, article, r.account, r.vat_rate, r.vat_account, r.source))
            if cat is not None and cat.account is not None:
                r = self.rule(category, "*")
                rows.append(MappingRow(category, "*", r.account, r.vat_rate, r.vat_account, "category"))
        rows.append(MappingRow("*", "*", s.suspense_account, 0, None, "suspense"))
        return tuple(rows)
