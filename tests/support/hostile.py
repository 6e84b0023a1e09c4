"""A small consistent June period as Amili's JSON, booked offline, and the hostile values tried on it.

One payout per category (capital, interest, creditor_commission with its
self-invoice, creditor_outlay), their lines and one direct payment. A test
changes one thing and books it from a raw snapshot with ``run_raw``, so no
HTTP is needed; ``assert_sound_books`` and ``assert_clear_error`` are the
only two outcomes test_hostile_data and test_fuzz_api_json accept.
"""

from __future__ import annotations

import hashlib
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timezone
from decimal import Decimal
from pathlib import Path

import openpyxl
import simplejson

from ledger_export.jobs import config as config_module
from ledger_export.amili import timestamps
from ledger_export.amili.fetch import RawPeriod
from ledger_export.amili.models import Payout
from ledger_export.amili.snapshot import INDEX, RESOURCES, save_snapshot
from ledger_export.amili.document_names import document_file_names
from ledger_export.core.errors import LedgerExportError
from ledger_export.jobs.export import ExportOptions, export
from ledger_export.core.resources import SAMPLES
from ledger_export.core.period import month
from ledger_export.jobs.register import Register
from ledger_export.sie.validate import validate

D = Decimal
JUNE = month("2025-06")
CREDITOR = "686e6ed854377058c2dd10bd"
PDF = (SAMPLES / "amili" / "media" / "68368a42d92bd614440a5560.pdf").read_bytes()
SIE = "ledger-2025-06.si"
WORKBOOK = "ledger-2025-06.xlsx"


# -- a small consistent period, as Amili's JSON --------------------------------------------

def rfc(day: int, hour: int = 0) -> str:
    return timestamps.format(datetime(2025, 6, day, hour, tzinfo=timezone.utc))


def payout_id(n: int) -> str:
    return f"6650000000000000000a{n:04d}"


def line_id(n: int, i: int) -> str:
    return f"6650000000000000000b{n}{i:03d}"


def _payout(n: int, category: str, lines: list[tuple[str, str, str]], **extra) -> tuple[dict, list[dict]]:
    item = {"_id": payout_id(n), "_etag": f"etag-p{n}", "_created": rfc(10 + n, 8), "_updated": rfc(10 + n, 9),
            "creditor": CREDITOR, "currency": "SEK", "payout_reference": f"6540{n}", "payout_date": rfc(10 + n),
            "ledger_account": 1930, "finance_category": category, "finance_interval": "daily",
            "finance_period_start_date": rfc(9 + n), "finance_period_end_date": rfc(10 + n), **extra}
    specs = [{"_id": line_id(n, i), "_etag": f"etag-s{n}{i}", "_created": rfc(5, i), "creditor": CREDITOR,
              "currency": "SEK", "payout": payout_id(n), "payout_reference": item["payout_reference"],
              "payout_date": item["payout_date"], "booking_date": rfc(5), "invoice_number": f"INV-{n}{i:03d}",
              "reference_number": f"25{n}{i:03d}", "references": {"case": f"6650000000000000000c{n}{i:03d}"},
              "article": article, "finance_category": category, "state": "paid",
              "amount": D(amount), "vat_amount": D(vat), "total_amount": D(amount) + D(vat),
              "banking_transaction": {"_id": f"6650000000000000000e{n}{i:03d}"}}
             for i, (article, amount, vat) in enumerate(lines, 1)]
    return item, specs


DOCUMENT = {"file": "6650000000000000000f0003", "content_type": "application/pdf",
            "name": "self_invoice_SF-2025-163.pdf", "length": len(PDF)}


def period_items() -> dict[str, list]:
    """Payouts 1-4 (capital, interest, creditor_commission, creditor_outlay), lines, one payment."""
    built = [_payout(1, "capital", [("capital", "1000.00", "0.00"), ("capital", "234.56", "0.00")]),
             _payout(2, "interest", [("interest", "45.10", "0.00")]),
             _payout(3, "creditor_commission", [("reminder", "60.00", "15.00"), ("debt_collection", "180.00", "45.00")],
                     document=dict(DOCUMENT)),
             _payout(4, "creditor_outlay", [("invoice_fee", "60.00", "0.00"), ("late_payment_fee", "450.00", "0.00")])]
    items = {"payouts": [p for p, _ in built], "specifications": [s for _, lines in built for s in lines],
             "payments": [{"_id": "6650000000000000000d0001", "_etag": "etag-d1", "_created": rfc(16, 9),
                           "creditor": CREDITOR, "invoice_number": "INV-2025-0049", "currency": "SEK",
                           "amount": D("2500.00"), "settled_amount": D("2500.00"), "bank_transaction_date": rfc(15),
                           "booking_date": rfc(16), "status": "completed", "creditor_payment_reference": "DIR-1",
                           "case_invoice_number": "INV-2025-0049", "case_reference_number": "250049"}]}
    for n in range(1, 5):
        rebalance(items, n)
    return items


def payout(items: dict, n: int) -> dict:
    return items["payouts"][n - 1]


def lines(items: dict, n: int) -> list[dict]:
    return [s for s in items["specifications"] if s.get("payout") == payout_id(n)]


def rebalance(items: dict, n: int) -> None:
    """Payout ``n``'s totals and summary made to agree with its lines again (after a line changed)."""
    p, summary = payout(items, n), {}
    for s in lines(items, n):
        s["total_amount"] = s["amount"] + s["vat_amount"]
        entry = summary.setdefault(s["article"], {"count": 0, "amount": D("0.00"), "vat_amount": D("0.00"),
                                                  "total_amount": D("0.00")})
        entry["count"] += 1
        for name in ("amount", "vat_amount", "total_amount"):
            entry[name] += s[name]
    p["summary"] = summary
    for name in ("amount", "vat_amount", "total_amount"):
        p[name] = sum((e[name] for e in summary.values()), D("0.00"))


def set_line(items: dict, n: int, i: int, amount: str, vat: str = "0.00", **fields) -> None:
    line = lines(items, n)[i - 1]
    line.update(amount=D(amount), vat_amount=D(vat), **fields)
    rebalance(items, n)


# -- running it ------------------------------------------------------------------------------

def write_raw(items: dict, folder: Path, *, escaped: bool = False) -> Path:
    """The raw snapshot ``export --from-raw`` reads; ``escaped`` writes JSON's \\uXXXX escapes
    (as an API may send them) for text that UTF-8 cannot hold, like a lone surrogate."""
    raw = RawPeriod(creditor=CREDITOR, period=JUNE, base_url="http://127.0.0.1:9",
                    **{attr: tuple(items[attr]) for attr in RESOURCES})
    save_snapshot(raw, folder)
    if not escaped:
        return folder
    # The snapshot as saved, its lists rewritten with the escapes and its index's hashes with them.
    files = {name: simplejson.dumps(items[attr], use_decimal=True).encode("ascii") for attr, name in RESOURCES.items()}
    index = simplejson.loads((folder / INDEX).read_bytes())
    index["sha256"] = {name: hashlib.sha256(data).hexdigest() for name, data in files.items()}
    files[INDEX] = simplejson.dumps(index).encode("ascii")
    for name, data in files.items():
        (folder / name).write_bytes(data)
    return folder


def place_pdfs(items: dict, raw: Path) -> None:
    """Each self-invoice where an offline run looks for it: beside the snapshot, under its local name."""
    payouts = [Payout.from_api(p) for p in items["payouts"]]
    for name in document_file_names(payouts).values():
        assert "/" not in name and "\\" not in name and name not in (".", "..")
        target = raw.parent / "self-invoices" / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(PDF)


def config_for(out: Path):
    return config_module.load(SAMPLES / "ledger-export.toml",
                              overrides={"amili.base_url": "http://127.0.0.1:9", "output.folder": str(out)})


def files_under(root: Path) -> set[Path]:
    return {p for p in root.rglob("*") if p.is_file()}


@dataclass
class Run:
    root: Path
    before: set[Path]
    result: object = None
    error: LedgerExportError | None = None

    @property
    def out(self) -> Path:
        return self.root / "out"

    @property
    def folder(self) -> Path:
        return self.out / "2025-06"


def run_raw(root: Path, items: dict, *, pdfs: bool = False, escaped: bool = False, **options) -> Run:
    """Export ``items`` offline into ``root/out``; a LedgerExportError is kept, anything else propagates."""
    raw = write_raw(items, root / "in" / "raw", escaped=escaped)
    if pdfs:
        place_pdfs(items, raw)
    run = Run(root, files_under(root))
    try:
        run.result = export(config_for(run.out), None,
                            ExportOptions(from_raw=raw, generated=date(2025, 7, 1), **options))
    except LedgerExportError as exc:
        run.error = exc
    return run


def assert_sound_books(run: Run, texts: Iterable[str] = ()) -> openpyxl.Workbook:
    """A valid SIE file and workbook; ``texts`` (formula-looking ones too) are text cells, never formulas."""
    assert run.error is None, f"expected books, got: {run.error}"
    sie = (run.folder / SIE).read_bytes()
    assert [f for f in validate(sie, SIE) if f.severity == "error"] == []
    workbook = openpyxl.load_workbook(run.folder / WORKBOOK)
    cells = [c for ws in workbook for row in ws.iter_rows() for c in row if c.value is not None]
    formulas = [c.value for c in cells if c.data_type == "f"]
    for text in texts:
        shown = [c for c in cells if isinstance(c.value, str) and text.strip() and text.strip() in c.value]
        assert shown and all(c.data_type == "s" for c in shown), text
        assert not any(text.strip() in f for f in formulas), text
    # Nothing written outside the output folder (the input is ours, written before).
    outside = {p for p in files_under(run.root) - run.before if run.out not in p.parents}
    assert files_under(run.out) and not outside, sorted(map(str, outside))
    with Register.open(run.out, read_only=True) as register:
        assert len(register.runs()) == 1
    return workbook


def assert_clear_error(run: Run, *names: str) -> None:
    """One line naming ``names`` (the record and the field); no books, no register entry."""
    assert run.error is not None, "expected a clear error, got books"
    message = str(run.error)
    # One line, and nothing a terminal would act on (the CLI prints it as it is).
    assert message.splitlines() == [message] and "Traceback" not in message
    assert not any(unicodedata.category(ch) == "Cc" for ch in message), repr(message)
    for name in names:
        assert name in message, f"{name!r} not in {message!r}"
    left = {p.name for p in run.folder.iterdir()} if run.folder.exists() else set()
    assert left <= {"self-invoices"}, left
    assert not any(p.name.startswith(".staging") for p in run.out.rglob("*"))
    with Register.open(run.out, read_only=True) as register:
        assert register.runs() == ()


# -- the hostile values -------------------------------------------------------------------------

INVALID_DATES = ["2025-06-13", "13/06/2025", "Fri, 31 Jun 2025 00:00:00 GMT", "Fri, 13 Jun 2025 25:00:00 GMT",
                 "Fri, 13 Foo 2025 00:00:00 GMT", "Fri, 13 Jun 2025 00:00:00 +9999", "", "Fri, 13 Jun 99999",
                 1749772800, ["Fri, 13 Jun 2025 00:00:00 GMT"]]

ODD_DATES = ["Sun, 22 Jun 2025 00:00:00 +0000", "Sun, 22 Jun 2025 00:00:00 -0000", "22 Jun 2025 00:00:00 GMT",
             "Sun, 22 Jun 2025 00:00 GMT", "Sun, 22 Jun 2025 00:00:00 UT", "sun, 22 jun 2025 00:00:00 gmt",
             "Sun,22 Jun 2025 00:00:00 GMT", "Sun, 22 Jun 25 00:00:00 GMT", "Sun, 22 Jun 2025 12:00:00 +1200",
             "Sat, 21 Jun 2025 22:00:00 -0200", "  Sun, 22 Jun 2025 00:00:00 GMT  "]

TEXTS = {
    "C0 controls": "A\x00B\x01C\x07D\x08E\x0bF\x0cG\x1bH\x1f",
    "line breaks and tabs": "first\r\nsecond\nthird\rfourth\tfifth",
    "DEL and C1 controls": "x\x7fy\x85z\x9f",
    "quotes and backslashes": 'say "hi" \\ it\'s \\"quoted\\" \\',
    "SIE syntax": '{1 "x"} #TRANS 1930 {} 100.00 "" \\',
    "Swedish and Latin-1": "Fakturaavgift Åsa Öberg & Müller ñ ß ÿ",
    "not in CP437": "€ – — … ł ő ž ﬁ “quoted” ‘single’",
    "CJK": "請求書番号 払い出し",
    "right-to-left and bidi overrides": "\u202efdp.exe\u202c שלום مرحبا \u200f",
    "zero-width and format": "a\u200bb\u200dc\ufeffd\u00ade\u2060f",
    "combining marks": "e\u0301 a\u030a o\u0308 Z\u0335\u0321",
    "emoji (outside the BMP)": "💸 🧾 👩‍💻 🇸🇪",
    "line and paragraph separators": "one\u2028two\u2029three\x85four",
    "private use and unassigned": "\ue000\U000f0000\u0378\U0010fffd",
    "replacement character": "\ufffd\ufffd",
    "very long": "Lång text " * 600,
    "only whitespace": " \t \u00a0 \u3000 ",
    "empty": "",
}

# One per specification line of the period.
FORMULAS = ["=cmd|' /C calc'!A0", "+SUM(1,2)", "-2+3", '@HYPERLINK("http://evil.example","x")', "\t=1+1",
            "=IMPORTXML(A1)", "＝1+1"]

DOCUMENT_NAMES = ["../../../../../../tmp/evil.pdf", "..\\..\\..\\Windows\\System32\\evil.pdf", "/etc/cron.d/x.pdf",
                  "C:\\Users\\Public\\x.pdf", "..", ".", "", "CON", "aux.pdf", "a\x00b.pdf",
                  "self_invoice\u202efdp.exe", "x" * 400 + ".pdf", "sub/dir/", " .hidden.pdf ",
                  "~/x.pdf", "%2e%2e%2fx.pdf", "self_invoice_SF-2025-163.PDF"]
