"""export --to fortnox as the bookkeeper runs it: real CLI processes, the Amili sandbox, the Fortnox sandbox over HTTP.

Both sandboxes run in this process; each ``ledger-export`` is a separate
process that reaches them over 127.0.0.1, with the credentials in its
environment. What Fortnox holds is read from the sandbox's own state.
Faults come from the sandbox: an answer lost after the write was made, a
5xx, a 429, an access token expired mid-run, and a ``kill -9`` of the
process right after the k-th write was made (fired from inside the
sandbox, before its answer leaves).

The client's pacing is shortened (25 requests per 0.25 s on both sides)
except in the first test, which runs at Fortnox's documented 25 per 5 s.
"""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
from collections import Counter
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

import flask
import pytest

from ledger_export.core.resources import SAMPLES
from ledger_export.jobs.fortnox_post import MARKER
from ledger_export.sandbox import Sandbox
from ledger_export.sandbox.fortnox.faults import FortnoxFaults
from ledger_export.sandbox.fortnox.server import DEFAULT_SCOPES, FortnoxSandbox
from ledger_export.sie.reader import read_sie_file

PERIOD = "2025-06"
FAST_WINDOW = 0.25
# Exempelbolaget's sandbox: payouts' invoices by DocumentNumber = Amili's reference_number.
MATCH = '{ amili = "reference_number", fortnox = "DocumentNumber" }'


class Hooked(FortnoxFaults):
    """The sandbox's faults, plus something done right after the k-th write was made (before its answer)."""

    def __init__(self) -> None:
        super().__init__()
        self.writes = 0
        self.after: dict[int, Callable[[], None]] = {}

    def take_lose_answer(self, kind: str) -> bool:
        self.writes += 1
        action = self.after.pop(self.writes, None)
        if action is not None:
            action()
        return super().take_lose_answer(kind)


class FirstVoucherPostFails(FortnoxFaults):
    """A 5xx for the first POST /3/vouchers only: the voucher lists read before it are answered."""

    def __init__(self) -> None:
        super().__init__()
        self.failed = False

    def take_server_error(self, endpoint: str) -> bool:
        if endpoint == "vouchers" and flask.request.method == "POST" and not self.failed:
            self.failed = True
            return True
        return super().take_server_error(endpoint)


@pytest.fixture(scope="module")
def amili():
    with Sandbox() as sandbox:
        yield sandbox


class Month:
    """One output root and one Fortnox company; ``run`` is a ``ledger-export`` process."""

    def __init__(self, amili: Sandbox, fortnox: FortnoxSandbox, root: Path):
        self.amili, self.fortnox, self.root = amili, fortnox, root
        self.proc: subprocess.Popen[str] | None = None
        self.env = {**os.environ, "AMILI_API_KEY": amili.api_key, "FORTNOX_CLIENT_ID": fortnox.client_id,
                    "FORTNOX_CLIENT_SECRET": fortnox.client_secret}

    def configure(self, *, settle: bool = False, series: str = "A", mode: str = "AMILI", service: bool = True,
                  window: float = FAST_WINDOW) -> Path:
        text = (SAMPLES / "ledger-export.toml").read_text("utf-8").split("\n[fortnox]")[0].replace(
            'base_url = "http://127.0.0.1:8765"', f'base_url = "{self.amili.base_url}"')
        text += (f'\n[fortnox]\nbase_url = "{self.fortnox.base_url}"\nauth_url = "{self.fortnox.auth_url}"\n'
                 f'series = "{series}"\nsettle_invoices = {str(settle).lower()}\nmode_of_payment = "{mode}"\n'
                 f'invoice_match = {MATCH}\nrate_window = {window}\n')
        if service:
            text += f'tenant_id = "{self.fortnox.tenant_id}"\n'
        self.config = self.root / "ledger-export.toml"
        self.config.write_text(text, "utf-8")
        return self.config

    def run(self, *args: str, command: tuple[str, ...] = ("export",)) -> subprocess.CompletedProcess[str]:
        argv = [sys.executable, "-m", "ledger_export", *command, "--period", PERIOD, "-c", str(self.config),
                "--out", str(self.root / "books"), *args]
        if command == ("export",):
            argv += ["--to", "fortnox"]
        self.proc = subprocess.Popen(argv, env=self.env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        out, err = self.proc.communicate(timeout=300)
        return subprocess.CompletedProcess(argv, self.proc.returncode, out, err)

    def kill(self) -> None:
        assert self.proc is not None
        os.kill(self.proc.pid, signal.SIGKILL)

    # -- what Fortnox holds --------------------------------------------------------------

    def state(self) -> dict:
        return self.fortnox.state()

    def ours(self) -> list[dict]:
        return [v for v in self.state()["Vouchers"] if v["Comments"].startswith(MARKER)]

    def writes(self) -> tuple[int, int, int, int]:
        s = self.state()
        return (len(self.ours()), len(s["Files"]), len(s["VoucherFileConnections"]), len(s["InvoicePayments"]))


@pytest.fixture
def month_factory(amili, tmp_path):
    started: list[FortnoxSandbox] = []

    def start(*, window: float = FAST_WINDOW, faults: FortnoxFaults | None = None, **options) -> Month:
        fortnox = FortnoxSandbox(rate_window=window, faults=faults, **options)
        fortnox.start()
        started.append(fortnox)
        root = tmp_path / f"company-{len(started)}"
        root.mkdir()
        return Month(amili, fortnox, root)

    yield start
    for fortnox in started:
        fortnox.stop()


@pytest.fixture(scope="module")
def si_vouchers(amili, tmp_path_factory):
    """The same month as an SIE file, written by a ``--to sie`` run: (date, text, rows) of each voucher."""
    root = tmp_path_factory.mktemp("si")
    text = (SAMPLES / "ledger-export.toml").read_text("utf-8").replace(
        'base_url = "http://127.0.0.1:8765"', f'base_url = "{amili.base_url}"')
    (root / "c.toml").write_text(text, "utf-8")
    done = subprocess.run([sys.executable, "-m", "ledger_export", "export", "--period", PERIOD, "-c",
                           str(root / "c.toml"), "--out", str(root / "books")],
                          env={**os.environ, "AMILI_API_KEY": amili.api_key}, capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stderr
    [si] = (root / "books" / PERIOD).glob("*.si")
    return sorted((v.date.isoformat(), v.text, tuple((int(t.account), t.amount) for t in v.transactions))
                  for v in read_sie_file(si).vouchers)


def fortnox_vouchers(month: Month) -> list[tuple[str, str, tuple[tuple[int, Decimal], ...]]]:
    return sorted((v["TransactionDate"], v["Description"],
                   tuple((r["Account"], Decimal(r["Debit"]) - Decimal(r["Credit"])) for r in v["VoucherRows"]))
                  for v in month.ours())


def assert_exactly_once(month: Month, *, settle: bool) -> None:
    """One voucher per payout, each self-invoice once, byte-exact and connected to its voucher; payments once."""
    state = month.state()
    ours = month.ours()
    assert len(ours) == 13 and len({v["Comments"] for v in ours}) == 13
    folder = month.root / "books" / PERIOD / "self-invoices"
    pdfs = sorted(p.name for p in folder.iterdir())
    assert sorted(f["Name"] for f in state["Files"]) == pdfs and len(pdfs) == 4
    by_key = {(v["VoucherSeries"], v["VoucherNumber"], v["Year"]): v for v in ours}
    for f in state["Files"]:
        assert f["SHA256"] == hashlib.sha256((folder / f["Name"]).read_bytes()).hexdigest()  # byte-exact
        [link] = [c for c in state["VoucherFileConnections"] if c["FileId"] == f["Id"]]
        assert (link["VoucherSeries"], int(link["VoucherNumber"]), int(link["VoucherYear"])) in by_key
    assert len(state["VoucherFileConnections"]) == 4
    payments = [(p["InvoiceNumber"], p["Amount"]) for p in state["InvoicePayments"]]
    if settle:
        assert payments and max(Counter(payments).values()) == 1 and all(p["Booked"] for p in state["InvoicePayments"])
    else:
        assert payments == []


def test_a_month_posted_equals_the_si_with_documents_attached_at_the_documented_rate(month_factory, si_vouchers):
    month = month_factory(window=5.0)  # Fortnox's own 25 requests per 5 s, on both sides
    month.configure(window=5.0)
    done = month.run()
    assert done.returncode == 0, done.stderr
    assert_exactly_once(month, settle=False)
    assert fortnox_vouchers(month) == si_vouchers  # voucher for voucher, account for account
    assert 429 not in {s.status for s in month.fortnox.served}  # paced: Fortnox never had to refuse
    # The manifest records where each voucher went; a re-run posts nothing.
    manifest = (month.root / "books" / PERIOD / "manifest.json").read_text("utf-8")
    assert all(f'"number": {v["VoucherNumber"]}' in manifest for v in month.ours())
    before = month.state()
    again = month.run("--only-new")
    assert again.returncode == 0, again.stderr
    assert month.state() == before
    for secret in (month.fortnox.client_secret, month.amili.api_key):
        assert secret not in done.stdout + done.stderr + again.stdout + again.stderr
        assert not any(secret in p.read_text("utf-8", "replace") for p in (month.root / "books").rglob("*.json"))


def test_invoices_settled_over_http_once_each_the_rest_left_with_a_warning(month_factory):
    month = month_factory()
    month.configure(settle=True)
    done = month.run()
    assert done.returncode == 0, done.stderr
    assert_exactly_once(month, settle=True)
    state = month.state()
    paid = Counter(p["InvoiceNumber"] for p in state["InvoicePayments"])
    invoices = {i["ExternalInvoiceReference1"]: i for i in state["Invoices"]}
    assert paid[int(invoices["INV-2025-0017"]["DocumentNumber"])] == 2  # one invoice, two payouts
    for number in ("INV-2025-0021", "INV-2025-0044", "INV-2025-0059"):  # paid, cancelled, would overpay
        assert paid[int(invoices[number]["DocumentNumber"])] == 0, number
    assert "INV-2025-0004" not in invoices
    for why in ("is already paid", "is cancelled", "would overpay it", "not found in Fortnox"):
        assert why in done.stdout, why
    # The clearing account (AMILI's 1589) nets to zero: the vouchers credit what the payments debit.
    rows = [r for v in state["Vouchers"] for r in v["VoucherRows"] if r["Account"] == 1589]
    assert rows and sum(Decimal(r["Debit"]) - Decimal(r["Credit"]) for r in rows) == 0
    before = month.state()
    again = month.run("--only-new")
    assert again.returncode == 0 and month.state() == before


@pytest.mark.parametrize("kind", ["voucher", "file", "connection", "payment", "bookkeep"])
def test_an_answer_lost_after_the_write_then_a_rerun_gives_exactly_one_of_each(month_factory, kind):
    month = month_factory()
    month.configure(settle=True)
    month.fortnox.faults.arm(lose_answer={kind: 1})
    done = month.run()
    assert done.returncode != 0
    assert "Traceback" not in done.stderr and done.stderr.startswith("ledger-export: error: ")
    assert "run the same command again" in done.stderr or "carries on" in done.stderr, done.stderr
    again = month.run()
    assert again.returncode == 0, again.stderr
    assert_exactly_once(month, settle=True)


@pytest.mark.parametrize("k", [1, 7, 30])
def test_a_kill_9_right_after_the_kth_write_then_a_rerun_gives_exactly_one_of_each(month_factory, k):
    faults = Hooked()
    month = month_factory(faults=faults)
    month.configure(settle=True)
    faults.after[k] = month.kill
    done = month.run()
    assert done.returncode == -signal.SIGKILL
    assert faults.writes == k
    again = month.run()
    assert again.returncode == 0, again.stderr
    assert_exactly_once(month, settle=True)


def test_5xx_and_429_are_waited_out_and_a_5xx_on_a_post_is_settled_by_the_rerun(month_factory):
    month = month_factory()
    month.configure()
    month.fortnox.faults.arm(server_error={"companyinformation": 2, "accounts": 1}, rate_limit=3, retry_after=1)
    done = month.run()
    assert done.returncode == 0, done.stderr  # GETs retried, 429s honoured
    assert [s.status for s in month.fortnox.served].count(429) == 3
    assert_exactly_once(month, settle=False)

    other = month_factory(faults=FirstVoucherPostFails())  # never sent again blindly
    other.configure()
    done = other.run()
    assert done.returncode != 0 and "did not answer whether it made the voucher" in done.stderr, done.stderr
    assert other.run().returncode == 0
    assert_exactly_once(other, settle=False)


def test_an_access_token_expiring_mid_run_is_refreshed_and_the_rotation_stored(month_factory):
    faults = Hooked()
    month = month_factory(faults=faults)
    month.configure(service=False)  # the authorization-code flow: rotating refresh tokens in the token file
    seed = month.fortnox.refresh_token()
    month.env["FORTNOX_REFRESH_TOKEN"] = seed
    faults.after[5] = month.fortnox.expire_access_tokens
    done = month.run()
    assert done.returncode == 0, done.stderr
    assert_exactly_once(month, settle=False)
    statuses = [s.status for s in month.fortnox.served]
    assert 401 in statuses[statuses.index(201):]  # refused after the expiry, then carried on
    token_file = month.root / "fortnox-tokens.json"
    assert token_file.stat().st_mode & 0o777 == 0o600
    assert seed not in token_file.read_text("utf-8")  # spent: rotated, and the new one stored
    assert seed not in done.stdout + done.stderr


@pytest.mark.parametrize("problem, expected", [
    ("orgnr", "has organisation number 556000-0001, not 556677-8899"),
    ("year", "no financial year covers 2025-06-"),
    ("account", "account 1930 is inactive"),
    ("series", "voucher series B does not take manual vouchers"),
    ("mode", "mode of payment NOPE ([fortnox] mode_of_payment) does not exist"),
    ("scope", "lacks the scope(s) connectfile"),
])
def test_each_preflight_failure_is_named_and_nothing_is_posted(month_factory, problem, expected):
    scopes = DEFAULT_SCOPES - {"connectfile"} if problem == "scope" else DEFAULT_SCOPES
    month = month_factory(service_scopes=scopes)
    company = month.fortnox.company
    if problem == "orgnr":
        company.info.organization_number = "556000-0001"
    elif problem == "year":
        company.books.years = [y for y in company.books.years if y.id != 2]
    elif problem == "account":
        company.books.accounts[2][1930].active = False
    month.configure(series="B" if problem == "series" else "A", settle=problem == "mode",
                    mode="NOPE" if problem == "mode" else "AMILI")
    before = month.state()
    done = month.run()
    assert done.returncode != 0 and expected in done.stderr, done.stderr
    assert "Nothing was posted" in done.stderr and "Traceback" not in done.stderr
    assert month.state() == before
    assert [s for s in month.fortnox.served if s.method != "GET" and s.path.startswith("/3/")] == []


def test_a_dry_run_checks_and_posts_nothing_and_check_and_status_speak_http(month_factory):
    month = month_factory()
    month.configure(settle=True)
    before = month.state()
    dry = month.run("--dry-run")
    assert dry.returncode == 0, dry.stderr
    assert "would be posted" in dry.stdout and month.state() == before
    assert [s for s in month.fortnox.served if s.method != "GET" and s.path.startswith("/3/")] == []
    check = month.run(command=("fortnox", "check"))
    assert check.returncode == 0, check.stderr
    assert month.run().returncode == 0
    status = month.run(command=("fortnox", "status"))
    assert status.returncode == 0, status.stdout + status.stderr
    assert "A42" in status.stdout


def test_the_fortnox_demo_posts_the_sample_month_into_a_fresh_sandbox_each_time(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("FORTNOX_", "AMILI_"))}  # no key needed
    for n in (1, 2):
        done = subprocess.run([sys.executable, "-m", "ledger_export", "demo", "--to", "fortnox", "--out",
                               str(tmp_path)], env=env, capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, done.stderr
        assert ("Fortnox sandbox now holds 13 voucher(s) of ours in series A, 4 file(s) connected, "
                "21 invoice payment(s):") in done.stdout
        assert "A42 (year 2) 2025-06-02" in done.stdout and "file self_invoice_SF-2025-154.pdf connected" in done.stdout
        assert (tmp_path / f"fortnox-{n}" / PERIOD / "manifest.json").is_file()
    assert "sandbox-client-secret" not in done.stdout + done.stderr
