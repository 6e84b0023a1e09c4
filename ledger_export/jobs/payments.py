"""``ledger-export payments register FILE.csv``: tell Amili about payments debtors made to the creditor.

Each payment reaches Amili once, whoever else is registering:

- The whole file is read and checked before any request (payments_csv).
- One run at a time per creditor: a run holds the OS lock
  ``<output folder>/.ledger-export-payments-<creditor>.lock`` from before
  its first request until its last (lock.py: released by the kernel however
  the run ends). A second run for the same creditor is refused at once
  (LockedError, exit 5) and sends nothing. A dry run sends nothing, so it
  takes no lock.
- Rows whose reference Amili already has are skipped, so running the same
  file twice registers nothing twice. The references are read once for the
  whole file, then each one again right before its POST, so a payment
  registered meanwhile (Amili's web form, another machine) is skipped too.
- A POST whose answer was lost (OutcomeUnknownError) is never resent: the
  next run of the same file skips the row if Amili did store it and sends
  it if Amili did not.
- A POST answered 2xx with a body that cannot be read was stored: the
  reference is looked up once; found, the row is registered with Amili's
  id (and says the answer was unreadable); not found, it is "sent, answer
  unreadable" and needs attention.
- A reference Amili holds more than once needs attention: the debtor's
  payment may count more than once.

A row needs attention (exit 1) when it is not registered for sure, is
registered under a reference Amili holds for another payment or more than
once, or Amili settled it with status "error".
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import nullcontext
from dataclasses import dataclass, replace
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any, Final, Literal

from ledger_export.amili import timestamps
from ledger_export.amili.answers import format_issues
from ledger_export.amili.auth import TokenProvider
from ledger_export.amili.client import AmiliClient
from ledger_export.amili.models import CreditorPayment
from ledger_export.jobs.config import Config
from ledger_export.core.errors import AmiliError, OutcomeUnknownError, RecordError, RequestRejectedError, ResponseFormatError
from ledger_export.jobs.fetch import open_client
from ledger_export.core.lock import OutputLock
from ledger_export.core.money import format_amount
from ledger_export.jobs.payments_csv import PaymentRow, read_payments

RESOURCE = "creditor--payments"
BATCH = 100  # references per $in query: one page each, and a URL of a few kB

# What became of a row, as the result table prints it.
PaymentStatus = Literal["registered", "already registered", "would register", "rejected", "unknown", "not sent",
                        "reference in use", "registered more than once", "sent, answer unreadable"]
REGISTERED: Final = "registered"
ALREADY: Final = "already registered"
WOULD: Final = "would register"
REJECTED: Final = "rejected"
UNKNOWN: Final = "unknown"
FAILED: Final = "not sent"
CONFLICT: Final = "reference in use"
MORE_THAN_ONCE: Final = "registered more than once"
UNREADABLE: Final = "sent, answer unreadable"
FAILURES: tuple[PaymentStatus, ...] = (REJECTED, UNKNOWN, FAILED, CONFLICT, MORE_THAN_ONCE, UNREADABLE)


@dataclass(frozen=True)
class PaymentResult:
    """What became of one row of the file."""

    line: int
    reference: str
    target: str  # "invoice INV-2025-0049" or "case 68..."
    amount: Decimal
    status: PaymentStatus
    payment_id: str | None = None
    settled_amount: Decimal | None = None
    amili_status: str | None = None  # Amili's processing status: completed, warning, error
    status_reason: str | None = None  # Amili's status_reason_locale key
    message: str = ""

    @property
    def failed(self) -> bool:
        """Rows that need the bookkeeper: not registered for sure, or registered but not settled."""
        return self.status in FAILURES or self.amili_status == "error"


def registered_before(client: AmiliClient, creditor: str,
                      references: Sequence[str]) -> dict[str, list[CreditorPayment]]:
    """The creditor's payments at Amili carrying any of ``references``, by reference."""
    found: dict[str, list[CreditorPayment]] = {}
    for start in range(0, len(references), BATCH):
        batch = list(references[start:start + BATCH])
        items = client.list_items(RESOURCE, {"creditor": creditor, "creditor_payment_reference": {"$in": batch}})
        for item in items:
            payment = CreditorPayment.from_api(item)
            reference = payment.creditor_payment_reference
            if reference is not None:  # always, as the query asks for these references
                found.setdefault(reference, []).append(payment)
    return found


def payment_body(creditor: str, row: PaymentRow) -> dict[str, Any]:
    target = {"case": row.case} if row.case else {"invoice_number": row.invoice_number}
    # The amount stays a Decimal: the client writes it with simplejson's
    # use_decimal, a JSON number with exactly the file's digits, never a float.
    return {"creditor": creditor, **target, "currency": row.currency, "amount": row.amount,
            "bank_transaction_date": timestamps.format(row.bank_transaction_date),
            "creditor_payment_reference": row.reference, "origin": "creditor_system"}


def _result(row: PaymentRow, status: PaymentStatus, payment: CreditorPayment | None = None, **extra: Any) -> PaymentResult:
    if payment is not None:
        extra = {"payment_id": payment.id, "settled_amount": payment.settled_amount,
                 "amili_status": payment.status, "status_reason": payment.status_reason_locale, **extra}
    return PaymentResult(row.line, row.reference, row.target, row.amount, status, **extra)


def _same_payment(row: PaymentRow, stored: CreditorPayment) -> bool:
    target = stored.case == row.case if row.case else stored.invoice_number == row.invoice_number
    return target and stored.amount == row.amount and stored.bank_transaction_date == row.bank_transaction_date


def _known(row: PaymentRow, stored: list[CreditorPayment], note: str = "") -> PaymentResult:
    """The row whose reference Amili has: skipped, and checked against what Amili holds."""
    first = stored[0]
    times = f"; Amili has this reference {len(stored)} times" if len(stored) > 1 else ""
    if not _same_payment(row, first):
        theirs = (f"case {first.case}" if first.case else f"invoice {first.invoice_number}")
        return _result(row, CONFLICT, first, message=(
            f"Amili has reference {row.reference} for {theirs}, {format_amount(first.amount)} SEK on "
            f"{first.bank_transaction_date} (payment {first.id}); this row is {row.target}, "
            f"{format_amount(row.amount)} SEK on {row.bank_transaction_date}: if it is another payment, "
            f"give it its own reference{times}"))
    if len(stored) > 1:
        return _result(row, MORE_THAN_ONCE, first, message=(
            f"Amili has reference {row.reference} {len(stored)} times (payments "
            f"{', '.join(p.id for p in stored)}): the payment may count {len(stored)} times; "
            f"ask Amili to remove all but one"))
    return _result(row, ALREADY, first, message=note)


def _look_up(client: AmiliClient, creditor: str, reference: str) -> list[CreditorPayment]:
    return registered_before(client, creditor, [reference]).get(reference, [])


def _register(client: AmiliClient, creditor: str, row: PaymentRow) -> PaymentResult:
    """Post the row unless Amili has its reference now: the file's first read may be minutes old."""
    try:
        stored = _look_up(client, creditor, row.reference)
    except (AmiliError, RecordError) as exc:
        return _result(row, FAILED, message=f"checking whether Amili has it just before sending failed: {exc}")
    if stored:
        return _known(row, stored, note="registered at Amili while this run was going, not by this run")
    return _post(client, creditor, row)


def _post(client: AmiliClient, creditor: str, row: PaymentRow) -> PaymentResult:
    try:
        answer = client.post_json(RESOURCE, payment_body(creditor, row))
    except OutcomeUnknownError as exc:
        return _result(row, UNKNOWN, message=(
            f"{exc}. Run the same file again: if Amili has it, the reference makes the run skip it"))
    except RequestRejectedError as exc:
        issues = format_issues(exc.issues) if exc.issues else str(exc)
        return _result(row, REJECTED, message=f"Amili rejected it: {issues}")
    except ResponseFormatError as exc:  # a 2xx answer: stored, only the answer cannot be read
        return _unreadable_answer(client, creditor, row, exc)
    except AmiliError as exc:  # 429, 401/403, 404: refused before anything was stored
        return _result(row, FAILED, message=str(exc))
    try:
        stored = CreditorPayment.from_api(client.get_json(f"{RESOURCE}/{answer['_id']}"))
    except (AmiliError, RecordError, KeyError) as exc:
        # Registered for sure (201): only the read-back of settled amount and status failed.
        detail = "no _id in Amili's answer" if isinstance(exc, KeyError) else str(exc)
        return _result(row, REGISTERED, payment_id=answer.get("_id"), amili_status=answer.get("_payment_status"),
                       message=f"registered, but reading it back failed: {detail}")
    return _result(row, REGISTERED, stored)


def _unreadable_answer(client: AmiliClient, creditor: str, row: PaymentRow,
                       error: ResponseFormatError) -> PaymentResult:
    """Amili stored the payment but its answer cannot be read: look the reference up once for its id."""
    try:
        stored = _look_up(client, creditor, row.reference)
    except (AmiliError, RecordError) as exc:
        stored, why = [], f"looking the reference up failed too: {exc}"
    else:
        why = "looking the reference up right after did not find it"
    if not stored:
        return _result(row, UNREADABLE, message=(
            f"{error}; {why}. Check at Amili before sending it again: a run of the same file skips it "
            f"once Amili lists it"))
    result = _known(row, stored)
    unreadable = f"Amili's answer to the POST could not be read ({error}); looking the reference up found it"
    if result.status == ALREADY:
        return replace(result, status=REGISTERED, message=f"registered: {unreadable}")
    return replace(result, message=f"{unreadable}, and {result.message}")


def register_payments(client: AmiliClient, creditor: str, rows: Sequence[PaymentRow], *,
                      dry_run: bool = False) -> tuple[PaymentResult, ...]:
    """Each row once: skipped if Amili has its reference, else posted (not in a dry run).

    Amili is asked for every reference of the file at once, then for each
    one again right before its POST (one request per row posted).
    """
    known = registered_before(client, creditor, [row.reference for row in rows])
    results = []
    for row in rows:
        if row.reference in known:
            results.append(_known(row, known[row.reference]))
        elif dry_run:
            results.append(_result(row, WOULD))
        else:
            results.append(_register(client, creditor, row))
    return tuple(results)


def exit_code(results: Sequence[PaymentResult]) -> int:
    return 1 if any(r.failed for r in results) else 0


def render_results(results: Sequence[PaymentResult]) -> str:
    """A plain table, one row per payment, then the messages, then the counts."""
    head = ("line", "reference", "for", "amount", "result", "settled", "Amili status", "reason")
    rows = [(str(r.line), r.reference, r.target, format_amount(r.amount), r.status,
             format_amount(r.settled_amount) if r.settled_amount is not None else "",
             r.amili_status or "", r.status_reason or "") for r in results]
    widths = [max(len(cells[i]) for cells in (head, *rows)) for i in range(len(head))]
    right = {0, 3, 5}

    def line(cells: Sequence[str]) -> str:
        return "  ".join(c.rjust(w) if i in right else c.ljust(w)
                         for i, (c, w) in enumerate(zip(cells, widths))).rstrip()

    out = [line(head), line(["-" * w for w in widths]), *(line(cells) for cells in rows)]
    notes = [f"line {r.line}: {r.message}" for r in results if r.message]
    if notes:
        out += ["", *notes]
    counts: dict[str, int] = {}
    for r in results:
        counts[r.status] = counts.get(r.status, 0) + 1
    summary = ", ".join(f"{n} {status}" for status, n in counts.items())
    failed = sum(r.failed for r in results)
    out += ["", f"{len(results)} payment{'s' if len(results) != 1 else ''}: {summary}."
            + (f" {failed} need{'s' if failed == 1 else ''} attention." if failed else "")]
    return "\n".join(out) + "\n"


@dataclass(frozen=True)
class PaymentsRun:
    results: tuple[PaymentResult, ...]
    dry_run: bool
    requests: int

    @property
    def exit_code(self) -> int:
        return exit_code(self.results)

    def describe(self) -> str:
        text = render_results(self.results)
        return text + ("Dry run: nothing was sent to Amili.\n" if self.dry_run else "")


def lock_name(creditor: str) -> str:
    return f".ledger-export-payments-{creditor}.lock"


def creditor_lock(config: Config) -> OutputLock:
    """One payments run at a time per creditor, in the output folder (made if missing)."""
    creditor = config.amili.creditor  # a 24-character hex id (amili/settings.py checks): safe in a file name
    return OutputLock(Path(config.output.folder), lock_name(creditor),
                      holder=f"another payments run for creditor {creditor}")


def register_file(config: Config, path: Path, *, today: date, dry_run: bool = False,
                  tokens: TokenProvider | None = None) -> PaymentsRun:
    """``ledger-export payments register``: the whole file is validated before any request.

    Two runs that both read Amili's references before either posts would
    both post every row: the creditor's lock makes read-and-post one step.
    """
    rows = read_payments(path, today=today, creditor=config.amili.creditor)
    with open_client(config, tokens=tokens) as client, (nullcontext() if dry_run else creditor_lock(config)):
        results = register_payments(client, config.amili.creditor, rows, dry_run=dry_run)
        return PaymentsRun(results, dry_run, client.requests_made)
