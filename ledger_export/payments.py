"""``ledger-export payments register FILE.csv``: tell Amili about payments debtors made to the creditor.

Safe to run twice on the same file: before posting, the references Amili
already has are read back and those rows are skipped. That is also the
answer to a POST whose answer was lost (OutcomeUnknownError): the client
never resends a POST by itself, and the next run of the same file skips the
row if Amili did store it and sends it if Amili did not.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

from .amili import timestamps
from .amili.answers import format_issues
from .amili.auth import TokenProvider
from .amili.client import AmiliClient
from .amili.models import CreditorPayment
from .config import Config
from .errors import AmiliError, OutcomeUnknownError, RecordError, RequestRejectedError
from .jobs import open_client
from .money import format_amount
from .payments_csv import PaymentRow, read_payments

RESOURCE = "creditor--payments"
BATCH = 100  # references per $in query: one page each, and a URL of a few kB

REGISTERED, ALREADY, WOULD = "registered", "already registered", "would register"
REJECTED, UNKNOWN, FAILED, CONFLICT = "rejected", "unknown", "not sent", "reference in use"
FAILURES = (REJECTED, UNKNOWN, FAILED, CONFLICT)


@dataclass(frozen=True)
class PaymentResult:
    """What became of one row of the file."""

    line: int
    reference: str
    target: str  # "invoice INV-2025-0049" or "case 68..."
    amount: Decimal
    status: str
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
            found.setdefault(payment.creditor_payment_reference, []).append(payment)
    return found


def payment_body(creditor: str, row: PaymentRow) -> dict[str, Any]:
    target = {"case": row.case} if row.case else {"invoice_number": row.invoice_number}
    # The amount stays a Decimal: the client writes it with simplejson's
    # use_decimal, a JSON number with exactly the file's digits, never a float.
    return {"creditor": creditor, **target, "currency": row.currency, "amount": row.amount,
            "bank_transaction_date": timestamps.format(row.bank_transaction_date),
            "creditor_payment_reference": row.reference, "origin": "creditor_system"}


def _result(row: PaymentRow, status: str, payment: CreditorPayment | None = None, **extra: Any) -> PaymentResult:
    if payment is not None:
        extra = {"payment_id": payment.id, "settled_amount": payment.settled_amount,
                 "amili_status": payment.status, "status_reason": payment.status_reason_locale, **extra}
    return PaymentResult(row.line, row.reference, row.target, row.amount, status, **extra)


def _same_payment(row: PaymentRow, stored: CreditorPayment) -> bool:
    target = stored.case == row.case if row.case else stored.invoice_number == row.invoice_number
    return target and stored.amount == row.amount and stored.bank_transaction_date == row.bank_transaction_date


def _known(row: PaymentRow, stored: list[CreditorPayment]) -> PaymentResult:
    first = stored[0]
    if not _same_payment(row, first):
        theirs = (f"case {first.case}" if first.case else f"invoice {first.invoice_number}")
        return _result(row, CONFLICT, first, message=(
            f"Amili has reference {row.reference} for {theirs}, {format_amount(first.amount)} SEK on "
            f"{first.bank_transaction_date} (payment {first.id}); this row is {row.target}, "
            f"{format_amount(row.amount)} SEK on {row.bank_transaction_date}: if it is another payment, "
            f"give it its own reference"))
    twice = f"Amili has this reference {len(stored)} times" if len(stored) > 1 else ""
    return _result(row, ALREADY, first, message=twice)


def _post(client: AmiliClient, creditor: str, row: PaymentRow) -> PaymentResult:
    try:
        answer = client.post_json(RESOURCE, payment_body(creditor, row))
    except OutcomeUnknownError as exc:
        return _result(row, UNKNOWN, message=(
            f"{exc}. Run the same file again: if Amili has it, the reference makes the run skip it"))
    except RequestRejectedError as exc:
        issues = format_issues(exc.issues) if exc.issues else str(exc)
        return _result(row, REJECTED, message=f"Amili rejected it: {issues}")
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


def register_payments(client: AmiliClient, creditor: str, rows: Sequence[PaymentRow], *,
                      dry_run: bool = False) -> tuple[PaymentResult, ...]:
    """Each row once: skipped if Amili has its reference, else posted (not in a dry run)."""
    known = registered_before(client, creditor, [row.reference for row in rows])
    results = []
    for row in rows:
        if row.reference in known:
            results.append(_known(row, known[row.reference]))
        elif dry_run:
            results.append(_result(row, WOULD))
        else:
            results.append(_post(client, creditor, row))
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


def register_file(config: Config, path: Path, *, today: date, dry_run: bool = False,
                  tokens: TokenProvider | None = None) -> PaymentsRun:
    """``ledger-export payments register``: the whole file is validated before any request."""
    rows = read_payments(path, today=today)
    with open_client(config, tokens=tokens) as client:
        results = register_payments(client, config.amili.creditor, rows, dry_run=dry_run)
        return PaymentsRun(results, dry_run, client.requests_made)
