"""Who may call the sandbox: Fortnox's OAuth 2 clients, consents, codes and tokens.

Fortnox: Authorization (Get Authorization-Code, Get Access-Token, Get
Refresh-Token, Get Access-Token using Client-Credentials, Migrate legacy
token to JWT), Scopes. An authorization code lives 10 minutes and works
once; an access token lives an hour (``expires_in`` 3600) and is a JWT
whose claims include the tenant id; a refresh token lives 45 days and works
exactly once: refreshing returns a new pair and the old refresh token is
dead. A service account's consent lets the app fetch access tokens with
client credentials and the tenant id at any time, no refresh token needed.
Each token keeps the scopes granted when it was issued.
"""

from __future__ import annotations

import secrets
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field

import jwt

CODE_TTL = 600.0
REFRESH_TTL = 45 * 24 * 3600.0
# Fortnox's scope names (Scopes page; softwerkab SDK Scope.cs).
SCOPES = frozenset({
    "archive", "article", "assets", "bookkeeping", "companyinformation", "companylogo", "connectfile",
    "costcenter", "currency", "customer", "deletevoucher", "inbox", "invoice", "noxfinansinvoice", "offer",
    "order", "payment", "price", "print", "profile", "project", "salary", "settings", "supplier",
    "supplierinvoice", "timereporting", "warehouse"})


@dataclass
class Grant:
    """What one issued token stands for."""

    scopes: frozenset[str]
    tenant_id: int
    expires: float
    service: bool = False


@dataclass
class Code:
    grant: Grant
    redirect_uri: str | None
    expires: float


@dataclass
class Issued:
    """One token answer, as the token endpoint gives it."""

    access_token: str
    refresh_token: str | None
    scopes: frozenset[str]
    expires_in: int

    def body(self) -> dict[str, object]:
        answer: dict[str, object] = {"access_token": self.access_token, "expires_in": self.expires_in,
                                     "token_type": "bearer", "scope": " ".join(sorted(self.scopes))}
        if self.refresh_token is not None:
            answer["refresh_token"] = self.refresh_token
        return answer


@dataclass
class TokenStore:
    """Not thread-safe by itself: the app serialises requests (see app.py)."""

    client_id: str
    client_secret: str
    tenant_id: int
    access_ttl: float = 3600.0
    clock: Callable[[], float] = time.time
    # Scopes the consent of a service account covers (client credentials).
    service_scopes: frozenset[str] = frozenset()
    access: dict[str, Grant] = field(default_factory=dict)
    refresh: dict[str, Grant] = field(default_factory=dict)
    used_refresh: set[str] = field(default_factory=set)
    codes: dict[str, Code] = field(default_factory=dict)
    issued_count: int = 0
    _signing_key: str = field(default_factory=lambda: secrets.token_hex(32))

    def client_ok(self, client_id: str, client_secret: str) -> bool:
        return secrets.compare_digest(client_id, self.client_id) and \
            secrets.compare_digest(client_secret, self.client_secret)

    def new_code(self, scopes: frozenset[str], redirect_uri: str | None, service: bool) -> str:
        code = str(uuid.uuid4())
        grant = Grant(scopes, self.tenant_id, 0.0, service)
        self.codes[code] = Code(grant, redirect_uri, self.clock() + CODE_TTL)
        if service:
            self.service_scopes = self.service_scopes | scopes
        return code

    def take_code(self, code: str) -> Code | None:
        """The code's grant, once: a second use finds nothing."""
        found = self.codes.pop(code, None)
        if found is None or found.expires < self.clock():
            return None
        return found

    def issue(self, scopes: frozenset[str], *, refresh: bool = True, service: bool = False) -> Issued:
        now = self.clock()
        self.issued_count += 1
        claims = {"tenantId": self.tenant_id, "clientId": self.client_id, "scope": " ".join(sorted(scopes)),
                  "iat": int(now), "exp": int(now + self.access_ttl), "jti": str(uuid.uuid4())}
        access = jwt.encode(claims, self._signing_key, algorithm="HS256")
        self.access[access] = Grant(scopes, self.tenant_id, now + self.access_ttl, service)
        refresh_token = None
        if refresh:
            refresh_token = str(uuid.uuid4())
            self.refresh[refresh_token] = Grant(scopes, self.tenant_id, now + REFRESH_TTL, service)
        return Issued(access, refresh_token, scopes, int(self.access_ttl))

    def rotate(self, refresh_token: str) -> Issued | None:
        """A new pair for a live refresh token, which dies now; None for a dead or unknown one."""
        grant = self.refresh.pop(refresh_token, None)
        if grant is None or grant.expires < self.clock():
            return None
        self.used_refresh.add(refresh_token)
        return self.issue(grant.scopes, service=grant.service)

    def grant_for(self, access_token: str) -> Grant | None:
        grant = self.access.get(access_token)
        if grant is None or grant.expires <= self.clock():
            return None
        return grant

    def expire_access_tokens(self) -> None:
        for grant in self.access.values():
            grant.expires = 0.0

    def revoke_refresh_tokens(self) -> None:
        self.used_refresh.update(self.refresh)
        self.refresh.clear()
