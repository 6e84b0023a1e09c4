"""Self-invoice file names that cannot leave their folder, on any file system."""

from __future__ import annotations

from dataclasses import replace
from pathlib import PurePosixPath, PureWindowsPath

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ledger_export.amili.models import Document
from ledger_export.amili.document_names import document_file_names
from support.audit_pack import PAYOUTS

BASE = PAYOUTS[2]


def payout(name: str, n: int = 1, created_day: int = 1):
    return replace(BASE, id=f"66500000000000000000{n:04x}", created=BASE.created.replace(day=created_day),
                   document=Document(file=f"f{n}", name=name, length=10, content_type="application/pdf"))


def name_of(raw: str) -> str:
    return document_file_names([payout(raw)])[payout(raw).id]


def assert_safe(name: str) -> None:
    assert name.endswith(".pdf") and len(name) > len(".pdf")
    assert "/" not in name and "\\" not in name and ".." != name[:2]
    assert not name.startswith((".", " ")) and name == name.strip()
    assert not any(ch in name for ch in '<>:"|?*') and all(ord(ch) >= 32 and ord(ch) != 127 for ch in name)
    assert len(name.encode("utf-8")) <= 200
    for path in (PurePosixPath(name), PureWindowsPath(name)):
        assert len(path.parts) == 1 and not path.is_absolute() and not path.drive
    assert name.split(".")[0].upper() not in {"CON", "PRN", "AUX", "NUL", "COM1", "LPT1"}


@pytest.mark.parametrize("raw, expected", [
    ("self_invoice_2025_164.pdf", "self_invoice_2025_164.pdf"),
    ("../../etc/passwd", "passwd.pdf"),
    ("/abs.pdf", "abs.pdf"),
    ("C:\\x\\y.pdf", "y.pdf"),
    ("C:y.pdf", "C_y.pdf"),
    ("..\\..\\boot.ini", "boot.ini.pdf"),
    ("CON.pdf", "_CON.pdf"),
    ("nul", "_nul.pdf"),
    ("com1.tar.PDF", "_com1.tar.pdf"),
    ("a\x00b.pdf", "ab.pdf"),
    ("line\nbreak\t.pdf", "linebreak.pdf"),
    ("invoice\u202efdp.exe", "invoicefdp.exe.pdf"),
    ('what?<is>"this"|*.pdf', "what__is__this___.pdf"),
    ("  .hidden.pdf", "hidden.pdf"),
    ("trailing. . .pdf", "trailing.pdf"),
    ("report", "report.pdf"),
    ("report.txt", "report.txt.pdf"),
    ("Faktura åäö.pdf", "Faktura åäö.pdf"),
    ("", "self-invoice.pdf"),
    ("../", "self-invoice.pdf"),
    ("....pdf", "self-invoice.pdf"),
    (".pdf", "self-invoice.pdf"),
])
def test_hostile_names_become_safe_plain_names(raw, expected):
    name = name_of(raw)
    assert name == expected
    assert_safe(name)


def test_long_names_are_capped():
    name = name_of("x" * 300 + ".pdf")
    assert name == "x" * 80 + ".pdf"
    wide = name_of("ö" * 300)
    assert len(wide.encode("utf-8")) <= 164 and wide.endswith(".pdf")


def test_duplicates_get_a_payout_suffix_deterministically():
    first, second, third = payout("dup.pdf", 1, 1), payout("DUP.PDF", 2, 2), payout("dup", 3, 3)
    expected = {first.id: "dup.pdf", second.id: "DUP-00000002.pdf", third.id: "dup-00000003.pdf"}
    assert document_file_names([first, second, third]) == expected
    # Input order does not matter: the payout created first keeps the plain name.
    assert document_file_names([third, second, first]) == expected


def test_a_suffix_that_collides_with_a_real_name_is_made_unique():
    a, b, c = payout("x.pdf", 1, 1), payout("x-00000002.pdf", 3, 2), payout("x.pdf", 2, 3)
    names = document_file_names([a, b, c])
    assert names[a.id] == "x.pdf" and names[b.id] == "x-00000002.pdf"
    assert names[c.id] == "x-665000000000000000000002.pdf"
    assert len({n.casefold() for n in names.values()}) == 3


def test_payouts_without_a_document_get_no_name():
    assert document_file_names([replace(BASE, document=None), PAYOUTS[0]]) == {}


@settings(max_examples=200, deadline=None)
@given(st.lists(st.text(max_size=60), min_size=1, max_size=6))
def test_any_names_give_safe_unique_names(raws):
    payouts = [payout(raw, n, 1 + n % 28) for n, raw in enumerate(raws, start=1)]
    names = document_file_names(payouts)
    assert set(names) == {p.id for p in payouts}
    for name in names.values():
        assert_safe(name)
    assert len({n.casefold() for n in names.values()}) == len(payouts)
