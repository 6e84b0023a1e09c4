"""SIE texts: CP437 transliteration, control characters, quoting, the 50-character cut."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ledger_export.sie import text
from ledger_export.sie.lexer import lex_line


@pytest.mark.parametrize("char", sorted(text.TRANSLITERATION))
def test_table_holds_only_characters_cp437_lacks_and_spells_them_in_cp437(char):
    with pytest.raises(UnicodeEncodeError):
        char.encode("cp437")
    text.TRANSLITERATION[char].encode("cp437")


@pytest.mark.parametrize("source, expected", [
    ("€ 100", "EUR 100"),
    ("2025–06 — klar", "2025-06 - klar"),
    ("Kalle’s ‘bil’", "Kalle's 'bil'"),
    ("“Anka”", '"Anka"'),
    ("vänta…", "vänta..."),
    ("5 § inkassolagen", "5 par. inkassolagen"),
    ("Søren Østergård", "Sören Östergård"),
    ("Čapek Łódź", "Capek Lódz"),   # accents CP437 lacks dropped (ó it has), Ł from the table
    ("ﬁnans", "finans"),            # compatibility decomposition
    ("åäöÅÄÖéü æÆ", "åäöÅÄÖéü æÆ"),  # all in CP437 already: untouched
    ("zero\u200bwidth soft\u00adhyphen", "zerowidth softhyphen"),
])
def test_transliterate(source, expected):
    assert text.clean_text(source) == expected


def test_a_character_with_no_cp437_spelling_becomes_a_visible_marker_never_a_question_mark():
    assert text.clean_text("Tanaka 田中") == "Tanaka ¿¿"
    assert "?" not in text.clean_text("田中 ☺ 🙂")


def test_clean_text_turns_control_characters_and_line_breaks_into_single_spaces():
    assert text.clean_text("  a\tb\r\nc\x00d\x7fe\u2028f\u0085g\xa0h  ") == "a b c d e f g h"


def test_clean_text_makes_backslashes_slashes_so_no_text_can_escape_its_closing_quote():
    assert text.clean_text("C:\\mapp\\") == "C:/mapp/"


def test_quote_escapes_quotes_and_the_lexer_reads_the_text_back():
    field = text.quote('Kalle "Anka" \\')
    assert field == '"Kalle \\"Anka\\" /"'
    record = lex_line(f"#VER A 1 20250101 {field}", 1)
    assert record.fields[3].text == 'Kalle "Anka" /' and not record.problems


def test_shorten_leaves_a_short_text_alone():
    assert text.shorten("Amili utbetalning", "R1") == "Amili utbetalning"


def test_shorten_cuts_the_middle_and_keeps_the_reference_whole_at_the_end():
    long = "Amili utbetalning 2025-06-13 " + "Kalle Ankas Bärgning och Åkeri AB " * 3 + "ref 4711-0815"
    short = text.shorten(long, "4711-0815")
    assert len(short) == 50
    assert short == "Amili utbetalning 2025-06-13 Kall... ref 4711-0815"
    assert short.count("4711-0815") == 1


def test_shorten_without_a_reference_cuts_the_end():
    assert text.shorten("x" * 60) == "x" * 47 + "..."


def test_shorten_appends_the_reference_when_the_text_lacks_it():
    assert text.shorten("y" * 60, "R-9") == "y" * 39 + "... ref R-9"


@pytest.mark.parametrize("length", range(40, 71))
def test_shorten_cuts_every_text_over_50_to_exactly_50_and_leaves_the_rest_whole(length):
    # Every length near the limit: the property test below draws short texts, and one long
    # text cannot tell "text + reference over 50" from "text alone over 50".
    raw = "y" * length
    if length <= 50:  # 50 is allowed, not cut
        assert text.shorten(raw) == raw and text.shorten(raw, "R-9") == raw
    else:
        assert text.shorten(raw) == "y" * 47 + "..."
        assert text.shorten(raw, "R-9") == "y" * 39 + "... ref R-9"


def test_a_text_of_exactly_50_characters_that_holds_its_reference_is_kept_as_it_is():
    exact = "Amili kapital 2025-06-13 Kalle Anka AB ref 4711-08"
    assert len(exact) == 50
    assert text.shorten(exact, "4711-08") == exact


@settings(max_examples=200, deadline=None)
@given(st.text(), st.one_of(st.none(), st.text(alphabet="ABC0123456789-", min_size=1, max_size=12)))
def test_any_text_becomes_one_safe_cp437_line_of_at_most_50_characters(raw, reference):
    cleaned = text.shorten(text.clean_text(raw), reference)
    assert len(cleaned) <= 50
    cleaned.encode("cp437")
    assert not any(ord(ch) < 32 or ord(ch) == 127 for ch in cleaned)
    assert not cleaned.endswith("\\")
    if reference and len(text.clean_text(raw)) > 50:
        assert cleaned.endswith(f"ref {reference}")
    record = lex_line(f"#TRANS 1930 {{}} 1.00 \"\" {text.quote(cleaned)}", 1)
    assert record.fields[4].text == cleaned and not record.problems


def test_the_table_wins_over_the_compatibility_decomposition():
    # NFKD spells the double prime as two primes (''); the table gives the one quote a reader expects.
    assert text.transliterate("\u2033") == '"'


def test_a_character_that_decomposes_to_nothing_printable_is_the_visible_replacement():
    assert text.transliterate("\u0301") == text.REPLACEMENT  # a combining accent with no letter


def test_a_reference_of_up_to_41_characters_keeps_one_character_of_the_text_and_a_longer_one_only_itself():
    assert text.shorten("x" * 60, "R" * 41) == "x... ref " + "R" * 41
    assert text.shorten("x" * 60, "R" * 42) == "ref " + "R" * 42


def test_a_text_that_fits_once_its_repeated_reference_is_taken_out_is_not_cut():
    repeated = "A" * 21 + " ref R-9 ref R-9 " + "A" * 20  # 58 characters
    assert text.shorten(repeated, "R-9") == "A" * 21 + " " + "A" * 20 + " ref R-9"  # exactly 50
