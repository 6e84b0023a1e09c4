from ledger_export.ledger.mapping import AccountMap, MappingRow
from ledger_export.ledger.settings import LedgerSettings
from support.records import payout


def test_unknown_category_or_article_goes_to_suspense():
    m = AccountMap(LedgerSettings())
    for category, article in [("capital", "finance_refund"), ("creditor_outlay", "cost"), ("creditor_fee", "x")]:
        rule = m.rule(category, article)
        assert (rule.account, rule.vat_rate, rule.mapped, rule.source) == (2999, 0, False, "suspense")


def test_category_fallback_covers_unlisted_articles_with_its_vat():
    rule = AccountMap(LedgerSettings()).rule("creditor_commission", "amortization_setup")
    assert (rule.account, rule.vat_rate, rule.vat_account, rule.source) == (3921, 25, 2611, "category")


def test_bank_account_is_the_payouts_ledger_account_unless_switched_off():
    with_account = payout("capital", ledger_account=1940)
    without = payout("capital", ledger_account=None)
    assert AccountMap(LedgerSettings()).bank_account(with_account) == 1940
    assert AccountMap(LedgerSettings()).bank_account(without) == 1930
    assert AccountMap(LedgerSettings(bank_account=1920)).bank_account(without) == 1920
    off = LedgerSettings(bank_account=1920, use_payout_ledger_account=False)
    assert AccountMap(off).bank_account(with_account) == 1920


def test_rows_list_the_mapping_used_for_the_workbook():
    rows = AccountMap(LedgerSettings()).rows()
    assert rows == (
        MappingRow("capital", "capital", 1510, 0, None, "article"),
        MappingRow("creditor_commission", "*", 3921, 25, 2611, "category"),
        MappingRow("creditor_outlay", "enforcement", 6062, 0, None, "article"),
        MappingRow("creditor_outlay", "invoice_fee", 1510, 0, None, "article"),
        MappingRow("creditor_outlay", "late_payment_fee", 3990, 0, None, "outlay_fees"),
        MappingRow("creditor_outlay", "reminder", 3990, 0, None, "outlay_fees"),
        MappingRow("creditor_outlay", "verdict_fee", 6062, 0, None, "article"),
        MappingRow("interest", "interest", 8313, 0, None, "article"),
        MappingRow("*", "*", 2999, 0, None, "suspense"),
    )
