"""Every number of the workbook, read by three other programs, is the ledger's, to the öre.

python-calamine reads the values as stored (what pandas, file previewers
and mail attachments show: no recalculation); LibreOffice and Gnumeric get
the workbook with every formula's stored result removed and calculate it
themselves (tests/support/spreadsheets.py). Each reader's figures are
compared with the ledger and the period data, sheet by sheet: the trial
balance per account, the Summary per category, the counts, the payments
sum, and every amount of the Vouchers, Payouts, Specifications and
Creditor payments sheets.
"""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import replace
from decimal import Decimal
from typing import Any

import pytest

from ledger_export.amili.models import PeriodData
from ledger_export.core.money import ZERO
from ledger_export.ledger.model import Ledger, Line, Voucher
from support.audit_pack import DATA, DOCUMENTS, LEDGER, PAYOUTS, SPECIFICATIONS, render
from support.spreadsheets import Rows, calamine, gnumeric, libreoffice

READERS = ("python-calamine", "LibreOffice", "Gnumeric")


@pytest.fixture(scope="module", params=READERS)
def read(request, tmp_path_factory):
    """bytes -> {sheet: rows}, as one reader shows the workbook."""
    if request.param == "python-calamine":
        return calamine
    folder = tmp_path_factory.mktemp(request.param)
    if request.param == "LibreOffice":
        convert = libreoffice(folder)
        return lambda xlsx: calamine(convert(xlsx, "xlsx").read_bytes())
    to_xlsx = gnumeric(folder)
    return lambda xlsx: calamine(to_xlsx(xlsx).read_bytes())


def ore(value: Any) -> Decimal:
    assert isinstance(value, (int, float)), f"not a number: {value!r}"
    return Decimal(repr(round(value, 2))).quantize(Decimal("0.01"))


def amount(value: Any) -> Decimal | None:
    return None if value == "" else ore(value)


def trial_balance(rows: Rows) -> tuple[dict[int, tuple[Decimal, ...]], tuple[Decimal, ...], str]:
    body = rows["Trial balance"][1:]
    accounts = {int(r[0]): (ore(r[2]), ore(r[3]), ore(r[4])) for r in body if isinstance(r[0], float)}
    total = next(r for r in body if r[0] == "Total")
    check = next(r for r in body if r[0] == "Debit = credit")
    return accounts, (ore(total[2]), ore(total[3]), ore(total[4])), check[1]


def expected_trial_balance(ledger: Ledger) -> tuple[dict[int, tuple[Decimal, ...]], tuple[Decimal, ...], str]:
    sides = ledger.debit_credit()
    accounts = {a: (d, c, d - c) for a, (d, c) in sides.items()}
    debit = sum((d for d, _ in sides.values()), ZERO)
    credit = sum((c for _, c in sides.values()), ZERO)
    return accounts, (debit, credit, debit - credit), "yes" if debit == credit else "NO"


def summary(rows: Rows) -> dict[str, list[Any]]:
    return {r[0]: r[1:] for r in rows["Summary"] if r[0] != ""}


def category_figures(rows: Rows, data: PeriodData) -> dict[str, tuple]:
    by_label = summary(rows)
    return {c: (int(by_label[c][0]), int(by_label[c][1]), *(ore(v) for v in by_label[c][2:5]))
            for c in {p.finance_category for p in data.payouts} | {"Total"}}


def expected_categories(data: PeriodData) -> dict[str, tuple]:
    lines = Counter(s.finance_category for s in data.specifications)
    figures: dict[str, tuple] = {}
    for category in {p.finance_category for p in data.payouts}:
        payouts = [p for p in data.payouts if p.finance_category == category]
        figures[category] = (len(payouts), lines[category], sum((p.amount for p in payouts), ZERO),
                             sum((p.vat_amount for p in payouts), ZERO), sum((p.total_amount for p in payouts), ZERO))
    figures["Total"] = (len(data.payouts), len(data.specifications), sum((p.amount for p in data.payouts), ZERO),
                        sum((p.vat_amount for p in data.payouts), ZERO),
                        sum((p.total_amount for p in data.payouts), ZERO))
    return figures


@pytest.fixture(scope="module")
def sample(read) -> Rows:
    return read(render())


def test_trial_balance_is_the_ledgers(sample):
    assert trial_balance(sample) == expected_trial_balance(LEDGER)
    assert trial_balance(sample)[1] == (Decimal("16405.67"), Decimal("16405.67"), ZERO)


def test_summary_totals_per_category_are_the_payouts(sample):
    assert category_figures(sample, DATA) == expected_categories(DATA)


def test_summary_counts_and_payments_sum(sample):
    rows = summary(sample)
    lines = sum(len(v.lines) for v in LEDGER.vouchers)
    assert [int(rows[label][0]) for label in ("Vouchers", "Ledger lines", "Payouts", "Specification lines",
                                              "Self-invoices in place", "Creditor payments (direct)")] == [
        len(LEDGER.vouchers), lines, len(DATA.payouts), len(DATA.specifications),
        sum(1 for d in DOCUMENTS if d.in_place), len(DATA.payments)]
    assert ore(rows["Creditor payments (direct)"][1]) == sum((p.amount for p in DATA.payments), ZERO)
    table = [r[0] for r in sample["Summary"]].index("Reconciliation per payout") + 2
    reconciliation = sample["Summary"][table:table + len(DATA.payouts)]
    assert [(r[0], ore(r[4])) for r in reconciliation] == [(p.id, p.total_amount) for p in DATA.payouts]


def test_every_amount_of_the_source_sheets_is_the_datas(sample):
    vouchers = [(int(r[3]), (amount(r[5]) or ZERO) - (amount(r[6]) or ZERO)) for r in sample["Vouchers"][1:]]
    assert vouchers == [(line.account, line.amount) for v in LEDGER.vouchers for line in v.lines]
    payouts = [(ore(r[10]), ore(r[11]), ore(r[12]), int(r[13])) for r in sample["Payouts"][1:]]
    assert payouts == [(p.amount, p.vat_amount, p.total_amount, len(DATA.lines_of(p))) for p in DATA.payouts]
    specifications = [(ore(r[11]), ore(r[12]), ore(r[13])) for r in sample["Specifications"][1:]]
    assert specifications == [(s.amount, s.vat_amount, s.total_amount) for s in DATA.specifications]
    payments = [ore(r[7]) for r in sample["Creditor payments"][1:]]
    assert payments == [p.amount for p in DATA.payments]


def test_formula_looking_texts_stay_texts(sample):
    texts = [r[7] for r in sample["Vouchers"][1:]]
    originals = {r[7]: r[8] for r in sample["Vouchers"][1:] if r[8]}
    assert {"=1+1", "@SUM(A1)", "+46701234567", "-5", "=cmd"} <= set(texts)
    # As the SIE file has it (the tab a space, trimmed), the original beside it. Gnumeric reads
    # the tab (its own .gnumeric file keeps it) but its .xlsx export, which this test reads
    # its results from, drops it; test_workbook_cells holds calamine and openpyxl to the tab.
    assert list(originals) == ["=cmd"] and originals["=cmd"] in ("\t=cmd", "=cmd")
    assert sample["Creditor payments"][1][3] == '=HYPERLINK("x")'
    assert sample["Payouts"][2][4] == "=1+1"


# Categories a COUNTIFS criterion would read as a pattern ("a*" would take "ab" in Excel) or a
# comparison, and two that differ only in case: each counts and sums only its own payouts.
ODD_CATEGORIES = ("a*", "ab", "capital", "Capital", "<5", "=x")


def test_categories_that_look_like_patterns_are_counted_as_written(read):
    payouts = tuple(replace(p, finance_category=c) for p, c in zip(PAYOUTS, ODD_CATEGORIES))
    by_payout = {p.id: p.finance_category for p in payouts}
    specifications = tuple(replace(s, finance_category=by_payout[s.payout]) for s in SPECIFICATIONS)
    data = replace(DATA, payouts=payouts, specifications=specifications)
    rows = read(render(data=data))
    assert category_figures(rows, data) == expected_categories(data)


def _many_vouchers(count: int) -> Ledger:
    """Öre amounts that floats cannot hold exactly, summed over many lines."""
    rng = random.Random(2025)
    accounts = (1510, 3921, 2611, 3990, 6062, 8313)
    vouchers = []
    for n in range(count):
        parts = [Decimal(rng.randint(-99_999_99, 99_999_99)) / 100 for _ in range(rng.randint(1, 4))]
        lines = [Line(rng.choice(accounts), -part) for part in parts]
        lines.append(Line(1930, sum(parts, Decimal("0.00"))))
        vouchers.append(Voucher(date=PAYOUTS[0].payout_date, text=f"Amili {n}", lines=tuple(lines),
                                payout_id=f"p{n}"))
    return Ledger(tuple(vouchers), account_names=LEDGER.account_names)


def test_totals_hold_to_the_ore_over_many_lines(read):
    ledger = _many_vouchers(600)
    data = replace(DATA, payouts=(), specifications=(), payments=())
    rows = read(render(ledger=ledger, data=data, documents=()))
    assert trial_balance(rows) == expected_trial_balance(ledger)
    # Not -9.6e-14: the net total is rounded to öre where it is computed.
    total = next(r for r in rows["Trial balance"] if r[0] == "Total")
    assert total[4] == 0


def test_invoice_payments_add_up_to_the_receivable_credit_in_every_reader(sample):
    from ledger_export.ledger.invoice_payments import invoice_payments
    from ledger_export.outputs.invoice_payments_table import AMOUNT_COLUMN

    expected = invoice_payments(LEDGER, DATA)
    rows = sample["Invoice payments"][1:]
    body = rows[:len(expected.payments)]
    assert [ore(r[AMOUNT_COLUMN]) for r in body] == [p.amount for p in expected.payments]
    labels = {r[0]: r for r in rows[len(expected.payments):]}
    assert ore(labels["Total"][AMOUNT_COLUMN]) == expected.total == expected.credited
    assert ore(labels[f"Credited to {expected.account} (Vouchers)"][AMOUNT_COLUMN]) == expected.credited
    assert labels["Total = credited"][AMOUNT_COLUMN] == "yes"
    counted = summary(sample)[f"Invoice payments (credited to {expected.account})"]
    assert (int(counted[0]), ore(counted[1])) == (len(expected.payments), expected.credited)
