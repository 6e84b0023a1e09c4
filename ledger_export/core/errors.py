"""Every problem ledger-export expects to meet is a LedgerExportError.

The CLI turns these into a one-line message and an exit code; anything else
is a bug and keeps its traceback.

    LedgerExportError
    ├── ConfigError              bad or unknown configuration key (names the key)
    ├── PeriodError              a period, date or quarter that cannot be parsed
    ├── RecordError              a record from Amili that cannot be read
    │   │                        (names the record's _id or invoice number and the field)
    │   └── BookingError         ledger/vouchers.py: readable but not bookable (currency, no payout_date)
    ├── ChartError               ledger/chart.py: the --chart file is unusable
    │   └── AccountNotInChartError  the export would book on accounts the chart lacks
    ├── ReconciliationFailed     jobs/export.py: errors (or warnings under --strict); exit code 3
    ├── SieError                 sie/model.py: a file that is not SIE at all
    ├── SnapshotError            a raw snapshot folder that is missing or damaged
    │   └── SandboxDataError     sandbox/data.py: the sandbox's seed folder
    ├── OutputError              an output that cannot be written
    │   ├── SieWriteError        sie/writer.py: a ledger that cannot be written as SIE
    │   └── UnknownOutputError   outputs/registry.py: --outputs names no output; exit code 2
    ├── AmiliError               the Amili API failed (carries URL and status)
    │   ├── AuthenticationError  401/403: the token was refused (never shows the token)
    │   ├── NotFoundError        404: names the URL
    │   ├── RequestRejectedError 400/422: Amili's _error message and _issues
    │   ├── ServiceUnavailableError  429/5xx or dropped connections after retries
    │   │   └── OutcomeUnknownError  a POST failed in transit: it may or may not have been registered
    │   ├── ResponseFormatError  a body that is not the JSON Eve promises
    │   │   └── AnswerUnreadableError  a 2xx whose body cannot be read: a POST was stored all the same
    │   ├── InconsistentPagingError  the list changed under us and re-fetching did not settle it,
    │   │                        or its pages keep contradicting its _meta.total
    │   └── LimitExceededError   amili/bounds.py: past [amili] max_pages, max_response_mb or run_deadline
    └── FortnoxError             the Fortnox API failed (carries URL, status and Fortnox's error code)
        ├── FortnoxAuthError     credentials or tokens refused, or the token file unusable; says what to do
        ├── FortnoxRejectedError 4xx: Fortnox's ErrorInformation (code and message)
        │   └── FortnoxNotFoundError  404
        ├── FortnoxUnavailableError  429/5xx or dropped connections after retries, or a bound passed
        │   └── FortnoxOutcomeUnknownError  a POST/PUT whose answer was lost: it may or may not have been made
        └── FortnoxAnswerUnreadableError  a 2xx whose body cannot be read: a POST was made all the same

Subclasses defined next to their code are named with their module above.
A voucher that does not balance is deliberately not in this tree
(ledger/model.py, UnbalancedVoucherError): reaching it is a bug.
"""

from __future__ import annotations

from typing import Any


def printable(text: str) -> str:
    """``text`` with every control, format or line-separator character escaped (``\\x1b``).

    Messages quote texts from Amili's data (ids, invoice numbers, articles);
    a line break there must not split a one-line error, and an escape
    sequence must not reach the bookkeeper's terminal.
    """
    if text.isprintable():
        return text
    return "".join(ch if ch.isprintable() else ch.encode("unicode_escape").decode("ascii") for ch in text)


class LedgerExportError(Exception):
    """Base of every expected failure. ``str()`` is the user message, one line per problem."""

    exit_code = 1

    def __str__(self) -> str:
        # Line breaks a subclass put there on purpose stay (one problem per line); nothing else does.
        return "\n".join(printable(line) for line in super().__str__().split("\n"))


class ConfigError(LedgerExportError):
    def __init__(self, message: str, *, key: str | None = None, path: str | None = None):
        where = " ".join(p for p in (path and f"{path}:", key and f"[{key}]") if p)
        super().__init__(f"{where} {message}" if where else message)
        self.key = key
        self.path = path


class PeriodError(LedgerExportError):
    pass


class RecordError(LedgerExportError):
    """A record that cannot be read or booked: says which record and which field."""

    def __init__(self, kind: str, record_id: str | None, field: str | None, problem: str):
        label = f"{kind} {record_id or '(no _id)'}"
        text = f"{label}: field '{field}' {problem}" if field else f"{label}: {problem}"
        super().__init__(printable(text))
        self.kind = kind
        self.record_id = record_id
        self.field = field
        self.problem = problem


class SnapshotError(LedgerExportError):
    pass


class OutputError(LedgerExportError):
    pass


class AmiliError(LedgerExportError):
    def __init__(self, message: str, *, url: str | None = None, status: int | None = None):
        super().__init__(message)
        self.url = url
        self.status = status


class AuthenticationError(AmiliError):
    pass


class NotFoundError(AmiliError):
    pass


class RequestRejectedError(AmiliError):
    def __init__(self, message: str, *, url: str | None = None, status: int | None = None,
                 issues: Any = None):
        super().__init__(message, url=url, status=status)
        self.issues = issues


class ServiceUnavailableError(AmiliError):
    pass


class OutcomeUnknownError(ServiceUnavailableError):
    """A POST whose answer never arrived: never retried blindly, the user must check."""


class ResponseFormatError(AmiliError):
    pass


class InconsistentPagingError(AmiliError):
    pass


class AnswerUnreadableError(ResponseFormatError):
    """Amili answered 2xx but the body could not be read: for a POST, the record was stored."""


class FortnoxError(LedgerExportError):
    """The Fortnox API failed. ``code`` is Fortnox's ErrorInformation code, when it sent one."""

    def __init__(self, message: str, *, url: str | None = None, status: int | None = None,
                 code: int | None = None):
        super().__init__(message)
        self.url = url
        self.status = status
        self.code = code


class FortnoxAuthError(FortnoxError):
    pass


class FortnoxRejectedError(FortnoxError):
    pass


class FortnoxNotFoundError(FortnoxRejectedError):
    pass


class FortnoxUnavailableError(FortnoxError):
    pass


class FortnoxOutcomeUnknownError(FortnoxUnavailableError):
    """A POST or PUT whose answer never arrived: never sent again blindly; look in Fortnox first."""


class FortnoxAnswerUnreadableError(FortnoxError):
    """Fortnox answered 2xx but the body could not be read: for a POST, the record was made."""
