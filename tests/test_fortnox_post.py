"""export --to fortnox into an in-memory Fortnox: what is posted, checked first, and never twice."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal

import openpyxl
import pytest

from ledger_export.core.money import ZERO
from ledger_export.jobs.export import ExportOptions, export
from ledger_export.jobs.fortnox_books import FinancialYear
from ledger_export.jobs.fortnox_check import FortnoxNotReadyError
from ledger_export.jobs.fortnox_export import NotConnectedError
from ledger_export.jobs.fortnox_post import AmbiguousInFortnoxError, PostingStoppedError, reference, text_of
from ledger_export.jobs.register import Register
from ledger_export.jobs.register_check import AlreadyExportedError
from ledger_export.ledger.model import WARNING
from support.fortnox_fake import FakeFortnox, Killed, PostedVoucher
from support.fortnox_run import CLEARING, SETTLED, fortnox_config, june_invoices, post_month

FIXED = date(2025, 7, 1)
# A clean month writes: 13 vouchers, 4 uploads, 4 connections; settling adds 3 payments and 3 bookkeepings.
PLAIN_WRITES = 21
SETTLING_WRITES = 27


@pytest.fixture
def raw(demo_period):
    return demo_period / "raw"


def settling_books() -> FakeFortnox:
    return FakeFortnox(invoices=june_invoices())


def assert_whole_month_once(books: FakeFortnox, result_ledger, out, *, settle: bool) -> None:
    """Every voucher, file, connection (and payment) exactly once in Fortnox; the register all confirmed."""
    vouchers = result_ledger.vouchers
    by_comment: dict[str, list[PostedVoucher]] = {}
    for v in books.vouchers:
        by_comment.setdefault(v.comments, []).append(v)
    assert sorted(by_comment) == sorted(reference(v.payout_id) for v in vouchers)
    assert all(len(found) == 1 for found in by_comment.values())
    for ours in vouchers:
        [theirs] = by_comment[reference(ours.payout_id)]
        assert theirs.day == ours.date and theirs.description == text_of(ours) and theirs.ref.series == "A"
        assert [(r.account, r.debit - r.credit) for r in theirs.rows] == [(l.account, l.amount) for l in ours.lines]
    with_documents = {v.document_name: v for v in vouchers if v.document_name}
    names = sorted(name for name, _ in books.files.values())
    assert names == sorted(with_documents)  # each uploaded once
    for file_id, (name, content) in books.files.items():
        assert content == (out / "2025-06" / "self-invoices" / name).read_bytes()  # byte-exact
        [link] = [c for c in books.links if c.file_id == file_id]
        [voucher] = by_comment[reference(with_documents[name].payout_id)]
        assert link.voucher == voucher.ref
    assert len(books.links) == len(books.files)
    if settle:
        assert sorted((p.invoice, p.amount) for p in books.payments) == sorted(SETTLED.items())
        assert all(p.booked for p in books.payments)
    else:
        assert books.payments == []
    with Register.open(out) as register:
        assert register.fortnox.unknown() == ()
        held = register.fortnox.actions_of([v.payout_id for v in vouchers])
        assert all(a.status == "confirmed" for h in held.values() for a in h.all())
        assert register.runs()[-1].status == "exported"
        booked = [e.payout_id for r in register.runs() if r.status == "exported" for e in register.payouts_of(r.id)]
        assert sorted(booked) == sorted(v.payout_id for v in vouchers)  # each booked once


def test_a_month_posted_equals_the_si_voucher_for_voucher_with_documents_attached(raw, tmp_path):
    books = FakeFortnox()
    result = post_month(raw, tmp_path / "fx", books)
    si = export(fortnox_config(tmp_path / "si"), None, ExportOptions(generated=FIXED, from_raw=raw))
    assert books.writes == PLAIN_WRITES
    assert [(v.date, v.text, v.lines) for v in result.ledger.vouchers] == [
        (v.date, v.text, v.lines) for v in si.ledger.vouchers]
    assert_whole_month_once(books, result.ledger, tmp_path / "fx", settle=False)
    folder = tmp_path / "fx" / "2025-06"
    assert not list(folder.glob("*.si"))  # Fortnox instead of the .si; the audit pack as always
    assert (folder / "ledger-2025-06.xlsx").is_file()
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    refs = {(v.comments.removeprefix(reference("")), v.ref.number) for v in books.vouchers}
    assert {(pid, e["voucher"]["number"]) for pid, e in manifest["fortnox"].items()} == refs
    assert all(e["voucher"]["series"] == "A" and e["voucher"]["year"] == 1 for e in manifest["fortnox"].values())
    file_ids = {e["document"]["file_name"]: e["document"]["file_id"] for e in manifest["fortnox"].values()
                if e["document"]}
    assert file_ids == {name: file_id for file_id, (name, _) in books.files.items()}
    assert "Posted to Fortnox (series A): 21 action(s) now." in result.describe()
    # The workbook's Vouchers sheet says where each voucher and its self-invoice went, as the manifest does.
    sheet = openpyxl.load_workbook(folder / "ledger-2025-06.xlsx", read_only=True)["Vouchers"]
    rows = list(sheet.iter_rows(values_only=True))
    column = {header: i for i, header in enumerate(rows[0])}
    shown = {(r[column["Payout id"]], r[column["Fortnox voucher"]], r[column["Fortnox file id"]]) for r in rows[1:]}
    assert shown == {(pid, f"A{e['voucher']['number']} (year 1)",
                      e["document"]["file_id"] if e["document"] else None)
                     for pid, e in manifest["fortnox"].items()}


def test_a_rerun_after_success_posts_nothing(raw, tmp_path):
    books = settling_books()
    post_month(raw, tmp_path, books, settle=True)
    with pytest.raises(AlreadyExportedError, match="exported before, to fortnox:A"):
        post_month(raw, tmp_path, books, settle=True)
    again = post_month(raw, tmp_path, books, settle=True, only_new=True)
    assert again.ledger is None and books.writes == SETTLING_WRITES


def test_invoices_are_settled_and_the_vouchers_credit_the_clearing_account_instead(raw, tmp_path):
    books = settling_books()
    result = post_month(raw, tmp_path, books, settle=True)
    assert books.writes == SETTLING_WRITES
    assert_whole_month_once(books, result.ledger, tmp_path, settle=True)
    clearing = sum((line.amount for v in result.ledger.vouchers for line in v.lines if line.account == CLEARING),
                   ZERO)
    assert clearing == -sum(SETTLED.values())  # and each payment debits it again: it nets to zero
    assert books.invoices["INV-2025-0021"].balance == ZERO
    assert books.invoices["INV-2025-0017"].balance == Decimal("550.00")
    plain = export(fortnox_config(tmp_path / "si"), None, ExportOptions(generated=FIXED, from_raw=raw)).ledger
    assert plain.account_totals()[1510] - clearing == result.ledger.account_totals()[1510]
    warnings = [f.message for f in result.ledger.findings if f.check == "settle" and f.severity == WARNING]
    for number, why in [("INV-2025-0044", "is cancelled"), ("INV-2025-0059", "is already paid"),
                        ("INV-2025-0191", "would overpay it"), ("INV-2025-0098", "is not booked"),
                        ("INV-2025-0071", "not found in Fortnox")]:
        assert any(number in w and why in w and "left on account 1510" in w for w in warnings), number
    manifest = json.loads((tmp_path / "2025-06" / "manifest.json").read_text(encoding="utf-8"))
    paid = sorted((p["invoice"], p["amount"], p["bookkept"]) for e in manifest["fortnox"].values()
                  for p in e["payments"])
    assert paid == sorted((n, f"{a:.2f}", True) for n, a in SETTLED.items())


def test_two_invoices_behind_one_number_are_never_guessed(raw, tmp_path):
    books = settling_books()
    twin = june_invoices()["INV-2025-0021"]
    books.invoices["twin"] = twin
    result = post_month(raw, tmp_path, books, settle=True)
    assert "INV-2025-0021" not in {p.invoice for p in books.payments}
    assert any("matches 2 invoices in Fortnox" in f.message for f in result.ledger.findings)


@pytest.mark.parametrize("fault", ["lost", "kill"])
@pytest.mark.parametrize("index", range(SETTLING_WRITES))
def test_a_crash_at_any_write_then_a_rerun_gives_exactly_one_of_each(raw, tmp_path, index, fault):
    books = settling_books()
    books.faults = {index: fault}
    with pytest.raises((PostingStoppedError, Killed)):
        post_month(raw, tmp_path, books, settle=True)
    books.faults = {}
    result = post_month(raw, tmp_path, books, settle=True)
    assert_whole_month_once(books, result.ledger, tmp_path, settle=True)
    # Each write was asked for once: the one whose answer was lost is found, never asked for again.
    assert books.writes == SETTLING_WRITES


@pytest.mark.parametrize("fault", ["unsent", "refused", "kill-before"])
# A voucher, a voucher that pays invoices, its payment, bookkeeping, next payment, an upload and a connection.
@pytest.mark.parametrize("index", [0, 3, 4, 5, 6, 10, 11])
def test_a_write_that_never_reached_fortnox_is_asked_for_again(raw, tmp_path, index, fault):
    books = settling_books()
    books.faults = {index: fault}
    with pytest.raises((PostingStoppedError, Killed)):
        post_month(raw, tmp_path, books, settle=True)
    books.faults = {}
    result = post_month(raw, tmp_path, books, settle=True)
    assert_whole_month_once(books, result.ledger, tmp_path, settle=True)
    assert books.writes == SETTLING_WRITES + 1  # the failed one, then the one that was made


def test_two_candidates_for_a_lost_voucher_stop_the_run(raw, tmp_path):
    books = FakeFortnox(faults={2: "lost"})
    with pytest.raises(PostingStoppedError, match="did not answer whether it made the voucher"):
        post_month(raw, tmp_path, books)
    lost = books.vouchers[-1]
    books.faults = {}
    books.vouchers.append(PostedVoucher(lost.ref.__class__(lost.ref.series, 99, lost.ref.year), lost.day,
                                        lost.description, lost.comments, lost.rows))
    writes = books.writes
    with pytest.raises(AmbiguousInFortnoxError, match=r"Fortnox now holds 2 that could be it \(A3 \(year 1\), "
                                                      r"A99 \(year 1\)\)"):
        post_month(raw, tmp_path, books)
    assert books.writes == writes  # nothing more was posted
    with Register.open(tmp_path) as register:
        assert len(register.fortnox.unknown()) == 1  # still unknown: the bookkeeper decides


def test_every_preflight_failure_is_named_and_nothing_is_posted(raw, tmp_path):
    chart = {a: True for a in (1510, 1930, 2611, 2999, 3990, 6062)}
    chart[8313] = False
    books = FakeFortnox(orgnr="5599887766", years=(FinancialYear(1, date(2024, 1, 1), date(2024, 12, 31)),),
                        chart=chart, series={"B": False}, modes={}, scopes=frozenset({"bookkeeping"}))
    with pytest.raises(FortnoxNotReadyError) as err:
        post_month(raw, tmp_path, books, settle=True)
    message = str(err.value)
    for expected in ["lacks the scope(s) companyinformation, connectfile, inbox, invoice, payment, settings",
                     "organisation number 5599887766, not 556677-8899",
                     "voucher series A does not exist",
                     "mode of payment AMILI ([fortnox] mode_of_payment) does not exist",
                     "no financial year covers 2025-06-02"]:
        assert expected in message
    assert message.startswith("Fortnox is not ready for this run (9 problem(s))")
    assert books.writes == 0
    # With a year, the accounts are checked in it: missing and inactive ones named.
    books = FakeFortnox(chart=chart, series={"A": False})
    with pytest.raises(FortnoxNotReadyError) as err:
        post_month(raw, tmp_path, books)
    assert [p for p in err.value.problems] == [
        "voucher series A does not take manual vouchers: allow it in Fortnox (Verifikationsserier, 'Manuell')",
        "account 3921 is missing from the chart of accounts of financial year 2025-01-01..2025-12-31: "
        "add it in Fortnox",
        "account 8313 is inactive in financial year 2025-01-01..2025-12-31: activate it in Fortnox"]
    assert books.writes == 0
    with Register.open(tmp_path) as register:
        assert [r.status for r in register.runs()] == []


def test_the_organisation_number_is_compared_as_digits(raw, tmp_path):
    books = FakeFortnox(orgnr="5566778899")
    post_month(raw, tmp_path, books)
    assert books.writes == PLAIN_WRITES


def test_a_dry_run_checks_fortnox_shows_what_would_be_posted_and_posts_nothing(raw, tmp_path):
    books = settling_books()
    result = post_month(raw, tmp_path, books, settle=True, dry_run=True)
    assert books.writes == 0 and not tmp_path.joinpath("2025-06").exists()
    text = result.describe()
    assert "Fortnox: 13 voucher(s) into series A:" in text
    assert "would be posted, attach self_invoice_SF-2025-154.pdf" in text
    assert "pay invoice INV-2025-0021 917.76" in text
    with pytest.raises(FortnoxNotReadyError):
        post_month(raw, tmp_path, FakeFortnox(scopes=frozenset()), dry_run=True)


def test_a_payout_booked_in_an_si_is_refused_for_fortnox_and_the_other_way_round(raw, tmp_path):
    export(fortnox_config(tmp_path / "a"), None, ExportOptions(generated=FIXED, from_raw=raw))
    books = FakeFortnox()
    with pytest.raises(AlreadyExportedError, match=r"13 payouts of this run were exported before, to "
                                                    r"2025-06/ledger-2025-06.si"):
        post_month(raw, tmp_path / "a", books)
    assert books.writes == 0
    post_month(raw, tmp_path / "b", books)
    with pytest.raises(AlreadyExportedError, match="exported before, to fortnox:A"):
        export(fortnox_config(tmp_path / "b"), None, ExportOptions(generated=FIXED, from_raw=raw))


def test_a_run_stopped_while_posting_stays_booked_for_an_si_until_fortnox_finishes_it(raw, tmp_path):
    books = FakeFortnox(faults={5: "kill"})
    with pytest.raises(Killed):
        post_month(raw, tmp_path, books)
    with pytest.raises(AlreadyExportedError, match="exported before, to fortnox:A"):
        export(fortnox_config(tmp_path), None, ExportOptions(generated=FIXED, from_raw=raw))
    with Register.open(tmp_path) as register:
        [settled] = register.settled
        assert settled.status == "pending" and "stopped while posting to Fortnox" in settled.describe()
    books.faults = {}
    result = post_month(raw, tmp_path, books)
    assert_whole_month_once(books, result.ledger, tmp_path, settle=False)
    with Register.open(tmp_path) as register:
        assert [r.status for r in register.runs()] == ["abandoned", "exported"]  # taken over, then finished


def test_fortnox_refuses_force_and_since_last_and_needs_a_connection(raw, tmp_path):
    with pytest.raises(Exception, match="reversal voucher in Fortnox"):
        ExportOptions(to="fortnox", force=True)
    with pytest.raises(NotConnectedError, match="not connected to Fortnox yet"):
        export(fortnox_config(tmp_path), None, ExportOptions(from_raw=raw, to="fortnox"))


def assert_every_line_is_its_specification_lines(result) -> None:
    """Each line carrying specification ids is exactly their amounts (the receivable's and the clearing's)."""
    specs = {s.id: s.amount for s in result.data.specifications}
    for voucher in result.ledger.vouchers:
        ids = [i for line in voucher.lines if line.account in (1510, CLEARING) for i in line.specification_ids]
        assert len(ids) == len(set(ids)), voucher.payout_id  # on one of the two, once
        for line in voucher.lines:
            if line.account in (1510, CLEARING) and line.specification_ids:
                assert line.amount == -sum((specs[i] for i in line.specification_ids), ZERO), (voucher, line)


def test_settled_lines_move_with_their_specification_lines_and_the_csv_lists_what_is_left(raw, tmp_path):
    books = settling_books()
    result = post_month(raw, tmp_path, books, settle=True)
    assert_every_line_is_its_specification_lines(result)
    from ledger_export.ledger.invoice_payments import invoice_payments
    left = invoice_payments(result.ledger, result.data)
    assert left.account == 1510 and left.total == -result.ledger.account_totals()[1510]
    settled = {i for v in result.ledger.vouchers for line in v.lines if line.account == CLEARING
               for i in line.specification_ids}
    listed = {i for p in left.payments for i in p.specification_ids}
    assert settled and not settled & listed  # settled in Fortnox: not to be registered by hand
    remaining = {(p.invoice_number, p.amount) for p in left.payments}
    assert ("INV-2025-0044", Decimal("1551.07")) in remaining  # cancelled in Fortnox: by hand
    assert ("INV-2025-0017", Decimal("800.00")) in remaining  # the second payout would overpay it
    assert not {("INV-2025-0021", Decimal("917.76")), ("INV-2025-0017", Decimal("1450.00"))} & remaining
    csv = (tmp_path / "2025-06" / "invoice-payments-2025-06.csv").read_bytes().decode("utf-8-sig")
    assert "INV-2025-0044" in csv and "INV-2025-0021" not in csv


def test_invoices_matched_by_reference_number_settle_the_lines_of_that_reference(raw, tmp_path):
    """Fortnox's DocumentNumber is Amili's reference_number (as in the sandbox): never compared to invoice_number."""
    from dataclasses import replace as _replace

    from ledger_export.fortnox.settings import InvoiceMatch
    plain = post_month(raw, tmp_path / "plain", FakeFortnox())
    refs = {s.invoice_number: s.reference_number for s in plain.data.specifications}
    books = FakeFortnox(invoices={refs[n]: _replace(i, number=refs[n]) for n, i in june_invoices().items()})
    config = fortnox_config(tmp_path / "out", settle=True)
    config = _replace(config, fortnox=_replace(config.fortnox, invoice_match=InvoiceMatch("reference_number",
                                                                                          "DocumentNumber")))
    result = export(config, None, ExportOptions(generated=FIXED, from_raw=raw, to="fortnox"), books=books)
    assert sorted((p.invoice, p.amount) for p in books.payments) == sorted((refs[n], a) for n, a in SETTLED.items())
    assert_every_line_is_its_specification_lines(result)
    clearing = sum((l.amount for v in result.ledger.vouchers for l in v.lines if l.account == CLEARING), ZERO)
    assert clearing == -sum(SETTLED.values())


@pytest.mark.parametrize("index", [3, 4, 5])  # the voucher that pays, its payment, its bookkeeping
def test_a_resumed_run_rebuilds_the_settled_voucher_as_it_was_posted(raw, tmp_path, index):
    whole = post_month(raw, tmp_path / "whole", settling_books(), settle=True)
    books = settling_books()
    books.faults = {index: "kill"}
    with pytest.raises(Killed):
        post_month(raw, tmp_path / "out", books, settle=True)
    books.faults = {}
    resumed = post_month(raw, tmp_path / "out", books, settle=True)
    assert [v.lines for v in resumed.ledger.vouchers] == [v.lines for v in whole.ledger.vouchers]
    assert_every_line_is_its_specification_lines(resumed)
    with Register.open(tmp_path / "out") as register:
        held = register.fortnox.actions_of([v.payout_id for v in resumed.ledger.vouchers])
        recorded = [p for h in held.values() for p in h.payments]
        assert recorded and all(p.lines and p.match_key and sum(a for _, a in p.lines) == p.amount
                                for p in recorded)


def test_posting_shows_its_progress_on_a_terminal_and_nothing_elsewhere(raw, tmp_path):
    import io

    from ledger_export.core.progress import Progress

    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    screen, pipe = Terminal(), io.StringIO()
    for stream, out in ((screen, tmp_path / "tty"), (pipe, tmp_path / "pipe")):
        books = settling_books()
        export(fortnox_config(out, settle=True), None,
               ExportOptions(generated=date(2025, 7, 1), from_raw=raw, to="fortnox"), books=books,
               progress=Progress(stream))
    shown = screen.getvalue().split("\r")[-1]
    assert f"Fortnox vouchers: {len(books.vouchers)}" in shown and "invoice payments:" in shown
    assert pipe.getvalue() == ""


def test_texts_go_to_fortnox_exactly_as_the_si_writes_them(raw, tmp_path):
    from dataclasses import replace

    from ledger_export.sie.reader import read_sie_file

    # A voucher text with a euro sign, far over 50 characters: the .si cleans and shortens it.
    long_text = "Amili € {{ category }} {{ payout_date }} " + "x" * 60 + " ref {{ reference }}"
    books = settling_books()
    config = fortnox_config(tmp_path / "fx")
    config = replace(config, ledger=replace(config.ledger, voucher_text=long_text))
    export(config, None, ExportOptions(generated=date(2025, 7, 1), from_raw=raw, to="fortnox"), books=books)
    sie_config = replace(config, output=replace(config.output, folder=str(tmp_path / "si")))
    export(sie_config, None, ExportOptions(generated=date(2025, 7, 1), from_raw=raw))
    sie = read_sie_file(tmp_path / "si" / "2025-06" / "ledger-2025-06.si")
    in_file = sorted((v.date, v.text, tuple(t.text for t in v.transactions)) for v in sie.vouchers)
    posted = sorted((v.day, v.description, tuple(r.text for r in v.rows)) for v in books.vouchers)
    assert posted == in_file
    assert all("€" not in text and len(text) <= 50 for _, text, _ in posted)


def test_a_second_output_folder_never_posts_what_fortnox_already_holds(raw, tmp_path):
    from ledger_export.jobs.fortnox_post import PostedElsewhereError

    books = settling_books()
    post_month(raw, tmp_path / "first", books, settle=True)
    writes = books.writes
    for dry_run in (True, False):
        with pytest.raises(PostedElsewhereError, match="Fortnox already holds payout .* as voucher A") as refused:
            post_month(raw, tmp_path / "second", books, settle=True, dry_run=dry_run)
        assert refused.value.exit_code == 4
    assert books.writes == writes and len(books.vouchers) == len({v.comments for v in books.vouchers})
    assert not list((tmp_path / "second").glob("2025-06/*"))
