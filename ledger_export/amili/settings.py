"""``[amili]``: where Amili is, how to authenticate, and the client's limits."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from urllib.parse import urlsplit

from ledger_export.core.settings import Table, positive, seconds


@dataclass(frozen=True)
class AmiliSettings:
    base_url: str = "https://api-sandbox.amili.se"
    creditor: str = ""
    # A ready token comes from this environment variable ...
    api_key_env: str = "AMILI_API_KEY"
    # ... or the API-code flow: the code from this environment variable, a JWT
    # signed with the creditor's private key.
    api_code_env: str = "AMILI_API_CODE"
    private_key_file: str | None = None
    jwt_algorithm: str = "ES512"
    # Not documented publicly by Amili; Eve's default media endpoint.
    media_url: str = "{base_url}/media/{file}"
    connect_timeout: float = 10.0
    read_timeout: float = 60.0
    max_retries: int = 5
    # Total seconds the client may spend waiting between retries of one request.
    max_wait: float = 120.0
    concurrency: int = 4
    page_size: int = 100
    # Bounds on what Amili's answers may cost (amili/bounds.py): pages per list,
    # seconds per request attempt and per run, megabytes per answer (decompressed).
    max_pages: int = 10_000
    request_deadline: float = 300.0
    run_deadline: float = 3600.0
    max_response_mb: float = 100.0


JWT_ALGORITHMS = ("ES512", "ES384", "ES256", "RS512", "RS384", "RS256")


def _base_url(t: Table, default: str) -> str:
    base_url = t.get("base_url", default, str).rstrip("/")
    if not re.match(r"https?://[^\s/]+", base_url):
        raise t.error("base_url", f"must be an http(s) URL, got {base_url!r}")
    try:
        # urllib refuses these only when a request is made: a port past 65535, an unclosed [.
        parts = urlsplit(base_url)
        parts.port
    except ValueError as exc:
        raise t.error("base_url", f"is not a usable URL ({exc}), got {base_url!r}") from None
    if not parts.hostname:
        raise t.error("base_url", f"has no host name, got {base_url!r}")
    return base_url


def read_amili(t: Table) -> AmiliSettings:
    d = AmiliSettings()
    base_url = _base_url(t, d.base_url)
    creditor = t.get("creditor", d.creditor, str)
    if creditor and not re.fullmatch(r"[0-9a-f]{24}", creditor):
        raise t.error("creditor", f"must be a 24-character Amili id, got {creditor!r}")
    algorithm = t.get("jwt_algorithm", d.jwt_algorithm, str)
    if algorithm not in JWT_ALGORITHMS:
        raise t.error("jwt_algorithm", f"must be one of {', '.join(JWT_ALGORITHMS)}, got {algorithm!r}")
    media_url = t.get("media_url", d.media_url, str)
    if "{file}" not in media_url:
        raise t.error("media_url", "must contain {file}")
    page_size = positive(t, "page_size", d.page_size, int)
    if page_size > 100:
        raise t.error("page_size", f"Amili serves at most 100 per page, got {page_size}")
    max_response_mb = t.get("max_response_mb", d.max_response_mb, (int, float))
    if not math.isfinite(max_response_mb) or max_response_mb <= 0:
        raise t.error("max_response_mb", f"must be a finite number of megabytes more than 0, got {max_response_mb}")
    s = AmiliSettings(
        base_url=base_url,
        creditor=creditor,
        api_key_env=t.get("api_key_env", d.api_key_env, str),
        api_code_env=t.get("api_code_env", d.api_code_env, str),
        private_key_file=t.get("private_key_file", d.private_key_file, str),
        jwt_algorithm=algorithm,
        media_url=media_url,
        connect_timeout=seconds(t, "connect_timeout", d.connect_timeout),
        read_timeout=seconds(t, "read_timeout", d.read_timeout),
        max_retries=t.get("max_retries", d.max_retries, int),
        max_wait=seconds(t, "max_wait", d.max_wait, zero=True),
        concurrency=positive(t, "concurrency", d.concurrency, int),
        page_size=page_size,
        max_pages=positive(t, "max_pages", d.max_pages, int),
        request_deadline=seconds(t, "request_deadline", d.request_deadline),
        run_deadline=seconds(t, "run_deadline", d.run_deadline),
        max_response_mb=float(max_response_mb),
    )
    if s.max_retries < 0:
        raise t.error("max_retries", "must be 0 or more")
    t.finish()
    return s
