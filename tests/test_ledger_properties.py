"""Properties that must hold for any payouts: balanced, complete, VAT as given.

The expected account of each line comes from the BRIEF's table written out
below, not from the mapping code under test.
"""

from collections import Counter
from decimal import Decimal

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ledger_export.ledger.model import ERROR
from ledger_export.ledger.settings import LedgerSettings
from ledger_export.ledger.vouchers import build_ledger
from support.records import new_id, payout, period_data, spec

ZERO = Decimal("0.00")
VAT_ACCOUNT = 2611
SUSPENSE = 2999
# The BRIEF's default mapping; None: the category has no fallback.
BRIEF = {
    "capital": ({"capital": 1510}, None),
    "interest": ({"interest": 8313}, None),
    "creditor_commission": ({}, 3921),
    "creditor_outlay": ({"invoice_fee": 1510, "reminder": 3990, "late_payment_fee": 3990,
                         "verdict_fee": 6062, "enforcement": 6062}, None),
    "creditor_fee": ({}, None),  # a category Amili might add
}
ARTICLES = ["capital", "interest", "reminder", "debt_collection", "invoice_fee", "late_payment_fee",
            "verdict_fee", "enforcement", "cost", "commission", "finance_refund", "brand_new_article"]


def brief_account(category: str, article: str) -> int:
    articles, fallback = BRIEF[category]
    return articles.get(article, fallback) or SUSPENSE


def has_vat_rule(category: str) -> bool:
    return category == "creditor_commission"


ore = st.integers(min_value=-2_000_000, max_value=2_000_000).map(lambda n: Decimal(n).scaleb(-2))


@st.composite
def line_rows(draw, category):
    article = draw(st.sampled_from(ARTICLES if draw(st.booleans()) else list(BRIEF[category][0]) or ARTICLES))
    amount = draw(ore)
    if has_vat_rule(category):
        # Mostly 25 % give or take an öre, sometimes anything (a warning, booked as given).
        quarter = (amount / 4).quantize(Decimal("0.01"))
        vat = draw(st.one_of(st.integers(-1, 1).map(lambda d: quarter + Decimal(d).scaleb(-2)), ore))
    else:
        vat = draw(st.one_of(st.just(ZERO), st.just(ZERO), ore))
    invoice = draw(st.one_of(st.none(), st.from_regex(r"INV-2025-\d{4}", fullmatch=True)))
    return article, amount, vat, invoice


@st.composite
def periods(draw):
    payouts, lines = [], []
    for _ in range(draw(st.integers(1, 4))):
        category = draw(st.sampled_from(sorted(BRIEF)))
        pid = new_id()
        rows = draw(st.lists(line_rows(category), min_size=1, max_size=8))
        mine = [spec(pid, category, article, amount, vat, invoice) for article, amount, vat, invoice in rows]
        payouts.append(payout(category, mine, id=pid, ledger_account=draw(st.sampled_from([None, 1930, 1940]))))
        lines += mine
    return period_data(payouts, lines)


def expected_account_totals(data) -> dict[int, Decimal]:
    totals: dict[int, Decimal] = {}

    def add(account, amount):
        totals[account] = totals.get(account, ZERO) + amount

    for p in data.payouts:
        add(p.ledger_account or 1930, p.total_amount)
    for s in data.specifications:
        account = brief_account(s.finance_category, s.article)
        if account == SUSPENSE or (not has_vat_rule(s.finance_category) and s.vat_amount != ZERO):
            add(SUSPENSE, -(s.amount + s.vat_amount))
        else:
            add(account, -s.amount)
            if s.vat_amount != ZERO:
                add(VAT_ACCOUNT, -s.vat_amount)
    return dict(sorted(totals.items()))


PROPERTY = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@PROPERTY
@given(periods(), st.sampled_from(["account", "invoice"]))
def test_every_payout_books_balanced_complete_and_with_the_vat_given(data, detail):
    ledger = build_ledger(data, LedgerSettings(), detail=detail)
    assert not [f for f in ledger.findings if f.severity == ERROR]
    assert len(ledger.vouchers) == len(data.payouts)
    by_payout = {p.id: p for p in data.payouts}

    for v in ledger.vouchers:
        assert sum((line.amount for line in v.lines), ZERO) == ZERO
        p = by_payout[v.payout_id]
        bank = v.lines[0]
        assert (bank.account, bank.amount) == (p.ledger_account or 1930, p.total_amount)
        assert bank.debit - bank.credit == p.total_amount
        vat_lines = [line for line in v.lines if line.account == VAT_ACCOUNT]
        lines = data.lines_of(p)
        vat_given = sum((s.vat_amount for s in lines if has_vat_rule(s.finance_category)), ZERO)
        assert sum((line.amount for line in vat_lines), ZERO) == -vat_given
        assert len(vat_lines) == (1 if any(s.vat_amount for s in lines if has_vat_rule(s.finance_category)) else 0)

    assert sum((v.lines[0].amount for v in ledger.vouchers), ZERO) == sum((p.total_amount for p in data.payouts), ZERO)

    # Every specification line is booked exactly once (its VAT line only points back to it).
    booked = Counter(i for v in ledger.vouchers for line in v.lines[1:] if line.account != VAT_ACCOUNT
                     for i in line.specification_ids)
    assert booked == Counter(s.id for s in data.specifications)
    if detail == "invoice":
        for v in ledger.vouchers:
            for line in v.lines[1:]:
                if line.account != VAT_ACCOUNT:
                    [sid] = line.specification_ids
                    s = next(x for x in data.specifications if x.id == sid)
                    assert line.invoice_number == s.invoice_number
                    assert line.amount in (-s.amount, -(s.amount + s.vat_amount))

    assert ledger.account_totals() == expected_account_totals(data)


@PROPERTY
@given(periods())
def test_both_details_give_the_same_account_totals(data):
    by_account = build_ledger(data, LedgerSettings(), detail="account")
    by_invoice = build_ledger(data, LedgerSettings(), detail="invoice")
    assert by_account.account_totals() == by_invoice.account_totals()
    assert [v.text for v in by_account.vouchers] == [v.text for v in by_invoice.vouchers]


@PROPERTY
@given(st.sampled_from(sorted(BRIEF)),
       st.dictionaries(st.sampled_from(ARTICLES), st.tuples(st.integers(1, 50), ore, ore), min_size=1, max_size=4))
def test_a_payout_booked_from_its_summary_balances_too(category, articles):
    summary = {a: {"count": n, "amount": amount, "vat_amount": vat, "total_amount": amount + vat}
               for a, (n, amount, vat) in articles.items()}
    amount = sum((e["amount"] for e in summary.values()), ZERO)
    vat = sum((e["vat_amount"] for e in summary.values()), ZERO)
    p = payout(category, [], amount=amount, vat=vat, summary=summary)
    ledger = build_ledger(period_data([p], []), LedgerSettings())
    [v] = ledger.vouchers
    assert sum((line.amount for line in v.lines), ZERO) == ZERO
    assert v.lines[0].amount == p.total_amount
    assert all(line.specification_ids == () for line in v.lines)
    assert "booked from its summary" in next(f.message for f in ledger.findings if f.check == "source")
