"""[ledger] receivable_account: the one setting for where capital and receivable-type outlay are credited.

1510 Kundfordringar by default; a clearing account (e.g. 1689) for a company
whose customer ledger lives in Fortnox or Visma. The mapping follows it, and
an explicit mapping line may not quietly book receivables somewhere else.
"""

from __future__ import annotations

import tomllib
from datetime import date
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest

from ledger_export import cli
from ledger_export.core.errors import ConfigError
from ledger_export.core.resources import SAMPLES
from ledger_export.jobs import config
from ledger_export.jobs.export import ExportOptions, export
from ledger_export.jobs.starter import starter_config
from ledger_export.ledger.mapping import AccountMap
from ledger_export.ledger.settings import LedgerSettings
from ledger_export.sie.reader import read_sie

SAMPLE_CONFIG = (SAMPLES / "ledger-export.toml").read_text(encoding="utf-8")


def ledger(doc: dict) -> LedgerSettings:
    return config.from_dict({"ledger": doc}, source="c.toml").ledger


def refused(doc: dict) -> str:
    with pytest.raises(ConfigError) as err:
        ledger(doc)
    return str(err.value)


def test_the_default_is_1510_for_capital_the_invoice_fee_and_receivable_outlay_fees():
    m = AccountMap(ledger({"outlay_fees": "receivable"}))
    assert LedgerSettings().receivable_account == 1510
    for category, article in (("capital", "capital"), ("creditor_outlay", "invoice_fee"),
                              ("creditor_outlay", "reminder"), ("creditor_outlay", "late_payment_fee")):
        assert m.rule(category, article).account == 1510, article


def test_a_clearing_account_moves_every_receivable_and_nothing_else():
    m = AccountMap(ledger({"receivable_account": 1689, "outlay_fees": "receivable"}))
    assert [m.rule(c, a).account for c, a in (("capital", "capital"), ("creditor_outlay", "invoice_fee"),
                                              ("creditor_outlay", "reminder"))] == [1689, 1689, 1689]
    assert (m.rule("interest", "interest").account, m.rule("creditor_outlay", "enforcement").account,
            m.rule("creditor_commission", "reminder").account) == (8313, 6062, 3921)
    # Built in code, not read from a file, the settings follow it just the same.
    assert AccountMap(LedgerSettings(receivable_account=1689)).rule("capital", "capital").account == 1689


def test_an_explicit_line_that_agrees_or_books_income_stays():
    m = AccountMap(ledger({"receivable_account": 1689,
                           "categories": {"capital": {"articles": {"capital": 1689}},
                                          "creditor_outlay": {"articles": {"invoice_fee": 3990}}},
                           "outlay_fee_accounts": {"receivable": 3991}, "outlay_fees": "receivable"}))
    assert m.rule("capital", "capital").account == 1689
    assert m.rule("creditor_outlay", "invoice_fee").account == 3990  # a fee never invoiced: income
    assert m.rule("creditor_outlay", "reminder").account == 3991


@pytest.mark.parametrize("doc, message", [
    # The old starter file's line, left in place after receivable_account moved.
    ({"receivable_account": 1689, "categories": {"capital": {"articles": {"capital": 1510}}}},
     "c.toml: [ledger.categories.capital.articles.capital] is 1510 but [ledger] receivable_account is 1689: "
     "delete this line (it follows receivable_account) or give both the same account"),
    # The old way to a clearing account, without the setting.
    ({"categories": {"creditor_outlay": {"articles": {"invoice_fee": 1689}}}},
     "c.toml: [ledger.categories.creditor_outlay.articles.invoice_fee] is 1689 but [ledger] receivable_account "
     "is 1510: delete this line (it follows receivable_account) or give both the same account"),
    ({"receivable_account": 1689, "outlay_fee_accounts": {"receivable": 1510}},
     "c.toml: [ledger.outlay_fee_accounts.receivable] is 1510 but [ledger] receivable_account is 1689: "
     "delete this line (it follows receivable_account) or give both the same account"),
    ({"receivable_account": 15100},
     "c.toml: [ledger.receivable_account] must be a four-digit account (1000-9999), got 15100"),
    ({"receivable_account": "1689"}, "c.toml: [ledger.receivable_account] must be a whole number, got '1689'"),
    ({"receivable_account": 3010},
     "c.toml: [ledger.receivable_account] must be a balance-sheet account (1000-2999), such as 1510 "
     "Kundfordringar or a clearing account like 1689, got 3010"),
    ({"receivable_account": 2999},
     "c.toml: [ledger.receivable_account] is 2999, the same account as [ledger] suspense_account: "
     "receivables need an account of their own"),
    ({"receivable_account": 1940, "bank_account": 1940},
     "c.toml: [ledger.receivable_account] is 1940, the same account as [ledger] bank_account: "
     "receivables need an account of their own"),
    ({"receivable_account": 2611},
     "c.toml: [ledger.receivable_account] is 2611, the same account as [ledger] vat_accounts.25: "
     "receivables need an account of their own"),
])
def test_a_bad_or_disagreeing_value_is_refused_naming_the_setting(doc, message):
    assert refused(doc) == message


def test_a_bad_value_stops_the_cli_with_one_line_naming_the_setting(tmp_path, capsys):
    path = tmp_path / "c.toml"
    path.write_text(SAMPLE_CONFIG + "\n[ledger]\nreceivable_account = 168\n", encoding="utf-8")
    code = cli.main(["export", "--period", "2025-06", "--config", str(path), "--dry-run"])
    err = capsys.readouterr().err
    assert code != 0 and err.count("\n") == 1 and "Traceback" not in err
    assert f"{path}: [ledger.receivable_account] must be a four-digit account (1000-9999), got 168" in err


def test_the_starter_explains_it_and_its_example_is_valid():
    text = starter_config()
    doc = tomllib.loads(text)
    assert doc["ledger"]["receivable_account"] == 1510
    assert "1689 Övriga kortfristiga fordringar" in text and "Visma eEkonomi" in text
    assert "invoice-payments-<period>.csv" in text
    # The starter's own mapping names no receivable account, so changing the one setting is enough.
    changed = text.replace("receivable_account = 1510", "receivable_account = 1689")
    m = AccountMap(config.from_dict(tomllib.loads(changed)).ledger)
    assert (m.rule("capital", "capital").account, m.rule("creditor_outlay", "invoice_fee").account) == (1689, 1689)


def _export(demo_period: Path, tmp_path: Path, extra: str) -> Path:
    tmp_path.mkdir()
    path = tmp_path / "c.toml"
    path.write_text(SAMPLE_CONFIG + extra, encoding="utf-8")
    cfg = config.load(path, overrides={"output.folder": str(tmp_path / "out")})
    export(cfg, None, ExportOptions(generated=date(2025, 7, 1), from_raw=demo_period / "raw"))
    return tmp_path / "out" / "2025-06"


def _trial_balance_accounts(xlsx: Path) -> set[int]:
    ws = openpyxl.load_workbook(xlsx)["Trial balance"]
    return {row[0] for row in ws.iter_rows(min_row=2, values_only=True) if isinstance(row[0], int)}


def test_the_setting_changes_the_si_files_account_and_the_trial_balance(demo_period, tmp_path):
    default = _export(demo_period, tmp_path / "default", "")
    clearing = _export(demo_period, tmp_path / "clearing", "\n[ledger]\nreceivable_account = 1689\n")

    def totals(folder: Path) -> dict[int, Decimal]:
        sie = read_sie((folder / "ledger-2025-06.si").read_bytes(), "ledger-2025-06.si")
        out: dict[int, Decimal] = {}
        for voucher in sie.vouchers:
            for t in voucher.transactions:
                out[int(t.account)] = out.get(int(t.account), Decimal(0)) + t.amount
        return out

    before, after = totals(default), totals(clearing)
    assert 1510 in before and 1689 not in before
    assert 1510 not in after and after[1689] == before[1510] < 0
    assert {k: v for k, v in after.items() if k != 1689} == {k: v for k, v in before.items() if k != 1510}
    si = (clearing / "ledger-2025-06.si").read_bytes().decode("cp437")
    assert '#KONTO 1689 "Övriga kortfristiga fordringar"' in si
    assert 1689 in _trial_balance_accounts(clearing / "ledger-2025-06.xlsx")
    assert 1510 not in _trial_balance_accounts(clearing / "ledger-2025-06.xlsx")
