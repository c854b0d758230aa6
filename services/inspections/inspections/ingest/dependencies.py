"""Typed dependencies of the ingest endpoints: a fair turn at the database.

Under load (64 phones syncing at once against a pool of 10 + 10 connections) the
connection pool alone is not fair: a connection handed back goes to whichever
request asks next, not to the one that has waited longest, so some requests wait
seconds while others barge past (the latency tail of issue 3's bench). Submissions
therefore queue first-come-first-served for one of ``CW_DB_POOL_SIZE`` turns, taken
*before* the request's session and given back after it has committed and returned
its connection. A request waiting for its turn holds nothing (no connection, no
lock); the pool's overflow stays free for the other endpoints, and the pool never
has to open and close overflow connections for ingest.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Request

from shared.errors import ServiceUnavailable


def _turns(request: Request) -> asyncio.Semaphore:
    state = request.app.state
    turns: asyncio.Semaphore | None = getattr(state, "ingest_turns", None)
    if turns is None:  # asyncio.Semaphore serves its waiters in arrival order
        turns = asyncio.Semaphore(max(1, state.settings.db_pool_size))
        state.ingest_turns = turns
    return turns


async def database_turn(request: Request) -> AsyncIterator[None]:
    """Wait for a turn (FIFO), at most ``CW_DB_ACQUIRE_TIMEOUT_SECONDS`` (then 503); hold
    it until the session declared after this has committed and closed."""
    turns = _turns(request)
    try:
        async with asyncio.timeout(request.app.state.settings.db_acquire_timeout_seconds):
            await turns.acquire()
    except TimeoutError as exc:
        raise ServiceUnavailable(
            "Too many submissions are waiting for the database; nothing was saved. Retry shortly."
        ) from exc
    try:
        yield
    finally:
        turns.release()


# Function scope, like SessionDep: dependencies exit in reverse order, so the session
# commits first and the turn is handed on before the response is sent.
DatabaseTurn = Annotated[None, Depends(database_turn, scope="function")]
