import tomllib

import pytest

from ledger_export.jobs import config
from ledger_export.core.errors import ConfigError
from ledger_export.ledger.mapping import AccountMap
from ledger_export.ledger.settings import ArticleRule, LedgerSettings
from ledger_export.jobs.starter import starter_config


def ledger(doc: dict) -> LedgerSettings:
    return config.from_dict({"ledger": doc}, source="c.toml").ledger


def test_no_ledger_section_gives_the_brief_defaults():
    s = config.from_dict({}).ledger
    assert s == LedgerSettings()
    m = AccountMap(s)
    assert (s.bank_account, s.suspense_account, s.series, s.detail) == (1930, 2999, "", "account")
    assert dict(s.vat_accounts) == {25: 2611}
    assert m.rule("capital", "capital").account == 1510
    assert m.rule("interest", "interest").account == 8313
    assert (m.rule("creditor_commission", "reminder").account, m.rule("creditor_commission", "reminder").vat_account) \
        == (3921, 2611)
    assert m.rule("creditor_outlay", "invoice_fee").account == 1510
    assert m.rule("creditor_outlay", "late_payment_fee").account == 3990
    assert m.rule("creditor_outlay", "enforcement").account == 6062


def test_the_starter_file_loads_to_exactly_the_defaults():
    doc = tomllib.loads(starter_config())
    loaded = config.from_dict(doc, source="starter")
    assert loaded.ledger == LedgerSettings()
    assert loaded.company == config.Company() and loaded.amili == config.AmiliSettings()
    assert loaded.output == config.OutputSettings() and loaded.sie == config.from_dict({}).sie
    # Every ledger key the program reads is shown in the starter, so a bookkeeper sees it.
    for key in ("bank_account", "use_payout_ledger_account", "suspense_account", "outlay_fees", "series",
                "detail", "outlay_fee_accounts", "vat_accounts", "categories", "objects", "account_names",
                "texts"):
        assert key in doc["ledger"], key


def test_starter_commented_examples_are_valid_when_uncommented():
    text = "\n".join(line[2:] if line.startswith(("# 3921", "# 3922", "# voucher", "# line")) else line
                     for line in starter_config().splitlines())
    s = config.from_dict(tomllib.loads(text)).ledger
    assert s.objects[3921] == (("1", "100"),)
    assert s.account_names[3922] == "Provisionsintäkter koncern"
    assert s.voucher_text is not None and s.line_text is not None


def test_user_tables_merge_over_the_defaults():
    s = ledger({"receivable_account": 1511,
                "categories": {"capital": {"articles": {"finance_refund": 1511}},
                               "creditor_fee": {"account": 3922}},
                "vat_accounts": {"12": 2621}})
    m = AccountMap(s)
    assert m.rule("capital", "capital").account == 1511
    assert m.rule("capital", "finance_refund").account == 1511
    assert m.rule("interest", "interest").account == 8313  # untouched category keeps its default
    assert m.rule("creditor_fee", "anything").account == 3922  # a category Amili adds later
    assert dict(s.vat_accounts) == {12: 2621, 25: 2611}


def test_article_table_with_its_own_vat_and_inherited_account():
    s = ledger({"vat_accounts": {"12": 2621},
                "categories": {"creditor_commission": {"articles": {
                    "commission_intercompany": {"account": 3922, "vat": 0},
                    "cost": {"vat": 12}}}}})
    assert s.categories["creditor_commission"].articles["cost"] == ArticleRule(None, 12)
    m = AccountMap(s)
    assert (m.rule("creditor_commission", "commission_intercompany").vat_account) is None
    cost = m.rule("creditor_commission", "cost")
    assert (cost.account, cost.vat_rate, cost.vat_account) == (3921, 12, 2621)


def test_outlay_fee_switch_and_its_accounts():
    m = AccountMap(ledger({"outlay_fees": "receivable"}))
    assert m.rule("creditor_outlay", "reminder").account == 1510
    assert m.rule("creditor_outlay", "late_payment_fee").account == 1510
    m = AccountMap(ledger({"outlay_fee_accounts": {"revenue": 3991}}))
    assert m.rule("creditor_outlay", "reminder").account == 3991
    # An explicit article line beats the switch.
    m = AccountMap(ledger({"categories": {"creditor_outlay": {"articles": {"reminder": 6062}}}}))
    assert m.rule("creditor_outlay", "reminder").account == 6062


def test_objects_names_series_and_detail():
    s = ledger({"objects": {"3921": {"6": "P1", "1": "100"}}, "account_names": {"3922": "Prov koncern"},
                "series": "B", "detail": "invoice", "bank_account": 1940, "use_payout_ledger_account": False})
    assert s.objects[3921] == (("1", "100"), ("6", "P1"))
    assert s.account_names == {3922: "Prov koncern"}
    assert (s.series, s.detail, s.bank_account, s.use_payout_ledger_account) == ("B", "invoice", 1940, False)


def test_command_line_detail_overrides_the_file():
    s = config.from_dict({"ledger": {"detail": "account"}}, overrides={"ledger.detail": "invoice"}).ledger
    assert s.detail == "invoice"


def test_text_templates_can_be_overridden():
    s = ledger({"texts": {"voucher": "Amili {{ reference }}", "line": "{{ kind }}"}})
    t = s.texts()
    assert t.voucher(reference="1") == "Amili 1"
    assert t.line(kind="bank") == "bank"


@pytest.mark.parametrize("doc, key, words", [
    ({"bank_acount": 1930}, "ledger.bank_acount", "not a known setting"),
    ({"bank_account": 193}, "ledger.bank_account", "four-digit"),
    ({"bank_account": "1930"}, "ledger.bank_account", "whole number"),
    ({"suspense_account": 29990}, "ledger.suspense_account", "four-digit"),
    ({"categories": {"capital": {"articles": {"capital": 151}}}}, "ledger.categories.capital.articles.capital",
     "four-digit"),
    ({"categories": {"capital": {"acount": 1510}}}, "ledger.categories.capital.acount", "not a known setting"),
    ({"categories": {"capital": {"articles": {"x": {"account": 1510, "moms": 25}}}}},
     "ledger.categories.capital.articles.x.moms", "not a known setting"),
    ({"categories": {"capital": {"articles": {"x": {"vat": 25}}}}}, "ledger.categories.capital.articles.x",
     "needs an account"),
    ({"categories": {"creditor_commission": {"vat": 12}}}, "ledger.categories.creditor_commission.vat",
     "VAT 12 % has no account"),
    ({"categories": {"creditor_outlay": {"articles": {"cost": {"account": 6062, "vat": 6}}}}},
     "ledger.categories.creditor_outlay.articles.cost.vat", "VAT 6 % has no account"),
    ({"categories": {"capital": {"vat": 125}}}, "ledger.categories.capital.vat", "VAT rate"),
    ({"vat_accounts": {"25": 261}}, "ledger.vat_accounts.25", "four-digit"),
    ({"vat_accounts": {"moms": 2611}}, "ledger.vat_accounts.moms", "VAT rate"),
    ({"outlay_fees": "income"}, "ledger.outlay_fees", "revenue, receivable"),
    ({"outlay_fee_accounts": {"revenue": 39900}}, "ledger.outlay_fee_accounts.revenue", "four-digit"),
    ({"outlay_fee_accounts": {"other": 3990}}, "ledger.outlay_fee_accounts.other", "not a known setting"),
    ({"detail": "line"}, "ledger.detail", "account, invoice"),
    ({"series": "A B"}, "ledger.series", "letters or digits"),
    ({"objects": {"39": {"1": "100"}}}, "ledger.objects.39", "four-digit"),
    ({"objects": {"3921": {"kst": "100"}}}, "ledger.objects.3921.kst", "dimension"),
    ({"objects": {"3921": {"1": ""}}}, "ledger.objects.3921.1", "object id"),
    ({"account_names": {"3922": ""}}, "ledger.account_names.3922", "name"),
    ({"texts": {"voucher": "Amili {{ reference "}}, "ledger.texts.voucher", "not a valid template"),
    ({"texts": {"line": "{{ no_such_variable }}"}}, "ledger.texts.line", "no_such_variable"),
    ({"texts": {"voucher": "{{ reference | no_such_filter }}"}}, "ledger.texts.voucher", "no_such_filter"),
    ({"texts": {"voucher": "{# nothing #}"}}, "ledger.texts.voucher", "empty voucher text"),
    ({"texts": {"subject": "x"}}, "ledger.texts.subject", "not a known setting"),
    ({"categories": "capital"}, "ledger.categories", "must be a table"),
])
def test_a_bad_ledger_configuration_fails_naming_the_key(doc, key, words):
    with pytest.raises(ConfigError) as err:
        ledger(doc)
    message = str(err.value)
    assert message.startswith(f"c.toml: [{key}]"), message
    assert words in message
