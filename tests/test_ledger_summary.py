from ledger_export.ledger.settings import LedgerSettings
from ledger_export.ledger.summary import render_summary
from ledger_export.ledger.vouchers import build_ledger
from support.records import payout, period_data, spec


def sample_period():
    lines, payouts = [], []
    for category, rows in [("capital", [("capital", "1000.00", 0), ("capital", "-250.50", 0)]),
                           ("creditor_commission", [("reminder", 60, 15), ("debt_collection", 180, "45.02")]),
                           ("creditor_outlay", [("invoice_fee", 60, 0), ("cost", "12.34", 0)])]:
        pid = f"{len(payouts) + 1:024x}"
        mine = [spec(pid, category, article, amount, vat, f"INV-{i}", id=f"{pid[:-4]}{i:04x}")
                for i, (article, amount, vat) in enumerate(rows, start=1 + 10 * len(payouts))]
        payouts.append(payout(category, mine, id=pid, document="self_invoice_2025_164.pdf"
                              if category == "creditor_commission" else None))
        lines += mine
    return period_data(payouts, lines)


def test_run_summary_shows_vouchers_totals_per_category_and_account_and_warnings(snapshot):
    data = sample_period()
    text = render_summary(build_ledger(data, LedgerSettings()), data)
    assert text == snapshot
    # The figures a bookkeeper checks first, independent of the snapshot.
    assert "3 voucher(s), 8 voucher lines, from 3 payout(s) and 6 specification line(s)" in text
    assert "2999 OBS-konto" in text and "12.34" in text
    assert "Checks: 30 ok, 2 warning(s), 0 error(s)" in text
