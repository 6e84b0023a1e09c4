"""Posting a month into Fortnox: check, settle what an earlier run left unknown, then post each payout once.

Per payout, in this order: its voucher (in the configured series, dated and
texted as in the ``.si``; Comments carries ``ledger-export payout <id>`` so
it can be found again), the upload of its self-invoice PDF to the inbox for
vouchers, the connection of that file to the voucher, then each invoice
payment (registered and bookkept). Every action is noted in the register
as pending before it is asked for and confirmed right after the answer
(jobs/register_fortnox.py), so whatever stops the run, the next one knows
what exists: an action whose answer was lost is looked up in Fortnox
(``settle_unknown``) and found (confirmed) or not (absent, asked for
again). Two candidates for one action stop the run: it never guesses.

Nothing here knows HTTP: Fortnox is a ``FortnoxBooks`` (jobs/fortnox_books.py).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from decimal import Decimal
from typing import Any

from ledger_export.amili.models import Payout, PeriodData
from ledger_export.core.errors import LedgerExportError
from ledger_export.core.money import ZERO, format_amount
from ledger_export.core.progress import NoProgress, Progress
from ledger_export.jobs.fortnox_books import OUTCOME_UNKNOWN, FortnoxBooks, VoucherRef, VoucherRow
from ledger_export.jobs.fortnox_check import Readiness, check_books
from ledger_export.jobs.fortnox_plan import (PlanMismatch, Settlement, plan_settlements,
                                             recorded_plan, settled_voucher)
from ledger_export.fortnox.settings import FortnoxSettings
from ledger_export.jobs.register_fortnox import Action, FortnoxRegister, PayoutActions
from ledger_export.ledger.mapping import AccountMap
from ledger_export.ledger.model import WARNING, Finding, Ledger, Voucher
from ledger_export.ledger.settings import LedgerSettings
from ledger_export.sie.text import as_written, reference_key

MARKER = "ledger-export payout "
DocumentSource = Callable[[str], tuple[str, bytes] | None]  # payout id -> (file name, PDF), or None


class AmbiguousInFortnoxError(LedgerExportError):
    """Fortnox holds two things that could be the one an earlier run made: the run stops and says which."""


class PostedElsewhereError(LedgerExportError):
    """Fortnox already holds a voucher of ours for a payout this register has never posted.

    Another output folder (with a register of its own) posted it: posting it
    again here would book it twice. Exit code 4, like a payout exported before.
    """

    exit_code = 4


class PostingStoppedError(LedgerExportError):
    """A write to Fortnox failed or its answer was lost; the register says what exists."""


def reference(payout_id: str) -> str:
    """What a voucher's Comments carry, to find it again after a lost answer."""
    return f"{MARKER}{payout_id}"


def text_of(voucher: Voucher) -> str:
    """The voucher's text exactly as the .si writes it (cleaned, shortened keeping the payout reference)."""
    return as_written(voucher.text, reference_key(voucher.payout_reference))


def rows_of(voucher: Voucher) -> tuple[VoucherRow, ...]:
    """The rows with their texts as the .si writes them: a voucher in Fortnox reads as the file would."""
    keep = reference_key(voucher.payout_reference)
    return tuple(VoucherRow(line.account, line.debit, line.credit, as_written(line.text, keep))
                 for line in voucher.lines)


# -- settling what an earlier run left unknown --------------------------------------


def _one(action: Action, candidates: Sequence[str]) -> bool:
    """True: found once; False: not there; two or more: stop, never guess."""
    if len(candidates) > 1:
        raise AmbiguousInFortnoxError(
            f"the {action.describe()} was asked for by run {action.run_id} and its answer was lost; Fortnox "
            f"now holds {len(candidates)} that could be it ({', '.join(candidates)}): decide in Fortnox which "
            f"is the one (reverse the other), then note it with `ledger-export fortnox status`; nothing "
            f"more was posted")
    return len(candidates) == 1


def settle_unknown(books: FortnoxBooks, register: FortnoxRegister) -> tuple[str, ...]:
    """Each pending action, looked up in Fortnox: confirmed (with what it is there) or absent."""
    notes: list[str] = []
    unknown = register.unknown()
    if not unknown:
        return ()
    confirmed = register.confirmed()
    taken_vouchers = {a.voucher for a in confirmed if a.kind == "voucher"}
    taken_files = {a.file_id for a in confirmed if a.kind == "document"}
    taken_payments = {a.payment_number for a in confirmed if a.kind == "payment"}
    for action in unknown:
        if action.kind == "voucher":
            assert action.series is not None and action.day is not None
            found = [v for v in books.vouchers_in(action.series, action.day, action.day)
                     if v.comments.strip() == reference(action.payout_id) and v.ref not in taken_vouchers]
            if _one(action, [str(v.ref) for v in found]):
                register.confirm_voucher(action.id, found[0].ref)
                taken_vouchers.add(found[0].ref)
                notes.append(f"the {action.describe()} had been made as {found[0].ref}")
                continue
        elif action.kind == "document":
            files = [f for f in books.voucher_documents()
                     if f.name == action.file_name and f.size == action.size and f.id not in taken_files]
            if _one(action, [f"file {f.id}" for f in files]):
                register.set(action.id, "confirmed", file_id=files[0].id)
                taken_files.add(files[0].id)
                notes.append(f"the {action.describe()} had been uploaded as file {files[0].id}")
                continue
        elif action.kind == "connection":
            ref = action.voucher
            if any(c.file_id == action.file_id and c.voucher == ref for c in books.connections()):
                register.set(action.id, "confirmed")
                notes.append(f"the {action.describe()} had been made")
                continue
        else:
            assert action.invoice is not None and action.amount is not None
            payments = [p for p in books.payments_of(action.invoice)
                        if p.amount == action.amount and p.day == action.day and p.number not in taken_payments]
            if _one(action, [f"payment {p.number}" for p in payments]):
                register.set(action.id, "confirmed", payment_number=payments[0].number,
                             bookkept=payments[0].booked)
                taken_payments.add(payments[0].number)
                notes.append(f"the {action.describe()} had been registered as payment {payments[0].number}")
                continue
        register.set(action.id, "absent")
        notes.append(f"the {action.describe()} had not been made: it is asked for again")
    return tuple(notes)


# -- deciding what to post -----------------------------------------------------------


@dataclass(frozen=True)
class Prepared:
    """A run's vouchers as they go into Fortnox, and the invoice payments that agree with them."""

    ledger: Ledger
    series: str
    plans: Mapping[str, tuple[Settlement, ...]]
    readiness: Readiness
    actions: Mapping[str, PayoutActions]
    notes: tuple[str, ...] = ()
    unknown: int = 0  # actions still unknown (a dry run does not settle them)


def _refuse_posted_elsewhere(books: FortnoxBooks, series: str, fresh: Sequence[Payout], ledger: Ledger) -> None:
    """Stop before any write if a payout this register has never posted is in Fortnox already."""
    ours = {reference(p.id): p.id for p in fresh}
    days = [v.date for v in ledger.vouchers if reference(v.payout_id or "") in ours]
    if not days:
        return
    found = sorted((ours[v.comments], str(v.ref)) for v in books.vouchers_in(series, min(days), max(days))
                   if v.comments in ours)
    if found:
        named = ", ".join(f"payout {pid} as voucher {ref}" for pid, ref in found[:3])
        more = f" and {len(found) - 3} more" if len(found) > 3 else ""
        raise PostedElsewhereError(
            f"Fortnox already holds {named}{more}, posted by a run this output folder's register does not "
            f"know (another output folder?): nothing was posted; post each month from one output folder")


def prepare(books: FortnoxBooks, posting: FortnoxSettings, settings: LedgerSettings, register: FortnoxRegister, *,
            orgnr: str, data: PeriodData, ledger: Ledger, payouts: Sequence[Payout], documents: bool,
            settle: bool) -> Prepared:
    """Check Fortnox, settle unknown actions (``settle``: not on a dry run), plan payments, rewrite vouchers."""
    series = posting.series_for(settings.series)
    readiness = check_books(books, posting, orgnr=orgnr, series=series, vouchers=ledger.vouchers,
                            documents=documents)
    notes = settle_unknown(books, register) if settle else ()
    by_id = {p.id: p for p in payouts}
    actions = register.actions_of(by_id)
    findings: list[Finding] = []
    plans: dict[str, tuple[Settlement, ...]] = {}
    fresh: list[Payout] = []
    unpaid: dict[str, Decimal] = {}
    for pid, payout in by_id.items():
        voucher = actions.get(pid, PayoutActions()).voucher
        if voucher is not None and voucher.status in ("pending", "confirmed"):
            # Posted (or perhaps posted) already: its voucher was built with the plan it recorded,
            # payments not yet made (absent) included: they are asked for again.
            kept = [Settlement(a.invoice or "", a.amount or ZERO, a.day or voucher.day or date.min,
                               a.match_key or "", a.lines) for a in actions[pid].payments]
            if kept:
                plans[pid] = recorded_plan(kept)
            for a in actions[pid].payments:
                if a.status in ("planned", "absent") and a.invoice is not None and a.amount is not None:
                    unpaid[a.invoice] = unpaid.get(a.invoice, ZERO) + a.amount
            if voucher.etag != payout.etag:
                findings.append(Finding("drift", WARNING, f"payout {pid} changed at Amili since its voucher was "
                                        f"posted to Fortnox (run {voucher.run_id}); check that voucher", pid))
        else:
            fresh.append(payout)
    _refuse_posted_elsewhere(books, series, fresh, ledger)
    new_plans, settle_findings = plan_settlements(books, posting, settings, data, fresh, unpaid)
    plans.update(new_plans)
    vouchers = ledger.vouchers
    receivable = settings.receivable_account
    if plans and readiness.clearing_account is not None:
        objects = AccountMap(settings).objects(readiness.clearing_account)
        clearing = readiness.clearing_account
        drifted = {f.payout_id for f in findings}

        def settled(v: Voucher) -> Voucher:
            try:
                return settled_voucher(v, plans.get(v.payout_id or "", ()), receivable, clearing, objects)
            except PlanMismatch as exc:
                if v.payout_id not in drifted:
                    raise  # the plan was made from these very lines: a bug, with its traceback
                findings.append(Finding("drift", WARNING, f"{exc}: the voucher in Fortnox settles what Amili "
                                        f"said when it was posted; this pack shows the payout as it is now",
                                        v.payout_id))
                return v

        vouchers = tuple(settled(v) for v in vouchers)
    vouchers = tuple(replace(v, series=series) for v in vouchers)
    names = dict(ledger.account_names)
    if readiness.clearing_account is not None and plans:
        names.setdefault(readiness.clearing_account, f"Betalningssätt {posting.mode_of_payment}")
    adjusted = replace(ledger, vouchers=vouchers, account_names=dict(sorted(names.items())),
                       findings=ledger.findings + tuple(findings) + settle_findings)
    return Prepared(adjusted, series, plans, readiness, actions, notes,
                    unknown=0 if settle else len(register.unknown()))


def would_post(prepared: Prepared) -> list[str]:
    """What a run would do in Fortnox (``--dry-run``), one line per payout."""
    lines = [f"Fortnox: {len(prepared.ledger.vouchers)} voucher(s) into series {prepared.series}:"]
    for v in prepared.ledger.vouchers:
        held = prepared.actions.get(v.payout_id or "", PayoutActions())
        state = (f"already posted as {held.voucher.voucher}" if held.voucher and held.voucher.status == "confirmed"
                 else "would be posted")
        pays = "".join(f"; pay invoice {s.invoice} {format_amount(s.amount)}"
                       for s in prepared.plans.get(v.payout_id or "", ()))
        doc = f", attach {v.document_name}" if v.document_name else ""
        lines.append(f"  payout {v.payout_id} {v.date}: {state}{doc}{pays}")
    if prepared.unknown:
        lines.append(f"  {prepared.unknown} action(s) of an earlier run have an unknown outcome: the run looks "
                     f"them up in Fortnox before it posts anything")
    return lines


# -- posting ----------------------------------------------------------------------


@dataclass
class _Poster:
    books: FortnoxBooks
    register: FortnoxRegister
    run_id: int
    mode_of_payment: str
    # At Fortnox's 25 requests per 5 s a month takes minutes: the bookkeeper sees it move.
    progress: Progress = field(default_factory=NoProgress)
    posted: list[str] = field(default_factory=list)

    def ask(self, action_id: int, what: str, call: Callable[[], Any], *, creates: bool = True) -> Any:
        """One write: the action is pending (committed) before; absent if refused; pending if unanswered.

        ``creates``: False for bookkeeping a payment that exists: refused, it stays confirmed, not bookkept.
        """
        try:
            return call()
        except OUTCOME_UNKNOWN as exc:
            raise PostingStoppedError(
                f"Fortnox did not answer whether it made the {what} ({exc}); the register notes it as "
                f"unknown: run the same command again, it looks in Fortnox first and posts nothing twice") from exc
        except LedgerExportError as exc:
            if creates:
                self.register.set(action_id, "absent")
            raise PostingStoppedError(f"Fortnox refused the {what}: {exc}; what was posted before it is in the "
                                      f"register, and the same command carries on from here") from exc

    def voucher(self, payout: Payout, voucher: Voucher, plan: Sequence[Settlement],
                held: PayoutActions) -> VoucherRef:
        if held.voucher is not None and held.voucher.status == "confirmed":
            known = held.voucher.voucher
            assert known is not None
            return known
        # None, or absent (it never reached Fortnox): asked for now, with this run's plan.
        action = self.register.start_voucher(self.run_id, payout, voucher.series, voucher.date,
                                             [(s.invoice, s.amount, s.day, s.key, s.lines) for s in plan])
        ref: VoucherRef = self.ask(action, f"voucher for payout {payout.id}", lambda: self.books.create_voucher(
            voucher.series, voucher.date, text_of(voucher), rows_of(voucher), reference(payout.id)))
        self.register.confirm_voucher(action, ref)
        self.posted.append(f"voucher {ref} for payout {payout.id}")
        self.progress.add("Fortnox vouchers")
        return ref

    def document(self, payout: Payout, held: PayoutActions, source: DocumentSource) -> str | None:
        if held.document is not None and held.document.status == "confirmed":
            return held.document.file_id
        found = source(payout.id)
        if found is None:
            return None
        name, content = found
        action = self.register.start(self.run_id, payout.id, payout.etag, "document", file_name=name,
                                     size=len(content))
        file_id: str = self.ask(action, f"upload of self-invoice {name}",
                                lambda: self.books.upload_voucher_document(name, content))
        self.register.set(action, "confirmed", file_id=file_id)
        self.posted.append(f"self-invoice {name} as file {file_id}")
        self.progress.add("self-invoices uploaded")
        return file_id

    def connection(self, payout: Payout, held: PayoutActions, file_id: str, ref: VoucherRef) -> None:
        if held.connection is not None and held.connection.status == "confirmed":
            return
        action = self.register.start(self.run_id, payout.id, payout.etag, "connection", file_id=file_id,
                                     series=ref.series, number=ref.number, year=ref.year)
        self.ask(action, f"connection of file {file_id} to voucher {ref}",
                 lambda: self.books.connect_document(file_id, ref))
        self.register.set(action, "confirmed")
        self.posted.append(f"file {file_id} connected to voucher {ref}")
        self.progress.add("connected")

    def payments(self, payout: Payout) -> None:
        held = self.register.actions_of([payout.id]).get(payout.id, PayoutActions())
        for payment in held.payments:
            assert payment.invoice is not None and payment.amount is not None and payment.day is not None
            number = payment.payment_number
            if payment.status in ("planned", "absent"):
                self.register.set(payment.id, "pending")
                invoice, amount, day = payment.invoice, payment.amount, payment.day
                number = self.ask(payment.id, f"payment of {format_amount(amount)} on invoice {invoice}",
                                  lambda: self.books.pay_invoice(invoice, amount, day, self.mode_of_payment))
                self.register.set(payment.id, "confirmed", payment_number=number)
                self.posted.append(f"payment {number} of {format_amount(amount)} on invoice {invoice}")
                self.progress.add("invoice payments")
            elif payment.bookkept:
                continue
            else:  # confirmed by an earlier run, not noted as bookkept: Fortnox knows
                assert number is not None
                if any(p.number == number and p.booked for p in self.books.payments_of(payment.invoice)):
                    self.register.set(payment.id, "confirmed", bookkept=True)
                    continue
            assert number is not None
            paid = number
            self.ask(payment.id, f"bookkeeping of payment {paid}", lambda: self.books.bookkeep_payment(paid),
                     creates=False)
            self.register.set(payment.id, "confirmed", bookkept=True)


def post(books: FortnoxBooks, register: FortnoxRegister, run_id: int, prepared: Prepared,
         payouts: Sequence[Payout], documents: DocumentSource, *, mode_of_payment: str,
         progress: Progress | None = None) -> tuple[str, ...]:
    """Post every voucher, file, connection and payment not yet in Fortnox; what was posted now."""
    poster = _Poster(books, register, run_id, mode_of_payment, progress or NoProgress())
    by_id = {p.id: p for p in payouts}
    for voucher in prepared.ledger.vouchers:
        payout = by_id[voucher.payout_id or ""]
        held = register.actions_of([payout.id]).get(payout.id, PayoutActions())
        ref = poster.voucher(payout, voucher, prepared.plans.get(payout.id, ()), held)
        held = register.actions_of([payout.id]).get(payout.id, PayoutActions())
        file_id = poster.document(payout, held, documents)
        if file_id is not None:
            poster.connection(payout, held, file_id, ref)
        poster.payments(payout)
    poster.progress.done()
    return tuple(poster.posted)


def postings(register: FortnoxRegister, payout_ids: Sequence[str]) -> dict[str, dict[str, Any]]:
    """Payout id -> what the register holds of it in Fortnox, as plain values (the manifest's ``fortnox``)."""
    out: dict[str, dict[str, Any]] = {}
    for pid, held in sorted(register.actions_of(payout_ids).items()):
        v, d, c = held.voucher, held.document, held.connection
        out[pid] = {
            "voucher": ({"series": v.series, "number": v.number, "year": v.year}
                        if v is not None and v.status == "confirmed" else None),
            "document": ({"file_name": d.file_name, "file_id": d.file_id, "connected":
                          c is not None and c.status == "confirmed"}
                         if d is not None and d.status == "confirmed" else None),
            "payments": [{"invoice": p.invoice, "amount": format_amount(p.amount or ZERO),
                          "date": p.day.isoformat() if p.day else None, "number": p.payment_number,
                          "bookkept": p.bookkept} for p in held.payments if p.status == "confirmed"],
        }
    return out

