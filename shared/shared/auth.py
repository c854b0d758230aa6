"""JWT bearer auth, roles and region/unit scope.

People get a JWT from the registry's ``POST /v1/auth/token``; every service
verifies it with the shared secret, so no request needs a database round trip
to know who is calling. Services call each other with the static service token
(``CW_SERVICE_TOKEN``) and name the region they act for in ``X-Region-Id``.
"""

from __future__ import annotations

import hmac
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Annotated, Literal

import jwt
from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pwdlib import PasswordHash

from shared.errors import Forbidden, Unauthorized

Role = Literal["admin", "inspector", "unit", "leader", "service"]
PERSON_ROLES = ("admin", "inspector", "unit", "leader")
REGION_HEADER = "X-Region-Id"
JWT_ALGORITHM = "HS256"

password_hash = PasswordHash.recommended()  # argon2id


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is calling: the person (or service), their region, role and unit."""

    subject_id: uuid.UUID | None
    region_id: uuid.UUID
    role: Role
    unit_id: uuid.UUID | None = None
    username: str | None = None

    @property
    def person_id(self) -> uuid.UUID | None:
        return self.subject_id if self.role != "service" else None


def issue_token(
    *,
    secret: str,
    ttl_seconds: int,
    person_id: uuid.UUID,
    region_id: uuid.UUID,
    role: str,
    unit_id: uuid.UUID | None,
    username: str,
) -> str:
    now = datetime.now(UTC)
    claims = {
        "sub": str(person_id),
        "rid": str(region_id),
        "role": role,
        "uid": str(unit_id) if unit_id else None,
        "usr": username,
        "iat": now,
        "exp": now + timedelta(seconds=ttl_seconds),
        "iss": "chuangwei",
    }
    return jwt.encode(claims, secret, algorithm=JWT_ALGORITHM)


# Verified tokens, so a phone's stream of requests pays for signature checking
# once per token rather than once per request. Expiry is still checked on every
# hit; the cache is bounded and simply cleared when full.
_VERIFIED: dict[tuple[str, str], tuple[Principal, float]] = {}
_VERIFIED_MAX = 4096


def decode_token(token: str, secret: str) -> Principal:
    """Verify a JWT (signature, issuer, expiry) and return its principal."""
    hit = _VERIFIED.get((token, secret))
    if hit is not None:
        principal, expires_at = hit
        if time.time() < expires_at:
            return principal
        del _VERIFIED[(token, secret)]
    principal, expires_at = _verify(token, secret)
    if len(_VERIFIED) >= _VERIFIED_MAX:
        _VERIFIED.clear()
    _VERIFIED[(token, secret)] = (principal, expires_at)
    return principal


def _verify(token: str, secret: str) -> tuple[Principal, float]:
    try:
        claims = jwt.decode(
            token,
            secret,
            algorithms=[JWT_ALGORITHM],
            issuer="chuangwei",
            options={"require": ["exp", "sub", "rid", "role"]},
        )
        if claims["role"] not in PERSON_ROLES:  # "service" is never a JWT claim
            raise jwt.InvalidTokenError("unknown role")
        principal = Principal(
            subject_id=uuid.UUID(claims["sub"]),
            region_id=uuid.UUID(claims["rid"]),
            role=claims["role"],
            unit_id=uuid.UUID(claims["uid"]) if claims.get("uid") else None,
            username=claims.get("usr"),
        )
        return principal, float(claims["exp"])
    except jwt.ExpiredSignatureError as exc:
        raise Unauthorized("The token has expired; sign in again.") from exc
    except (jwt.InvalidTokenError, ValueError, KeyError) as exc:
        raise Unauthorized("The bearer token is not valid.") from exc


_bearer = HTTPBearer(auto_error=False, description="A JWT from POST /v1/auth/token")


async def current_principal(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    """Authenticate the caller from ``Authorization: Bearer …``."""
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise Unauthorized()
    settings = request.app.state.settings
    token = credentials.credentials
    if hmac.compare_digest(token.encode(), settings.service_token.encode()):
        region = request.headers.get(REGION_HEADER)
        try:
            region_id = uuid.UUID(region or "")
        except ValueError as exc:
            raise Unauthorized(f"Service calls must name the region in {REGION_HEADER}.") from exc
        return Principal(subject_id=None, region_id=region_id, role="service")
    principal = decode_token(token, settings.jwt_secret)
    request.state.principal = principal
    return principal


CurrentUser = Annotated[Principal, Depends(current_principal)]


def require_roles(*roles: Role):
    """A dependency that lets only the given roles through (403 otherwise)."""

    async def _check(principal: CurrentUser) -> Principal:
        if principal.role not in roles:
            raise Forbidden(
                f"The role '{principal.role}' may not do this; allowed: {', '.join(roles)}."
            )
        return principal

    return _check


AdminUser = Annotated[Principal, Depends(require_roles("admin"))]
ServiceCaller = Annotated[Principal, Depends(require_roles("service"))]
