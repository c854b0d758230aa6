"""Waiting for a condition with a bound, instead of sleeping a fixed time and hoping."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

_UNSET = object()


async def eventually(
    probe: Callable[[], Awaitable[Any]],
    *,
    equals: Any = _UNSET,
    within: float = 10.0,
    interval: float = 0.05,
    what: str = "the condition",
) -> Any:
    """Call ``probe`` until it answers ``equals`` (or anything truthy); its last answer.
    Fails after ``within`` seconds, saying what was awaited and what was last seen."""
    deadline = time.monotonic() + within
    while True:
        seen = await probe()
        if (seen == equals) if equals is not _UNSET else bool(seen):
            return seen
        if time.monotonic() > deadline:
            raise AssertionError(f"waited {within} s for {what}; last saw {seen!r}")
        await asyncio.sleep(interval)


async def sessions_blocked_by(engine: AsyncEngine, pid: int) -> int:
    """How many database sessions wait, directly or behind another waiter, for a lock
    that backend ``pid`` holds."""
    async with engine.connect() as conn:
        return await conn.scalar(
            text(
                """
WITH RECURSIVE blocked(pid) AS (
    SELECT a.pid FROM pg_stat_activity a WHERE :pid = ANY(pg_blocking_pids(a.pid))
    UNION
    SELECT a.pid FROM pg_stat_activity a JOIN blocked b ON b.pid = ANY(pg_blocking_pids(a.pid))
)
SELECT count(*) FROM blocked"""
            ),
            {"pid": pid},
        )
