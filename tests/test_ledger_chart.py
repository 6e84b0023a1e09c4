from pathlib import Path

import pytest

from ledger_export.sie.chart import read_chart
from ledger_export.core.errors import LedgerExportError
from ledger_export.ledger.chart import AccountNotInChartError, Chart, ChartError
from ledger_export.ledger.settings import LedgerSettings
from ledger_export.ledger.vouchers import build_ledger
from support.records import one_payout, period_data


@pytest.fixture
def sie4(shared_sie) -> Path:
    """SoftOne's export of a chart of accounts, as Fortnox or Visma users hand it over."""
    return shared_sie / "samples" / "Sie4.se"


def test_chart_reads_the_accounts_of_a_fortnox_or_visma_export(sie4):
    chart = read_chart(sie4)
    # SoftOne pads names to a fixed width; the padding is not part of the name.
    assert chart.accounts[1930] == "Checkräkningskonto"
    assert chart.accounts[1516] == "Tvistiga kundfordringar"
    assert 1510 in chart and 3921 not in chart
    assert chart.source == str(sie4)


def test_booking_on_an_account_the_chart_lacks_is_refused_naming_account_category_and_article(sie4):
    data = one_payout("creditor_commission", [("reminder", 60, 15), ("debt_collection", 180, 45)])
    with pytest.raises(AccountNotInChartError) as err:
        build_ledger(data, LedgerSettings(), chart=read_chart(sie4))
    message = str(err.value)
    assert "has no account 2611 (used for creditor_commission/reminder, creditor_commission/debt_collection)" in message
    assert "3921 (used for creditor_commission/reminder, creditor_commission/debt_collection)" in message
    assert "1930" not in message  # in the chart
    assert set(err.value.missing) == {2611, 3921}


def test_invoice_detail_names_the_article_of_a_missing_account(sie4):
    data = one_payout("creditor_outlay", [("verdict_fee", 300, 0), ("enforcement", 600, 0)])
    with pytest.raises(AccountNotInChartError, match=r"6062 \(used for creditor_outlay/verdict_fee, "
                                                     r"creditor_outlay/enforcement\)"):
        build_ledger(data, LedgerSettings(), detail="invoice", chart=read_chart(sie4))


def test_account_names_come_from_the_chart_when_given(sie4):
    capital = one_payout("capital", [("capital", 100, 0)])
    interest = one_payout("interest", [("interest", 5, 0)])
    data = period_data([*capital.payouts, *interest.payouts], [*capital.specifications, *interest.specifications])
    ledger = build_ledger(data, LedgerSettings(), chart=read_chart(sie4))
    assert dict(ledger.account_names) == {1510: "Kundfordringar", 1930: "Checkräkningskonto",
                                          8313: "Ränteint fr kortfr fordr"}


def test_a_chart_without_accounts_is_refused(tmp_path):
    path = tmp_path / "empty.se"
    path.write_bytes(b'#FLAGGA 0\n#FORMAT PC8\n#SIETYP 4\n#FNAMN "X"\n')
    with pytest.raises(ChartError, match="has no #KONTO records"):
        read_chart(path)


def test_a_missing_chart_file_is_an_expected_error(tmp_path):
    with pytest.raises(LedgerExportError, match="nope.se"):
        read_chart(tmp_path / "nope.se")


def test_a_chart_check_lists_many_missing_accounts_compactly():
    chart = Chart({1930: "Bank"}, "small.se")
    uses = {account: [f"c/a{account}"] for account in range(3001, 3011)}
    with pytest.raises(AccountNotInChartError, match=r"small\.se has no account 3001 .*, and 4 more"):
        chart.require(uses)
