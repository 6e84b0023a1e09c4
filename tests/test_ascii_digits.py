"""Digits from outside are ASCII digits 0-9.

Python's ``\\d``, ``str.isdigit()``, ``int()``, ``Decimal()`` and the email
date parser read full-width (２０２５) and Arabic-Indic (٢٠٢٥) digits as
numbers, and ``isdigit()`` passes "²", which ``int()`` then refuses. A value
written so either passed the checks and crashed later (an orgnr in the SIE
writer, after the self-invoices were downloaded) or was read as a number the
bookkeeper never wrote. Each is now refused where it comes in, in one line.
"""

from __future__ import annotations

import http.server
import json
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from ledger_export.sie.chart import read_chart
from ledger_export import cli

from ledger_export.jobs import config as config_module
from ledger_export.amili import timestamps
from ledger_export.amili.auth import StaticToken
from ledger_export.amili.client import AmiliClient
from ledger_export.core.errors import ConfigError
from ledger_export.ledger.chart import Chart
from ledger_export.core.resources import SAMPLES

SAMPLE_CONFIG = (SAMPLES / "ledger-export.toml").read_text(encoding="utf-8")


def export(tmp_path: Path, raw: Path, capsys, *args: str, config: Path = SAMPLES / "ledger-export.toml"):
    code = cli.main(["export", "-q", "-c", str(config), "--out", str(tmp_path / "out"),
                     "--base-url", "http://127.0.0.1:9", "--from-raw", str(raw), *args])
    captured = capsys.readouterr()
    return code, captured.err


def assert_one_line(code: int, err: str, *names: str) -> None:
    assert code == 1, err
    assert err.count("\n") == 1 and err.startswith("ledger-export: error: ") and "Traceback" not in err, err
    for name in names:
        assert name in err, f"{name!r} not in {err!r}"


# -- configuration -----------------------------------------------------------------------------------

def test_an_orgnr_in_full_width_digits_is_refused_before_anything_is_fetched_or_written(raw_copy, tmp_path, capsys):
    config = tmp_path / "ledger-export.toml"
    config.write_text(SAMPLE_CONFIG.replace('orgnr = "556677-8899"', 'orgnr = "５５６６７７-８８９９"'),
                      encoding="utf-8")
    code, err = export(tmp_path, raw_copy.raw, capsys, config=config)
    assert_one_line(code, err, "[company.orgnr]", "digits 0-9")
    assert not (tmp_path / "out" / "2025-06").exists()  # no self-invoice copied, no books


@pytest.mark.parametrize("table, key", [
    ("[ledger.vat_accounts]", '"２５" = 2611'),
    ("[ledger.account_names]", '"３９２２" = "Provisionsintäkter koncern"'),
    ("[ledger.objects]", '"３９２１" = { 1 = "100" }'),
    ("[ledger.objects]", '3921 = { "1٠" = "100" }'),
])
def test_numbers_in_ledger_settings_are_ascii(table, key, tmp_path):
    config = tmp_path / "ledger-export.toml"
    config.write_text(SAMPLE_CONFIG + f"\n{table}\n{key}\n", encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        config_module.load(config)
    assert table.strip("[]").split(".")[1] in str(caught.value)


# -- command-line periods ----------------------------------------------------------------------------

@pytest.mark.parametrize("args, shown", [
    (["--period", "２０２５-06"], "YYYY-MM"),
    (["--period", "2025-０6"], "YYYY-MM"),
    (["--period", "٢٠٢٥-06"], "YYYY-MM"),
    (["--quarter", "２０２５Q2"], "YYYYQn"),
    (["--from", "２０２５-06-01", "--to", "2025-06-30"], "--from"),
    (["--from", "20250601", "--to", "20250630"], "--from"),
    (["--from", "2025-W23-1", "--to", "2025-06-30"], "--from"),
    (["--period", "0000-01"], "0001 to 9998"),
    (["--period", "9999-12"], "0001 to 9998"),
    (["--quarter", "9999Q4"], "0001 to 9998"),
    (["--from", "9999-12-01", "--to", "9999-12-31"], "must end before"),
    (["--period", "2025-06", "--gen-date", "２０２５-07-01"], "--gen-date"),
])
def test_a_period_written_with_other_digits_or_beyond_the_calendar_is_one_line(args, shown, raw_copy, tmp_path,
                                                                               capsys):
    code, err = export(tmp_path, raw_copy.raw, capsys, *args)
    assert_one_line(code, err, shown)
    assert not (tmp_path / "out" / "2025-06").exists()


# -- Amili's timestamps ------------------------------------------------------------------------------

@pytest.mark.parametrize("text", ["Thu, １２ Jun 2025 00:00:00 GMT", "Thu, 12 Jun ٢٠٢٥ 00:00:00 GMT",
                                  "Thu, 12 Jun 2025 ０0:00:00 GMT"])
def test_a_timestamp_with_other_digits_is_not_a_date(text, raw_copy, tmp_path, capsys):
    with pytest.raises(ValueError):
        timestamps.parse(text)
    payouts = raw_copy.read("finance--payouts.json")
    target = next(p for p in payouts if p["payout_date"] == "Thu, 12 Jun 2025 00:00:00 GMT")
    target["payout_date"] = text
    raw_copy.write_list("finance--payouts.json", payouts)
    code, err = export(tmp_path, raw_copy.raw, capsys)
    assert_one_line(code, err, target["_id"], "'payout_date'")


class _RetryAfterSuperscript(http.server.BaseHTTPRequestHandler):
    """First answer 429 with ``Retry-After: ²`` (byte B2: latin-1, as HTTP headers are read), then an empty list."""

    answered = 0

    def do_GET(self):
        type(self).answered += 1
        if type(self).answered == 1:
            self.send_response(429)
            self.send_header("Retry-After", "²")
            body = b'{"_status": "ERR", "_error": {"code": 429, "message": "slow down"}}'
        else:
            self.send_response(200)
            body = b'{"_items": [], "_meta": {"page": 1, "max_results": 100, "total": 0}}'
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def test_a_retry_after_of_superscript_two_is_no_number_and_no_crash():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _RetryAfterSuperscript)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    waits: list[float] = []
    try:
        with AmiliClient(f"http://127.0.0.1:{server.server_address[1]}", StaticToken("k" * 20),
                         sleep=waits.append, max_retries=2) as client:
            assert client.list_items("finance--payouts", {}) == []
    finally:
        server.shutdown()
        server.server_close()
    assert _RetryAfterSuperscript.answered == 2
    assert len(waits) == 1 and waits[0] < 60  # its own back-off, not a number read from "²"


# -- SIE files read by validate and --chart ----------------------------------------------------------

SIE_HEAD = "#FLAGGA 0\n#FORMAT PC8\n#SIETYP 4\n#PROGRAM \"x\" 1\n#GEN 20250701\n#FNAMN \"AB\"\n"


@pytest.mark.parametrize("record, code", [
    ('#VER A \u00b2 20250613 "x"\n{\n#TRANS 1930 {} 1.00\n#TRANS 1510 {} -1.00\n}\n', None),
    ('#VER A 1 20250613 "x"\n{\n}\n#VER A ' + "9" * 5000 + ' 20250613 "x"\n{\n}\n', None),
    ("#RAR 0 20250101 20251231\n#RAR " + "1" * 5000 + " 20250101 20251231\n", "malformed"),
    ("#KSUMMA\n#KSUMMA " + "7" * 4400 + "\n", "malformed"),
    ("#SIETYP \u00b2\n", "malformed"),
])
def test_validate_reads_superscripts_and_numbers_beyond_int_as_findings_not_a_crash(record, code, tmp_path):
    path = tmp_path / "odd.se"
    path.write_bytes((SIE_HEAD + record).encode("cp437"))  # "²" is byte FD in PC8
    done = subprocess.run([sys.executable, "-m", "ledger_export", "validate", "--json", str(path)],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode in (0, 1) and done.stderr == "", done.stderr
    codes = [f["code"] for f in json.loads(done.stdout)["files"][0]["findings"]]
    assert code is None or code in codes, codes


def test_a_chart_with_odd_account_numbers_keeps_only_four_ascii_digits(tmp_path):
    path = tmp_path / "chart.se"
    path.write_bytes("\n".join([
        "#FLAGGA 0", "#SIETYP 4", '#KONTO 1930 "Bank"', '#KONTO 19\u00b20 "Superscript"',
        '#KONTO ' + "1" * 5000 + ' "Long"', '#KONTO 01510 "Kundfordringar"', "",
    ]).encode("cp437"))
    assert dict(read_chart(path).accounts) == {1510: "Kundfordringar", 1930: "Bank"}
