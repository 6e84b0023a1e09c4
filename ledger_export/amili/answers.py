"""What Amili's answers mean: JSON bodies with Decimal amounts, and the error each status stands for.

Messages are one line and name the request; the token travels in a header,
so a URL is safe to show.
"""

from __future__ import annotations

from typing import Any

import requests

from ledger_export.core.errors import (AmiliError, NotFoundError, OutcomeUnknownError, RequestRejectedError,
                      ResponseFormatError, ServiceUnavailableError)
from ledger_export.core.http import TRANSIENT, NestedTooDeep, clip, decode_json, readable

# Decoding, clipping and the failures in transit are core/http.py's (shared with the
# Fortnox client); named here too for the Amili modules and tests that import them from here.
__all__ = ["TRANSIENT", "NestedTooDeep", "clip", "decode_json", "eve_error", "format_issues", "json_object",
           "post_failed", "readable", "refusal"]


def post_failed(what: str, url: str, status: int) -> AmiliError:
    """A POST answered 429 or 5xx: not retried, so the user learns whether it may have counted."""
    if status == 429:
        return ServiceUnavailableError(f"Amili is rate limiting (429) {what}: it was not registered; "
                                       f"try again later", url=url, status=status)
    return OutcomeUnknownError(f"Amili answered {status} to {what}: it may or may not have been "
                               f"registered; check before sending it again", url=url, status=status)


def refusal(what: str, url: str, response: requests.Response, content: bytes) -> AmiliError:
    """The error for an answer (its body: ``content``) that is neither a success nor worth retrying."""
    status = response.status_code
    message, issues = eve_error(content)
    message = message or response.reason or ""
    if status == 404:
        return NotFoundError(f"Amili has no such resource (404) for {what}", url=url, status=status)
    if status in (400, 422):
        detail = "; ".join(p for p in (message, format_issues(issues)) if p)
        return RequestRejectedError(f"Amili rejected {what} ({status}): {clip(detail, 500)}",
                                    url=url, status=status, issues=issues)
    if 300 <= status < 400:
        where = response.headers.get("Location", "?")
        return AmiliError(f"Amili redirected {what} to {where} ({status}): check [amili] base_url",
                          url=url, status=status)
    kind = ServiceUnavailableError if status >= 500 else AmiliError
    return kind(f"Amili answered {status} for {what}: {clip(message, 200)}", url=url, status=status)


def json_object(body: Any, what: str, url: str) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise ResponseFormatError(f"{clip(what, 300)}: the answer is a JSON {type(body).__name__}, "
                                  f"not an object", url=url)
    return body


def eve_error(content: bytes) -> tuple[str, Any]:
    """Eve's ``_error.message`` and ``_issues`` from an error body, as far as it has them."""
    try:
        body = decode_json(content)
    except ValueError:
        return "", None
    if not isinstance(body, dict):
        return "", None
    error = body.get("_error")
    message = error.get("message") if isinstance(error, dict) else error
    # format_issues, not str(): a message nested a thousand deep would not print.
    return format_issues(message) if message else "", body.get("_issues")


# Eve's issues are a field or two deep; deeper is not Eve's, and is not followed
# (a body nested a thousand levels would exhaust the recursion).
_ISSUE_DEPTH = 8


def format_issues(issues: Any, prefix: str = "", depth: int = 0) -> str:
    """Eve's ``_issues`` on one line: ``case: ...; invoice_number: ...``."""
    if isinstance(issues, (dict, list)) and depth >= _ISSUE_DEPTH:
        return f"{prefix}…"
    if isinstance(issues, dict):
        return "; ".join(format_issues(v, f"{prefix}{k}.", depth + 1) if isinstance(v, dict)
                         else f"{prefix}{k}: {format_issues(v, depth=depth + 1)}" for k, v in issues.items())
    if isinstance(issues, list):
        return ", ".join(format_issues(v, prefix, depth + 1) for v in issues)
    return " ".join(str(issues).split()) if issues is not None else ""
