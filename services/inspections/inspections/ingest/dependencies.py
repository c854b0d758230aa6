"""Typed dependencies of the ingest endpoints: a fair turn at the database, then the session.

Under load (64 phones syncing at once against a pool of 10 + 10 connections) the
connection pool alone is not fair: a connection handed back goes to whichever
request asks next, not to the one that has waited longest, so some requests wait
seconds while others barge past (the latency tail of issue 3's bench). Submissions
therefore queue first-come-first-served for one of ``CW_DB_POOL_SIZE`` turns, taken
*before* the request's session and given back after it has committed and returned
its connection. A request waiting for its turn holds nothing (no connection, no
lock); the pool's overflow stays free for the other endpoints, and the pool never
has to open and close overflow connections for ingest.

The turns are shared fairly between regions (:mod:`shared.region_share`): while
another region is active, one region's submissions hold at most
``INSPECTIONS_INGEST_TURNS_PER_REGION`` of them, so one district's burst of phones
neither queues nor crowds out the others' submissions (issue 13's province bench).

The turn and the request's session are one dependency (:data:`IngestSession`): one
generator to solve and one exit to run per request instead of two on the hottest
path; it commits exactly as ``SessionDep`` does (``unit_of_work``, before the answer).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated

from fastapi import Depends, FastAPI, Request
from sqlalchemy.ext.asyncio import AsyncSession

from shared.auth import CurrentUser, Principal
from shared.db import unit_of_work
from shared.errors import ServiceUnavailable
from shared.region_share import FairTurns


def _turns(app: FastAPI) -> FairTurns:
    state = app.state
    turns: FairTurns | None = getattr(state, "ingest_turns", None)
    if turns is None:
        settings = state.settings
        turns = FairTurns(
            settings.db_pool_size, settings.ingest_turns_per_region, state.region_activity
        )
        state.ingest_turns = turns
    return turns


async def ingest_session(request: Request, principal: CurrentUser) -> AsyncIterator[AsyncSession]:
    """A turn (fair between regions, FIFO within one), then the request's session:
    committed before the answer leaves, the turn handed on right after the commit (and
    after a rollback)."""
    settings = request.app.state.settings
    async with (
        database_turn(request.app, principal),
        unit_of_work(
            request.app.state.sessionmaker, commit_timeout=settings.db_commit_timeout_seconds
        ) as session,
    ):
        yield session


@asynccontextmanager
async def database_turn(app: FastAPI, principal: Principal) -> AsyncIterator[None]:
    """Wait for a turn of the caller's region, at most ``CW_DB_ACQUIRE_TIMEOUT_SECONDS``
    (then 503); hold it until the block ends."""
    turns = _turns(app)
    region_id = principal.region_id
    try:
        async with asyncio.timeout(app.state.settings.db_acquire_timeout_seconds):
            await turns.acquire(region_id)
    except TimeoutError as exc:
        raise ServiceUnavailable(
            "Too many submissions are waiting for the database; nothing was saved. Retry shortly."
        ) from exc
    try:
        yield
    finally:
        turns.release(region_id)


# Function scope, like SessionDep: the exit (the commit, then the turn's release) runs
# before the response is sent.
IngestSession = Annotated[AsyncSession, Depends(ingest_session, scope="function")]
