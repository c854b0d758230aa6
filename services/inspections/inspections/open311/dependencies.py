"""Who is calling an Open311 endpoint: the integrator's key, its region, its rate limit.

- **Keys.** ``api_key`` (query string, or the form body of a POST) is looked up
  by its sha256. A missing key on a POST, an unknown key or a revoked one answers
  **401**; a valid key used with another region's ``jurisdiction_id`` **403**.
- **Reads without a key** are allowed, as the standard and its off-the-shelf
  clients expect, and then need ``jurisdiction_id`` (the region code); they show
  only what the standard shows (no reporter's contact details).
- **Rate limits** come from the ``limits`` library (moving window, kept in the
  process's memory): ``INSPECTIONS_OPEN311_RATE_LIMIT`` per key and
  ``INSPECTIONS_OPEN311_ANONYMOUS_RATE_LIMIT`` per client address for keyless
  reads; past it, **429** with ``Retry-After``. With several replicas each
  counts on its own, so the effective limit is the replicas times the setting.
"""

from __future__ import annotations

import hashlib
import math
import re
import time
import uuid
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, FastAPI, Query, Request
from limits import RateLimitItem, parse
from limits.aio.storage import MemoryStorage
from limits.aio.strategies import MovingWindowRateLimiter
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from shared.db import SessionDep
from shared.errors import AppError, BadRequest, Forbidden, NotFound, Unauthorized
from shared.models import Open311ApiKey, Region

KEY_PREFIX = "cw311_"
# A code or key: printable, bounded (a NUL would otherwise reach PostgreSQL).
_PLAIN = re.compile(r"^[^\x00-\x1f\x7f]{1,200}$")


def is_plain(value: str) -> bool:
    """Whether ``value`` may be used as a code in a query (no control characters, ≤ 200)."""
    return bool(_PLAIN.match(value))


class TooManyRequests(AppError):
    status, slug = 429, "too-many-requests"


def key_hash(api_key: str) -> str:
    """Keys are 256 random bits, so a plain sha256 is enough to keep them unreadable."""
    return hashlib.sha256(api_key.encode()).hexdigest()


@dataclass(frozen=True)
class Open311Caller:
    """The region an Open311 call acts in, and the key it came with (``None``: a keyless read)."""

    region_id: uuid.UUID
    region_code: str
    timezone: str
    api_key_id: uuid.UUID | None


class Open311Limiter:
    """Per-key and per-address moving windows (one per app)."""

    def __init__(self, per_key: str, anonymous: str) -> None:
        self._limiter = MovingWindowRateLimiter(MemoryStorage())
        self._per_key = parse(per_key)
        self._anonymous = parse(anonymous)

    async def check(self, caller: Open311Caller, client_address: str) -> None:
        if caller.api_key_id is not None:
            item, identity = self._per_key, ("key", str(caller.api_key_id))
        else:
            item, identity = self._anonymous, ("address", client_address)
        if await self._limiter.hit(item, "open311", *identity):
            return
        await self._refuse(item, identity)

    async def _refuse(self, item: RateLimitItem, identity: tuple[str, str]) -> None:
        stats = await self._limiter.get_window_stats(item, "open311", *identity)
        retry_after = max(1, math.ceil(stats.reset_time - time.time()))
        raise TooManyRequests(
            f"Rate limit of {item} exceeded; retry in {retry_after} s.",
            headers={"Retry-After": str(retry_after)},
        )


def limiter_of(app: FastAPI) -> Open311Limiter:
    limiter = getattr(app.state, "open311_limiter", None)
    if limiter is None:
        settings = app.state.settings
        limiter = app.state.open311_limiter = Open311Limiter(
            settings.open311_rate_limit, settings.open311_anonymous_rate_limit
        )
    return limiter


async def resolve_caller(
    request: Request,
    session: AsyncSession,
    *,
    api_key: str | None,
    jurisdiction_id: str | None,
    key_required: bool,
) -> Open311Caller:
    """Authenticate the key (or the keyless read), check the jurisdiction, count the call."""
    jurisdiction_id = jurisdiction_id or None
    if jurisdiction_id is not None and not is_plain(jurisdiction_id):
        raise NotFound("No such jurisdiction here.")
    if api_key is not None and api_key and not is_plain(api_key):
        raise Unauthorized("The api_key is unknown or revoked.", headers={})
    if api_key:
        row = (
            await session.execute(
                select(Open311ApiKey, Region)
                .join(Region, Region.id == Open311ApiKey.region_id)
                .where(Open311ApiKey.key_hash == key_hash(api_key))
            )
        ).first()
        if row is None or row.Open311ApiKey.revoked_at is not None:
            raise Unauthorized("The api_key is unknown or revoked.", headers={})
        key, region = row.Open311ApiKey, row.Region
        if jurisdiction_id is not None and jurisdiction_id != region.code:
            raise Forbidden("The api_key does not belong to this jurisdiction_id.")
        caller = Open311Caller(region.id, region.code, region.timezone, key.id)
    elif key_required:
        raise Unauthorized("An api_key is required to post a request.", headers={})
    else:
        if jurisdiction_id is None:
            raise BadRequest(
                "jurisdiction_id (the region code) is required without an api_key.",
                errors=[{"loc": ["query", "jurisdiction_id"], "msg": "required"}],
            )
        region = await session.scalar(select(Region).where(Region.code == jurisdiction_id))
        if region is None:
            raise NotFound(f"No jurisdiction {jurisdiction_id!r} here.")
        caller = Open311Caller(region.id, region.code, region.timezone, None)
    client = request.client.host if request.client else "unknown"
    await limiter_of(request.app).check(caller, client)
    return caller


async def open311_reader(
    request: Request,
    session: SessionDep,
    api_key: Annotated[str | None, Query(description="The integrator's key.")] = None,
    jurisdiction_id: Annotated[
        str | None, Query(description="The region code; required without an api_key.")
    ] = None,
) -> Open311Caller:
    """The caller of a read: an integrator's key, or no key and a ``jurisdiction_id``."""
    return await resolve_caller(
        request, session, api_key=api_key, jurisdiction_id=jurisdiction_id, key_required=False
    )


Open311Reader = Annotated[Open311Caller, Depends(open311_reader)]
