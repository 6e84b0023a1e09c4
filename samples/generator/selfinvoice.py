"""A minimal, valid one-page PDF for the sample self-invoices (självfakturor).

Hand-built rather than taken from a PDF library so the sample generator
stays byte-identical across runs and needs nothing beyond the standard
library: no producer string, no creation date, a correct xref table.
"""

from __future__ import annotations


def _pdf_text(line: str) -> bytes:
    """A PDF literal string in WinAnsi (cp1252), which Helvetica's standard encoding reads."""
    raw = line.encode("cp1252")
    return b"(" + raw.replace(b"\\", b"\\\\").replace(b"(", b"\\(").replace(b")", b"\\)") + b")"


def render(lines: list[str]) -> bytes:
    """One A4 page with ``lines`` of text; the first line is set larger as the title."""
    content = [b"BT", b"/F1 16 Tf", b"56 780 Td", _pdf_text(lines[0]) + b" Tj", b"/F1 10 Tf", b"0 -28 Td"]
    for line in lines[1:]:
        content += [_pdf_text(line) + b" Tj", b"0 -15 Td"]
    content.append(b"ET")
    stream = b"\n".join(content) + b"\n"

    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] "
        b"/Resources << /Font << /F1 4 0 R >> >> /Contents 5 0 R >>",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
        b"<< /Length " + str(len(stream)).encode() + b" >>\nstream\n" + stream + b"endstream",
    ]
    # The binary comment line tells tools the file holds 8-bit data (ä, ö).
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n".encode() + body + b"\nendobj\n"
    xref_at = len(out)
    out += f"xref\n0 {len(objects) + 1}\n".encode()
    out += b"0000000000 65535 f \n"
    for offset in offsets:
        out += f"{offset:010d} 00000 n \n".encode()
    out += f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref_at}\n%%EOF\n".encode()
    return bytes(out)
