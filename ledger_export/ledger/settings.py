"""The [ledger] section of the configuration file: accounts, VAT, texts, objects.

Every key has the BRIEF's default, so an empty file books by BAS. Tables the
user writes are merged over the defaults key by key: writing one article's
account does not drop the other categories' mapping.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Literal, TypeVar, get_args, overload

from ledger_export.core.settings import Table
from ledger_export.ledger import texts
from ledger_export.ledger.accounts import is_account

SECTIONS: tuple[str, ...] = ("ledger",)

# One voucher line per account, or per invoice and account.
Detail = Literal["account", "invoice"]
DETAILS: tuple[Detail, ...] = get_args(Detail)
# The creditor_outlay fees the switch applies to: compensation the creditor may
# or may not already have booked as a receivable when it invoiced them.
OUTLAY_FEE_ARTICLES = ("reminder", "late_payment_fee")
OutlayFees = Literal["revenue", "receivable"]
OUTLAY_FEE_CHOICES: tuple[OutlayFees, ...] = get_args(OutlayFees)
_Choice = TypeVar("_Choice", bound=str)


@dataclass(frozen=True)
class ArticleRule:
    # None: the category's account (only allowed when the category has one).
    account: int | None = None
    # Percent; None: the category's rate.
    vat_rate: int | None = None
    # Books on [ledger] receivable_account (when account is None): what settles
    # the customer's invoice follows the one setting, wherever it points.
    receivable: bool = False


@dataclass(frozen=True)
class CategoryRule:
    # Account for articles not listed; None sends them to suspense with a warning.
    account: int | None = None
    vat_rate: int = 0
    articles: Mapping[str, ArticleRule] = field(
        default_factory=lambda: MappingProxyType({}), hash=False)


_K = TypeVar("_K")
_V = TypeVar("_V")


def _frozen(d: Mapping[_K, _V]) -> Mapping[_K, _V]:
    return MappingProxyType(dict(d))


# The customer-ledger account (kundfordringar) in BAS: receivable_account's default.
RECEIVABLES = 1510
# What receivable_account may be: a balance-sheet account. Capital settles a
# receivable; booked on an income or cost account it would be counted twice.
BALANCE_SHEET = range(1000, 3000)
_RECEIVABLE = ArticleRule(receivable=True)

DEFAULT_CATEGORIES: Mapping[str, CategoryRule] = _frozen({
    "capital": CategoryRule(articles=_frozen({"capital": _RECEIVABLE})),
    # Dröjsmålsränta is outside VAT.
    "interest": CategoryRule(articles=_frozen({"interest": ArticleRule(8313)})),
    # Amili's self-invoice: the creditor's commission income with 25 % output VAT.
    "creditor_commission": CategoryRule(account=3921, vat_rate=25),
    # reminder and late_payment_fee are not listed: they follow outlay_fees.
    "creditor_outlay": CategoryRule(articles=_frozen({
        "invoice_fee": _RECEIVABLE,
        "verdict_fee": ArticleRule(6062),
        "enforcement": ArticleRule(6062),
    })),
})


@dataclass(frozen=True)
class LedgerSettings:
    bank_account: int = 1930
    # Where capital, the invoice fee and (outlay_fees = "receivable") reminder and
    # late-payment fees are credited: 1510 Kundfordringar, or a clearing account
    # (e.g. 1689) for a company whose customer ledger is kept in Fortnox or Visma,
    # where the bookkeeper then registers each invoice payment (invoice_payments.py).
    receivable_account: int = RECEIVABLES
    # Book the bank line on the payout's own ledger_account when Amili gives one.
    use_payout_ledger_account: bool = True
    suspense_account: int = 2999
    # "revenue": the creditor never booked reminder/late-payment fees, so they
    # are income when paid; "receivable": it booked them as receivables when invoicing.
    outlay_fees: OutlayFees = "revenue"
    # "receivable" absent: receivable_account.
    outlay_fee_accounts: Mapping[OutlayFees, int] = field(
        default_factory=lambda: _frozen({"revenue": 3990}), hash=False)
    # VAT rate in percent -> output VAT account.
    vat_accounts: Mapping[int, int] = field(default_factory=lambda: _frozen({25: 2611}), hash=False)
    categories: Mapping[str, CategoryRule] = field(default_factory=lambda: DEFAULT_CATEGORIES, hash=False)
    # Empty: the importing program picks the series and numbers the vouchers.
    series: str = ""
    detail: Detail = "account"
    # Account -> object list ((dimension, object id), ...) for ledgers that
    # require a cost centre or project on that account.
    objects: Mapping[int, tuple[tuple[str, str], ...]] = field(
        default_factory=lambda: _frozen({}), hash=False)
    # Names for accounts outside the built-in BAS list (a chart given with --chart wins).
    account_names: Mapping[int, str] = field(default_factory=lambda: _frozen({}), hash=False)
    # Jinja2 template strings; None: templates/voucher_text.j2 and line_text.j2.
    voucher_text: str | None = None
    line_text: str | None = None

    def outlay_fee_account(self) -> int:
        """The account the outlay_fees switch books reminder and late-payment fees on."""
        return self.outlay_fee_accounts.get(self.outlay_fees, self.receivable_account)

    def texts(self) -> texts.Texts:
        return texts.Texts.from_sources(self.voucher_text, self.line_text)


@overload
def _account(t: Table, k: str, default: int) -> int: ...
@overload
def _account(t: Table, k: str, default: int | None) -> int | None: ...


def _account(t: Table, k: str, default: int | None) -> int | None:
    value = t.get(k, default, int)
    if value is not None and not is_account(value):
        raise t.error(k, f"must be a four-digit account (1000-9999), got {value}")
    return value


@overload
def _rate(t: Table, k: str, default: int) -> int: ...
@overload
def _rate(t: Table, k: str, default: int | None) -> int | None: ...


def _rate(t: Table, k: str, default: int | None) -> int | None:
    value = t.get(k, default, int)
    if value is not None and not 0 <= value < 100:
        raise t.error(k, f"must be a VAT rate in percent (0 for none, e.g. 25), got {value}")
    return value


def _numeric_key(t: Table, k: str, what: str) -> int:
    if not re.fullmatch(r"[0-9]{1,4}", k):
        raise t.error(k, f"must be {what}")
    return int(k)


def _article(t: Table, name: str, category: CategoryRule) -> ArticleRule:
    if isinstance(t.data[name], Mapping):
        at = t.table(name)
        rule = ArticleRule(_account(at, "account", None), _rate(at, "vat", None))
        at.finish()
    else:
        rule = ArticleRule(_account(t, name, None))
    if rule.account is None and category.account is None:
        raise t.error(name, "needs an account: its category has none to fall back on")
    return rule


def _category(t: Table, base: CategoryRule) -> CategoryRule:
    account = _account(t, "account", base.account)
    rule = CategoryRule(account, _rate(t, "vat", base.vat_rate), base.articles)
    at = t.table("articles")
    articles = dict(base.articles)
    for name in sorted(at.data):
        articles[name] = _article(at, name, rule)
    at.finish()
    t.finish()
    return CategoryRule(rule.account, rule.vat_rate, _frozen(articles))


def _check_vat_accounts(t: Table, categories: Mapping[str, CategoryRule], vat_accounts: Mapping[int, int]) -> None:
    """Every rate a rule uses needs an account, or the VAT could not be booked."""
    ct = Table(t.data.get("categories"), t.key("categories"), t.path)
    for code, rule in categories.items():
        rates: list[tuple[str, int | None]] = [(f"{code}.vat", rule.vat_rate)]
        rates += [(f"{code}.articles.{a}.vat", r.vat_rate) for a, r in rule.articles.items()]
        for key, rate in rates:
            if rate and rate not in vat_accounts:
                raise ct.error(key, f"VAT {rate} % has no account in [ledger.vat_accounts]")


def _objects(t: Table) -> Mapping[int, tuple[tuple[str, str], ...]]:
    result = {}
    for k in sorted(t.data):
        account = _numeric_key(t, k, "a four-digit account")
        if not is_account(account):
            raise t.error(k, "must be a four-digit account")
        ot = t.table(k)
        objects = []
        for dim in sorted(ot.data, key=lambda d: (len(d), d)):
            if not re.fullmatch(r"[1-9][0-9]{0,3}", dim):
                raise ot.error(dim, "must be a dimension number (1 cost centre, 6 project, ...)")
            value = ot.get(dim, None, str)
            if not value or not value.isprintable():
                raise ot.error(dim, "must be a non-empty object id")
            objects.append((dim, value))
        ot.finish()
        result[account] = tuple(objects)
    t.finish()
    return _frozen(result)


def _names(t: Table) -> Mapping[int, str]:
    result = {}
    for k in sorted(t.data):
        account = _numeric_key(t, k, "a four-digit account")
        if not is_account(account):
            raise t.error(k, "must be a four-digit account")
        name = t.get(k, None, str)
        if not name or not name.isprintable():
            raise t.error(k, "must be a non-empty one-line name")
        result[account] = name
    t.finish()
    return _frozen(result)


def _texts(t: Table) -> tuple[str | None, str | None]:
    sources = []
    for name in ("voucher", "line"):
        source = t.get(name, None, str)
        if source is not None:
            texts.check_template(name, source, t.key(name), t.path)
        sources.append(source)
    t.finish()
    return sources[0], sources[1]


def _receivable_account(t: Table, default: int) -> int:
    account = _account(t, "receivable_account", default)
    if account not in BALANCE_SHEET:
        raise t.error("receivable_account", f"must be a balance-sheet account (1000-2999), such as 1510 "
                                            f"Kundfordringar or a clearing account like 1689, got {account}")
    return account


def _check_receivable(t: Table, s: LedgerSettings, fee_accounts_given: bool) -> None:
    """receivable_account is the one knob: nothing else may book receivables elsewhere without saying so.

    An explicit line for capital, the invoice fee or outlay_fee_accounts.receivable
    that names another balance-sheet account would split the receivables over two
    accounts (the old starter file's ``capital = 1510`` after receivable_account
    moved to a clearing account): refused. An income or cost account (3000-8999)
    there is a deliberate choice (a fee never invoiced) and stays.
    """
    r = s.receivable_account
    for name, other in (("bank_account", s.bank_account), ("suspense_account", s.suspense_account),
                        *((f"vat_accounts.{rate}", a) for rate, a in s.vat_accounts.items())):
        if other == r:
            raise t.error("receivable_account", f"is {r}, the same account as [ledger] {name}: "
                                                f"receivables need an account of their own")
    given: list[tuple[Table, str, int]] = []
    for code, default in DEFAULT_CATEGORIES.items():
        articles = Table(None, f"{t.key('categories')}.{code}.articles", t.path)
        for article, rule in default.articles.items():
            own = s.categories[code].articles.get(article) if code in s.categories else None
            if rule.receivable and own is not None and own.account is not None:
                given.append((articles, article, own.account))
    if fee_accounts_given:
        given.append((t.table("outlay_fee_accounts"), "receivable", s.outlay_fee_accounts["receivable"]))
    for table, key, account in given:
        if account != r and account in BALANCE_SHEET:
            raise table.error(key, f"is {account} but [ledger] receivable_account is {r}: delete this line "
                                   f"(it follows receivable_account) or give both the same account")


def _choice(t: Table, k: str, default: _Choice, choices: tuple[_Choice, ...]) -> _Choice:
    value = t.get(k, default, str)
    for choice in choices:
        if value == choice:
            return choice
    raise t.error(k, f"must be one of {', '.join(choices)}, got {value!r}")


def parse(root: Table) -> LedgerSettings:
    t = root.table("ledger")
    d = LedgerSettings()

    vt = t.table("vat_accounts")
    vat_accounts = dict(d.vat_accounts)
    for k in sorted(vt.data):
        rate = _numeric_key(vt, k, "a VAT rate in percent, e.g. \"25\"")
        if not 0 < rate < 100:
            raise vt.error(k, "must be a VAT rate between 1 and 99 percent")
        account = _account(vt, k, None)
        if account is None:  # a table built from a dict (not TOML) can hold None
            raise vt.error(k, "must be a four-digit account")
        vat_accounts[rate] = account
    vt.finish()

    ft = t.table("outlay_fee_accounts")
    fee_accounts: dict[OutlayFees, int] = {}
    for choice in OUTLAY_FEE_CHOICES:  # "receivable" given or not: receivable_account when not
        account = _account(ft, choice, d.outlay_fee_accounts.get(choice))
        if account is not None:
            fee_accounts[choice] = account
    ft.finish()

    ct = t.table("categories")
    categories = dict(d.categories)
    for code in sorted(ct.data):
        categories[code] = _category(ct.table(code), categories.get(code, CategoryRule()))
    ct.finish()
    _check_vat_accounts(t, categories, vat_accounts)

    series = t.get("series", d.series, str)
    if not re.fullmatch(r"[A-Za-z0-9]{0,10}", series):
        raise t.error("series", f"must be letters or digits (e.g. A), or empty, got {series!r}")
    voucher_text, line_text = _texts(t.table("texts"))

    settings = LedgerSettings(
        bank_account=_account(t, "bank_account", d.bank_account),
        receivable_account=_receivable_account(t, d.receivable_account),
        use_payout_ledger_account=t.get("use_payout_ledger_account", d.use_payout_ledger_account, bool),
        suspense_account=_account(t, "suspense_account", d.suspense_account),
        outlay_fees=_choice(t, "outlay_fees", d.outlay_fees, OUTLAY_FEE_CHOICES),
        outlay_fee_accounts=_frozen(fee_accounts),
        vat_accounts=_frozen(dict(sorted(vat_accounts.items()))),
        categories=_frozen(categories),
        series=series,
        detail=_choice(t, "detail", d.detail, DETAILS),
        objects=_objects(t.table("objects")),
        account_names=_names(t.table("account_names")),
        voucher_text=voucher_text,
        line_text=line_text,
    )
    _check_receivable(t, settings, "receivable" in ft.data)
    t.finish()
    return settings
