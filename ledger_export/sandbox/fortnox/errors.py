"""Fortnox's error answers, in the three shapes the real API gives.

1. ``{"ErrorInformation": {"error": 1, "message": ..., "code": ...}}`` from
   the REST API (Fortnox: Guides and good to know > Errors). Real answers
   spell the keys both ways: a recorded 404 for a missing invoice has
   ``Error``/``Message``/``Code``, a recorded 400 for a bad filter has
   ``error``/``message``/``code`` (accodeing/fortnox-api VCR cassettes); the
   sandbox answers each the way it was recorded, so a client must read both.
2. ``{"error": ..., "error_description": ...}`` from the token endpoint
   (OAuth 2, recorded: invalid_client, invalid_grant).
3. ``{"message": "unauthorized"}`` from the gateway for an expired or
   unknown access token (recorded, 401).

Codes marked documented are on the Errors page (or recorded); the others
are the sandbox's own, in the 9990000 range so nobody mistakes them for
Fortnox's, because Fortnox documents no code for that failure.
"""

from __future__ import annotations

from typing import Any

# Documented on fortnox.se/developer/guides-and-good-to-know/errors
SYSTEM_EXCEPTION = 1000003
INVALID_CONTENT_TYPE = 1000031
VALUE_NOT_NUMERIC = 2000108
LOGIN_MISSING = 2000311  # "Kan inte logga in, access-token eller client-secret saknas(2)."
INVALID_PARAMETER = 2000588
NO_DATA = 2001392
BAD_JSON = 2002115
ACCOUNT_NOT_FOUND = 2001304
INVALID_FIELD = 2001399
# Recorded in real answers (accodeing/fortnox-api cassettes) or named by integrators.
INVOICE_NOT_FOUND = 2000434  # "Kan inte hitta fakturan." (404, capitalised keys)
INVALID_FILTER = 2000587  # "Ett ogiltigt filter har använts." (400)
NO_SCOPE = 2000663  # "Not authorised for scope" (Invantive's Fortnox error list)
# The sandbox's own: Fortnox documents no code for these.
FINANCIAL_YEAR_MISSING = 9990001
SERIES_NOT_FOUND = 9990002
SERIES_NOT_MANUAL = 9990003
ACCOUNT_INACTIVE = 9990004
VOUCHER_UNBALANCED = 9990005
VOUCHER_NOT_FOUND = 9990006
FILE_NOT_FOUND = 9990007
FILE_ALREADY_CONNECTED = 9990008
INVOICE_CANCELLED = 9990009
MODE_OF_PAYMENT_NOT_FOUND = 9990010
PAYMENT_NOT_FOUND = 9990011
PAYMENT_ALREADY_BOOKED = 9990012
PAYMENT_BEFORE_INVOICE = 9990013
NOT_FOUND = 9990014
INVALID_DATE = 9990015
REQUIRED_FIELD = 9990016


class FortnoxError(Exception):
    """An answer other than success: raised by a view, turned into Fortnox's body by the app."""

    def __init__(self, status: int, code: int, message: str, *, capitalised: bool = False):
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.capitalised = capitalised

    def body(self) -> dict[str, Any]:
        if self.capitalised:
            return {"ErrorInformation": {"Error": 1, "Message": self.message, "Code": self.code}}
        return {"ErrorInformation": {"error": 1, "message": self.message, "code": self.code}}


def bad_request(code: int, message: str) -> FortnoxError:
    return FortnoxError(400, code, message)


def not_found(code: int, message: str) -> FortnoxError:
    return FortnoxError(404, code, message)


def invalid_parameter(name: str) -> FortnoxError:
    return bad_request(INVALID_PARAMETER, f"Ogiltig parameter i anropet. ({name})")


def invalid_field(name: str) -> FortnoxError:
    return bad_request(INVALID_FIELD, f"Felaktigt fältnamn ({name})")


def required(name: str) -> FortnoxError:
    return bad_request(REQUIRED_FIELD, f"Fältet {name} måste anges.")


def oauth_error(error: str, description: str) -> dict[str, str]:
    return {"error": error, "error_description": description}
