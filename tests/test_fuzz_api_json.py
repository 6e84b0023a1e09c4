"""Fuzzing Amili's JSON (issue 7, part 4): whatever the API sends, sound books or a clear error.

Hypothesis changes one to three fields of the hand-made June period of
support/hostile.py (drops them, nulls them, gives them the wrong type, odd
text, amounts with three decimals, huge or negative ones, odd or invalid
dates) and books it from a raw snapshot. The only outcomes allowed are the
ones a bookkeeper can act on: sound books, or one LedgerExportError line
that names the record and the field, with nothing written. Any other
exception fails the test with its traceback.

Every class of character is in play, lone surrogates and U+FFFE/U+FFFF
included, and so are dates from year 1 to 9999 with any offset and numbers
far beyond 10^26: each of these once broke the run (test_hostile_data has a
test per case).
"""

from __future__ import annotations

import tempfile
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from email.utils import format_datetime
from pathlib import Path

from hypothesis import given, settings, strategies as st
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

from ledger_export.core.errors import RecordError, ResponseFormatError, printable
from ledger_export.jobs.export import ReconciliationFailed
from support.hostile import (DOCUMENT_NAMES, FORMULAS, INVALID_DATES, ODD_DATES, TEXTS, assert_clear_error,
                             assert_sound_books, payout_id, period_items, rebalance, run_raw)

DROP = "<drop>"
SUMMARY = ("summary", "*")  # the payout's first article, whichever it is
PAYOUT_FIELDS = ["_id", "_etag", "_created", "creditor", "currency", "payout_reference", "payout_date",
                 "ledger_account", "finance_category", "finance_interval", "finance_period_start_date",
                 "finance_period_end_date", "amount", "vat_amount", "total_amount", "summary", "document",
                 (*SUMMARY, "count"), (*SUMMARY, "amount"), (*SUMMARY, "vat_amount"), (*SUMMARY, "total_amount"),
                 ("document", "name"), ("document", "length"), ("document", "file")]
LINE_FIELDS = ["_id", "_etag", "_created", "creditor", "currency", "payout", "payout_reference", "payout_date",
               "booking_date", "invoice_number", "reference_number", "references", ("references", "case"),
               "article", "finance_category", "state", "amount", "vat_amount", "total_amount", "banking_transaction"]
PAYMENT_FIELDS = ["_id", "_etag", "_created", "creditor", "case", "invoice_number", "case_invoice_number",
                  "currency", "amount", "settled_amount", "bank_transaction_date", "booking_date",
                  "creditor_payment_reference", "status"]
TARGETS = ([("payouts", i, f) for i in range(4) for f in PAYOUT_FIELDS]
           + [("specifications", i, f) for i in range(7) for f in LINE_FIELDS]
           + [("payments", 0, f) for f in PAYMENT_FIELDS])

texts = st.text(st.characters(), max_size=40)
hostile_texts = st.sampled_from([*TEXTS.values(), *FORMULAS, *DOCUMENT_NAMES, "capital", "interest",
                                 "creditor_commission", "SEK", "sek", "EUR", payout_id(2)])
exact_amounts = st.one_of(
    st.decimals(min_value=-10**6, max_value=10**6, places=2),
    st.decimals(min_value=-10**6, max_value=10**6, places=3),
    st.decimals(min_value=10**12, max_value=10**16, places=2),
    st.integers(min_value=-10**15, max_value=10**15),
)
amounts = st.one_of(exact_amounts, st.floats(allow_nan=False, allow_infinity=False),
                    st.decimals(min_value=10**25, max_value=10**40, places=0))
offsets = st.integers(min_value=-14 * 60, max_value=14 * 60).map(lambda m: timezone(timedelta(minutes=m)))
dates = st.one_of(
    st.datetimes(min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30), timezones=offsets)
    .map(format_datetime),
    st.sampled_from(ODD_DATES + [d for d in INVALID_DATES if isinstance(d, str)]),
)
wrong_types = st.one_of(st.none(), st.booleans(), st.integers(-10**20, 10**20), st.lists(st.integers(), max_size=2),
                        st.dictionaries(st.text(max_size=4), st.integers(), max_size=2))
values = st.one_of(st.just(DROP), wrong_types, texts, hostile_texts, amounts, dates)
mutations = st.lists(st.tuples(st.sampled_from(TARGETS), values), min_size=1, max_size=3)


def apply(items: dict, target: tuple, value) -> str | None:
    """Set one field; returns the field's name as an error would say it (None: nothing changed)."""
    kind, index, path = target
    record = items[kind][index]
    path = (path,) if isinstance(path, str) else path
    for position, key in enumerate(path[:-1]):
        if key == "*":
            if not record:
                return None
            key = sorted(record)[0]
            path = (*path[:position], key, *path[position + 1:])
        if not isinstance(record.get(key), dict):
            return None
        record = record[key]
    if value == DROP:
        record.pop(path[-1], None)
    else:
        record[path[-1]] = value
    return ".".join(path)


def as_shown(text: str) -> str:
    """A text as the workbook holds it once read back: XML-illegal characters replaced, CR as LF."""
    return ILLEGAL_CHARACTERS_RE.sub("\ufffd", text).replace("\r\n", "\n").replace("\r", "\n")


def assert_names_a_record_and_field(error, items: dict, changed: set[str]) -> None:
    message = str(error)
    if isinstance(error, RecordError):
        assert error.kind in message
        if error.field is None:
            assert "not a JSON object" in message, message
            return
        assert f"'{printable(error.field)}'" in message  # a key from the data is shown escaped
        # The field is one we changed (or an _id that now appears twice, or a field that holds one).
        roots = {name.split(".")[0] for name in changed}
        assert error.field.split(".")[0] in roots | {"_id"}, message
    elif isinstance(error, ReconciliationFailed):
        ids = {p.get("_id") for p in items["payouts"] if isinstance(p, dict)}
        assert any(isinstance(i, str) and i in message for i in ids), message
    elif isinstance(error, ResponseFormatError):
        # The checks a fetch makes (creditor, date in the period, line of a payout asked for),
        # made on the raw snapshot: "<resource> <_id>: field '<name>' ...".
        roots = {name.split(".")[0] for name in changed}
        assert any(f"field '{root}'" in message for root in roots | {"payout", "_id"}), message
        kinds = ("finance--payouts", "finance--payout-specifications", "creditor--payments")
        assert message.startswith(kinds), message
    else:
        raise AssertionError(f"unexpected {type(error).__name__}: {message}")


@settings(max_examples=120, deadline=None)
@given(mutations)
def test_any_json_gives_sound_books_or_a_clear_error(changes):
    items = period_items()
    changed = {name for target, value in changes if (name := apply(items, target, value))}
    with tempfile.TemporaryDirectory() as tmp:
        run = run_raw(Path(tmp), items)  # anything but a LedgerExportError propagates and fails
        if run.error is None:
            workbook = assert_sound_books(run)
            final = {target: value for target, value in changes}  # a field changed twice keeps the last
            for text in (v for v in final.values() if isinstance(v, str) and as_shown(v)):
                # Wherever a text from Amili is shown, it is a text cell, never a formula.
                assert all(c.data_type == "s" for ws in workbook for row in ws.iter_rows() for c in row
                           if isinstance(c.value, str) and c.value == as_shown(text)), text
        else:
            assert_clear_error(run)
            assert_names_a_record_and_field(run.error, items, changed)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(range(7)), exact_amounts), min_size=1, max_size=4))
def test_any_consistent_amounts_book_to_the_öre_or_are_refused(changes):
    """Line amounts changed with their payout kept consistent: books that balance, or a named refusal."""
    items = period_items()
    for index, amount in changes:
        items["specifications"][index]["amount"] = Decimal(amount)
    for n in range(1, 5):
        rebalance(items, n)
    with tempfile.TemporaryDirectory() as tmp:
        run = run_raw(Path(tmp), items)
        if run.error is None:
            assert_sound_books(run)
            totals = run.result.ledger.account_totals()
            assert sum(totals.values(), Decimal("0.00")) == 0
            bank = sum((p["total_amount"] for p in items["payouts"]), Decimal("0.00"))
            assert totals[1930] == bank
        else:
            assert_clear_error(run)
            assert_names_a_record_and_field(run.error, items, {"amount", "vat_amount", "total_amount", "summary"})
