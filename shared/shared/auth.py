"""JWT bearer auth, roles and region/unit scope.

People get a JWT from the registry's ``POST /v1/auth/token``; every service
verifies it with the shared secret. A token carries its person's
``token_version``: deactivating a person, changing their role or unit, or
resetting their password bumps the version, and every service refuses older
tokens once its short cache of versions (``CW_TOKEN_VERSION_CACHE_SECONDS``) has
moved on — within a few seconds, at one indexed read per person per interval.

Services call each other with the static service token (``CW_SERVICE_TOKEN``)
and name the region they act for in ``X-Region-Id``; that token opens only
``/v1/internal/`` endpoints.
"""

from __future__ import annotations

import hmac
import os
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, Literal

import anyio
import anyio.to_thread
import jwt
from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pwdlib import PasswordHash
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from shared.audit import Actor, actor_var
from shared.errors import Forbidden, Unauthorized

Role = Literal["admin", "inspector", "unit", "leader", "service"]
PERSON_ROLES = ("admin", "inspector", "unit", "leader")
REGION_HEADER = "X-Region-Id"
JWT_ALGORITHM = "HS256"
INTERNAL_PREFIX = "/v1/internal/"

password_hash = PasswordHash.recommended()  # argon2id

# argon2 is slow on purpose (about 0.1-0.3 s of CPU on four lanes). It runs in
# worker threads, at most this many at once: unbounded, 16 sign-ins starve the
# event loop's thread of CPU and /healthz waits for seconds; bounded to half the
# cores it keeps answering in tens of milliseconds, and the sign-ins take as long
# in total (they are CPU-bound either way).
PASSWORD_HASHING_THREADS = max(1, (os.cpu_count() or 2) // 2)
_hashing_limiter: anyio.CapacityLimiter | None = None


async def _in_hashing_thread(function: Any, *args: str) -> Any:
    global _hashing_limiter
    if _hashing_limiter is None:
        _hashing_limiter = anyio.CapacityLimiter(PASSWORD_HASHING_THREADS)
    return await anyio.to_thread.run_sync(function, *args, limiter=_hashing_limiter)


async def hash_password(password: str) -> str:
    """The argon2id hash of a password, computed off the event loop."""
    return await _in_hashing_thread(password_hash.hash, password)


async def verify_password(password: str, hashed: str) -> bool:
    """Whether the password matches the hash, checked off the event loop."""
    return await _in_hashing_thread(password_hash.verify, password, hashed)


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is calling: the person (or service), their region, role and unit."""

    subject_id: uuid.UUID | None
    region_id: uuid.UUID
    role: Role
    unit_id: uuid.UUID | None = None
    username: str | None = None
    token_version: int = 1

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
    token_version: int = 1,
) -> str:
    now = datetime.now(UTC)
    claims = {
        "sub": str(person_id),
        "rid": str(region_id),
        "role": role,
        "uid": str(unit_id) if unit_id else None,
        "usr": username,
        "ver": token_version,
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
            token_version=int(claims.get("ver", 1)),
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
    app = request.app
    settings = app.state.settings
    token = credentials.credentials
    if hmac.compare_digest(token.encode(), settings.service_token.encode()):
        if not request.url.path.startswith(INTERNAL_PREFIX):
            raise Forbidden(f"The service token opens only {INTERNAL_PREFIX} endpoints.")
        region = request.headers.get(REGION_HEADER)
        try:
            region_id = uuid.UUID(region or "")
        except ValueError as exc:
            raise Unauthorized(f"Service calls must name the region in {REGION_HEADER}.") from exc
        actor_var.set(Actor(None, "service", app.state.service))
        app.state.region_activity.seen(region_id)
        return Principal(subject_id=None, region_id=region_id, role="service")
    principal = decode_token(token, settings.jwt_secret)
    if await _current_token_version(app, principal) != principal.token_version:
        raise Unauthorized("The token is no longer valid (the account changed); sign in again.")
    actor_var.set(Actor(principal.subject_id, principal.role, app.state.service))
    app.state.region_activity.seen(principal.region_id)  # for fair turns (region_share)
    request.state.principal = principal
    return principal


# person id -> (token_version, or 0 for an inactive or missing person; when to ask again)
_TOKEN_VERSIONS: dict[uuid.UUID, tuple[int, float]] = {}
_TOKEN_VERSIONS_MAX = 65536


async def _current_token_version(app: Any, principal: Principal) -> int:
    """The person's token version now (0 when inactive), cached for a couple of seconds."""
    person_id = principal.subject_id
    assert person_id is not None
    now = time.monotonic()
    hit = _TOKEN_VERSIONS.get(person_id)
    if hit is not None and hit[1] > now:
        return hit[0]
    for attempt in (1, 2):
        try:
            async with app.state.engine.connect() as connection:
                row = (
                    await connection.execute(
                        _TOKEN_VERSION_SQL, {"region_id": principal.region_id, "id": person_id}
                    )
                ).first()
            break
        except DBAPIError as exc:
            # A pooled connection that died (a restarted or failed-over database) is
            # discarded by SQLAlchemy; this read is safe to repeat once on a fresh one.
            if attempt == 2 or not exc.connection_invalidated:
                raise
    version = row.token_version if row is not None and row.active else 0
    if len(_TOKEN_VERSIONS) >= _TOKEN_VERSIONS_MAX:
        _TOKEN_VERSIONS.clear()
    _TOKEN_VERSIONS[person_id] = (version, now + app.state.settings.token_version_cache_seconds)
    return version


def forget_token_version(person_id: uuid.UUID) -> None:
    """Drop a cached version (the registry calls it when it bumps one: immediate locally)."""
    _TOKEN_VERSIONS.pop(person_id, None)


_TOKEN_VERSION_SQL = text(
    "SELECT token_version, active FROM people WHERE region_id = :region_id AND id = :id"
)


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
