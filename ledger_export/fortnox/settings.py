"""``[fortnox]``: where Fortnox is, which company and series, how invoices are matched, the client's limits.

The client id and secret are never configuration: they come from the
environment (FORTNOX_CLIENT_ID, FORTNOX_CLIENT_SECRET; fortnox/auth.py), and
a key in this table that looks like one of them is refused, naming the key,
so a secret pasted into a file that gets copied, mailed or committed is
caught at once.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, get_args
from urllib.parse import urlsplit

from ledger_export.core.errors import ConfigError
from ledger_export.core.settings import Table, positive, seconds

# The Amili field that names a line's invoice, and the Fortnox invoice field it must equal.
AmiliInvoiceField = Literal["invoice_number", "reference_number"]
InvoiceField = Literal["DocumentNumber", "OCR", "ExternalInvoiceReference1", "YourOrderNumber"]
AMILI_SIDES: tuple[AmiliInvoiceField, ...] = get_args(AmiliInvoiceField)
FORTNOX_SIDES: tuple[InvoiceField, ...] = get_args(InvoiceField)

# The scopes a run needs (Fortnox: every scope reads and writes). Settling
# invoices adds the invoices, their payments and the modes of payment.
POSTING_SCOPES = ("bookkeeping", "companyinformation", "connectfile", "inbox")
SETTLING_SCOPES = ("invoice", "payment", "settings")
KNOWN_SCOPES = frozenset(POSTING_SCOPES + SETTLING_SCOPES + (
    "archive", "article", "costcenter", "currency", "customer", "noxfinansinvoice", "offer", "order",
    "price", "print", "profile", "project", "salary", "supplier", "supplierinvoice", "timereporting",
    "warehouse"))

# Keys that would hold a secret; refused with a pointer to the environment variable.
_SECRET_KEYS = {"client_secret": "FORTNOX_CLIENT_SECRET", "secret": "FORTNOX_CLIENT_SECRET",
                "client_id": "FORTNOX_CLIENT_ID", "refresh_token": "FORTNOX_REFRESH_TOKEN",
                "access_token": "FORTNOX_REFRESH_TOKEN (or `ledger-export fortnox login`)"}


@dataclass(frozen=True)
class InvoiceMatch:
    """How an Amili line finds its Fortnox invoice: this Amili field equals that Fortnox field, exactly."""

    amili: AmiliInvoiceField = "invoice_number"
    fortnox: InvoiceField = "DocumentNumber"


@dataclass(frozen=True)
class FortnoxSettings:
    base_url: str = "https://api.fortnox.se"
    auth_url: str = "https://apps.fortnox.se/oauth-v1"
    # Resolved against the configuration file's folder when relative.
    token_file: str = "fortnox-tokens.json"
    # Set: a service account's client credentials (no refresh tokens at all).
    tenant_id: str | None = None
    series: str = ""
    mode_of_payment: str = ""
    clearing_account: int | None = None
    settle_invoices: bool = False
    invoice_match: InvoiceMatch = field(default_factory=InvoiceMatch)
    # What `fortnox login` asks for; empty means what the settings need (needed_scopes).
    scopes: tuple[str, ...] = ()
    # Must equal the redirect URI registered for the app in Fortnox's developer portal.
    redirect_uri: str = "http://127.0.0.1:8710/fortnox/callback"
    connect_timeout: float = 10.0
    read_timeout: float = 60.0
    max_retries: int = 5
    max_wait: float = 120.0
    request_deadline: float = 300.0
    run_deadline: float = 3600.0
    max_response_mb: float = 100.0
    # Fortnox allows 25 requests per sliding 5 seconds per token; the client paces itself to it.
    rate_limit: int = 25
    rate_window: float = 5.0

    def series_for(self, ledger_series: str) -> str:
        """The voucher series the payouts are posted into: ours, else ``[ledger] series``."""
        series = self.series or ledger_series
        if not series:
            raise ConfigError("must name the Fortnox voucher series the payouts are posted into (e.g. \"A\")",
                              key="fortnox.series")
        return series

    def needed_scopes(self) -> tuple[str, ...]:
        """The scopes a run with these settings uses, sorted."""
        wanted = set(POSTING_SCOPES) | (set(SETTLING_SCOPES) if self.settle_invoices else set())
        return tuple(sorted(wanted | set(self.scopes)))


def _url(t: Table, k: str, default: str, *, loopback: bool = False) -> str:
    url = t.get(k, default, str).rstrip("/")
    if not re.match(r"https?://[^\s/]+", url):
        raise t.error(k, f"must be an http(s) URL, got {url!r}")
    try:
        parts = urlsplit(url)
        parts.port  # urllib refuses a port past 65535 only when asked
    except ValueError as exc:
        raise t.error(k, f"is not a usable URL ({exc}), got {url!r}") from None
    if not parts.hostname:
        raise t.error(k, f"has no host name, got {url!r}")
    if loopback and (parts.scheme != "http" or parts.hostname != "127.0.0.1" or not parts.port):
        raise t.error(k, f"must be http://127.0.0.1:<port>/<path> (ledger-export listens there for "
                         f"Fortnox's redirect), got {url!r}")
    return url


def _text(t: Table, k: str, default: str, pattern: str, shape: str) -> str:
    value = t.get(k, default, str)
    if value and not re.fullmatch(pattern, value):
        raise t.error(k, f"must be {shape}, got {value!r}")
    return value


def _invoice_match(t: Table) -> InvoiceMatch:
    d = InvoiceMatch()
    amili_name = t.get("amili", d.amili, str)
    amili = next((f for f in AMILI_SIDES if f == amili_name), None)
    if amili is None:
        raise t.error("amili", f"must be one of {', '.join(AMILI_SIDES)}, got {amili_name!r}")
    fortnox_name = t.get("fortnox", d.fortnox, str)
    fortnox = next((f for f in FORTNOX_SIDES if f == fortnox_name), None)
    if fortnox is None:
        raise t.error("fortnox", f"must be one of {', '.join(FORTNOX_SIDES)}, got {fortnox_name!r}")
    t.finish()
    return InvoiceMatch(amili=amili, fortnox=fortnox)


def _scopes(t: Table) -> tuple[str, ...]:
    value = t.get("scopes", [], list)
    for scope in value:
        if not isinstance(scope, str) or scope not in KNOWN_SCOPES:
            raise t.error("scopes", f"must be Fortnox scope names (such as {', '.join(POSTING_SCOPES)}), "
                                    f"got {scope!r}")
    return tuple(sorted(set(value)))


def read_fortnox(t: Table) -> FortnoxSettings:
    """The ``[fortnox]`` table; ``token_file`` made absolute against the configuration file's folder."""
    for key, variable in _SECRET_KEYS.items():
        if key in t.data:
            raise t.error(key, f"secrets do not belong in the configuration file: remove it and set the "
                               f"environment variable {variable} instead")
    d = FortnoxSettings()
    token_file = t.get("token_file", d.token_file, str)
    if not token_file.strip():
        raise t.error("token_file", "must name a file")
    path = Path(token_file).expanduser()
    if not path.is_absolute() and t.path:
        path = Path(t.path).parent / path
    tenant_id = t.get("tenant_id", d.tenant_id, str)
    if tenant_id is not None and not re.fullmatch(r"[0-9]{1,18}", tenant_id):
        raise t.error("tenant_id", f"must be the company's Fortnox tenant id (digits, the DatabaseNumber "
                                   f"of its company information), got {tenant_id!r}")
    clearing = t.get("clearing_account", d.clearing_account, int)
    if clearing is not None and not 1000 <= clearing <= 9999:
        raise t.error("clearing_account", f"must be a four-digit account number, got {clearing}")
    max_response_mb = t.get("max_response_mb", d.max_response_mb, (int, float))
    if not math.isfinite(max_response_mb) or max_response_mb <= 0:
        raise t.error("max_response_mb", f"must be a finite number of megabytes more than 0, got {max_response_mb}")
    s = FortnoxSettings(
        base_url=_url(t, "base_url", d.base_url),
        auth_url=_url(t, "auth_url", d.auth_url),
        token_file=str(path),
        tenant_id=tenant_id,
        # Fortnox series codes are short upper-case letters (A, B ... or a few letters).
        series=_text(t, "series", d.series, r"[A-Z0-9]{1,10}", "a Fortnox voucher series code such as A"),
        mode_of_payment=_text(t, "mode_of_payment", d.mode_of_payment, r"[A-Za-z0-9_-]{1,10}",
                              "a Fortnox mode of payment code such as BG"),
        clearing_account=clearing,
        settle_invoices=t.get("settle_invoices", d.settle_invoices, bool),
        invoice_match=_invoice_match(t.table("invoice_match")),
        scopes=_scopes(t),
        redirect_uri=_url(t, "redirect_uri", d.redirect_uri, loopback=True),
        connect_timeout=seconds(t, "connect_timeout", d.connect_timeout),
        read_timeout=seconds(t, "read_timeout", d.read_timeout),
        max_retries=t.get("max_retries", d.max_retries, int),
        max_wait=seconds(t, "max_wait", d.max_wait, zero=True),
        request_deadline=seconds(t, "request_deadline", d.request_deadline),
        run_deadline=seconds(t, "run_deadline", d.run_deadline),
        max_response_mb=float(max_response_mb),
        rate_limit=positive(t, "rate_limit", d.rate_limit, int),
        rate_window=seconds(t, "rate_window", d.rate_window),
    )
    if s.max_retries < 0:
        raise t.error("max_retries", "must be 0 or more")
    if s.settle_invoices and not s.mode_of_payment:
        raise t.error("mode_of_payment", "must be set when settle_invoices is true (the Fortnox mode of "
                                         "payment whose account is the clearing account)")
    t.finish()
    return s
