"""SIE fast paths give exactly what the full paths give: clean_text, the #TRANS rows, shared fields.

Each fast path exists for the 100,000-row file (BENCHMARKS.md); a bookkeeper
must get the same bytes from it as before, for any text.
"""

from __future__ import annotations

import dataclasses
from datetime import date
from decimal import Decimal
from types import MappingProxyType

import jinja2
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ledger_export.core.settings import Company
from ledger_export.ledger.model import Ledger, Line, Voucher
from ledger_export.sie import text
from ledger_export.sie import writer
from ledger_export.sie.lexer import lex, lex_line

# Characters that take each branch of clean_text: printable ASCII and CP437 letters (fast),
# blanks and backslashes (fixed on the fast path), and what only the full path handles:
# controls, line breaks, no-break and zero-width spaces, letters CP437 lacks, a fullwidth
# backslash that decomposes to a real one, an accent that decomposes to a space.
TRICKY = list('ab Z09 "\\åÄéü½░') + ["  ", "\t", "\r\n", "\x00", "\x7f", "\x85", "\xa0", "\u2028",
                                      "\u200b", "\u00ad", "€", "–", "Ł", "田", "ﬁ", "＼", "´", "🙂", "ref "]
texts = st.one_of(st.text(), st.lists(st.sampled_from(TRICKY), max_size=30).map("".join))
# References, and texts made mostly of one, reach the cut branches of shorten.
references = st.one_of(st.none(), st.sampled_from(["R-1", " R 1 ", "a" * 45 + " bcd", "Ref\t9"]), texts)
texts_with_references = st.one_of(texts, st.lists(st.sampled_from(["R-1", " ", "ref", "x"]),
                                                  min_size=10, max_size=40).map("".join))


@settings(max_examples=500, deadline=None)
@given(texts)
def test_clean_text_gives_what_the_character_by_character_path_gives(raw):
    assert text.clean_text(raw) == text._clean_full(raw)


@pytest.mark.parametrize("raw, cleaned", [
    ("  Kapital  fakt\\12  ", "Kapital fakt/12"),  # fast path: blanks and backslashes only
    ("Påminnelse ½ ░", "Påminnelse ½ ░"),         # CP437 holds these: untouched
    ("Kapital\u00a0fakt", "Kapital fakt"),         # a no-break space is not printable: full path
    ("A＼B", "A/B"),                               # decomposes to a backslash: full path, then a slash
])
def test_clean_text_examples_on_both_paths(raw, cleaned):
    assert text.clean_text(raw) == text._clean_full(raw) == cleaned


@settings(max_examples=500, deadline=None)
@given(texts_with_references, references)
def test_shorten_keeps_a_clean_text_clean_so_the_writer_need_not_clean_it_twice(raw, reference):
    keep = text.clean_text(reference) if reference else None
    short = text.shorten(text.clean_text(raw), keep)
    assert text.clean_text(short) == short


def test_shorten_of_a_text_that_is_only_its_reference_has_no_leading_blank():
    assert text.shorten("R-1 " * 20, "R-1") == "ref R-1"


def test_shorten_to_a_long_reference_has_no_trailing_blank():
    assert text.shorten("x" * 60, "a" * 45 + " bcd") == "ref " + "a" * 45


# -- the #TRANS rows ------------------------------------------------------------------

def rows_the_slow_way(ledger: Ledger) -> list[str]:
    """The #TRANS rows as the template wrote them before the writer formatted them: one
    filter per field, the text cleaned again by sie_quote."""
    env = jinja2.Environment(undefined=jinja2.StrictUndefined, autoescape=False)
    env.filters.update(sie_quote=text.quote, sie_amount=writer.sie_amount, sie_objects=writer.sie_objects)
    row = env.from_string('#TRANS {{ line.account }} {{ line.objects | sie_objects }} '
                          '{{ line.amount | sie_amount }} "" {{ line_text | sie_quote }}')
    rows = []
    for voucher in ledger.vouchers:
        keep = text.clean_text(voucher.payout_reference) if voucher.payout_reference else None
        rows += [row.render(line=line, line_text=text.shorten(text.clean_text(line.text), keep))
                 for line in voucher.lines]
    return rows


ACCOUNTS = MappingProxyType({1930: "Bank", 2611: "Moms", 3010: "Försäljning", 6570: "Avgift"})
amounts = st.integers(-10**11, 10**11).map(lambda ore: Decimal(ore).scaleb(-2))
objects = st.one_of(st.just(()), st.lists(st.tuples(st.sampled_from(["1", "6"]), texts), max_size=2).map(tuple))


@st.composite
def vouchers(draw) -> Voucher:
    lines = [Line(draw(st.sampled_from(sorted(ACCOUNTS))), draw(amounts), draw(texts_with_references),
                  draw(objects)) for _ in range(draw(st.integers(1, 4)))]
    balance = -sum((line.amount for line in lines), Decimal("0.00"))
    lines.append(Line(1930, balance, draw(texts)))
    return Voucher(date(2025, 6, draw(st.integers(1, 30))), draw(texts), tuple(lines),
                   series=draw(st.sampled_from(["", "A"])), payout_reference=draw(references))


@settings(max_examples=150, deadline=None)
@given(st.lists(vouchers(), min_size=1, max_size=3), st.sampled_from(["\r\n", "\n"]), st.booleans())
def test_rows_formatted_in_python_are_the_rows_the_template_wrote(vouchers_, line_ending, ksumma):
    ledger = Ledger(tuple(vouchers_), ACCOUNTS)
    data = writer.render_sie(ledger, Company(name="Bolaget AB", orgnr="556677-8899"),
                             generated=date(2025, 7, 1), program_version="1", ksumma=ksumma,
                             line_ending=line_ending).decode("cp437")
    assert data.endswith(line_ending) and data.count("\n") == data.count(line_ending)
    lines = data.split(line_ending)
    assert [line for line in lines if line.startswith("#TRANS")] == rows_the_slow_way(ledger)
    # Each voucher: #VER, "{", its rows, "}".
    at = 0
    for voucher in ledger.vouchers:
        at = next(i for i in range(at, len(lines)) if lines[i].startswith("#VER"))
        block = lines[at + 1:at + len(voucher.lines) + 3]
        assert block[0] == "{" and block[-1] == "}" and all(r.startswith("#TRANS") for r in block[1:-1])
        at += 1


# -- shared fields in the lexer -------------------------------------------------------

sie_lines = st.lists(st.one_of(st.text(), st.lists(st.sampled_from(
    ["#TRANS", "#VER", " ", "\t", '"', '\\"', "{", "}", "1930", '""', "{}", "{1 \"2\"}", "-12.50", "Text"]),
    max_size=10).map("".join)), max_size=8)


@settings(max_examples=300, deadline=None)
@given(sie_lines)
def test_a_file_lexed_with_shared_fields_equals_its_lines_lexed_alone(lines):
    data = "\n".join(lines) + "\n"
    records, _ = lex(data)
    alone = [lex_line(line.removesuffix("\r"), number)
             for number, line in enumerate(data.split("\n")[:-1], start=1)]
    assert records == tuple(record for record in alone if record is not None)


def test_repeated_short_fields_and_labels_are_one_object_within_a_file_only():
    data = '#TRANS 1930 {} 100.00 "" "Kapital fakt 1001"\n#TRANS 1930 {} 100.00 "" "Kapital fakt 1001"\n'
    (first, second), _ = lex(data)
    assert first.fields == second.fields
    assert first.label is second.label
    assert all(a is b for a, b in zip(first.fields[:4], second.fields[:4]))  # account, {}, amount, ""
    assert first.fields[4] is not second.fields[4]  # a long text is not looked up
    (again, _), _ = lex(data)
    assert again.fields[0] == first.fields[0] and again.fields[0] is not first.fields[0]


def test_a_shared_field_cannot_be_changed_through_one_of_its_records():
    (record, _), _ = lex('#TRANS 1930 {} 1.00\n#TRANS 1930 {} -1.00\n')
    with pytest.raises(dataclasses.FrozenInstanceError):
        record.fields[0].text = "2611"
