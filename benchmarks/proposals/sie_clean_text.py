"""Proposal (monkeypatch, for the benchmark only):
a fast path in sie.text.clean_text for text that needs no change or only space/backslash fixes.
"""
from ledger_export.sie import text

_slow = text.clean_text


def clean_text(value: str) -> str:
    # Printable: no control, format or separator character other than the ASCII space,
    # so the slow path could only collapse spaces and turn backslashes into slashes.
    if value.isprintable():
        if not value.isascii():
            try:
                value.encode("cp437")
            except UnicodeEncodeError:
                return _slow(value)
        if "\\" in value:
            value = value.replace("\\", "/")
        if "  " in value or value[:1] == " " or value[-1:] == " ":
            value = " ".join(value.split())
        return value
    return _slow(value)


text.clean_text = clean_text
