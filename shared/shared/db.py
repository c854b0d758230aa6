"""The async engine and the one-session-per-request unit of work.

**A 2xx means committed** (SPEC §3). Routes receive a session through
``SessionDep``, a dependency with ``yield`` declared with ``scope="function"``:
FastAPI runs its exit code — the commit — when the route function returns and
*before* the response is sent, so an answer never leaves ahead of its commit,
and a commit that fails reaches the error handlers (503 with ``Retry-After``,
or 409 for a conflict found at commit) instead of a 2xx already on the wire.
Services and repositories only ``flush()``; a new route that writes needs
nothing beyond ``SessionDep`` (``tests/shared/test_commit_before_answer.py``
checks every route of the three apps). Background work uses the same
:func:`unit_of_work`, so what it reports done is committed too.

Every wait on the database is bounded (connect, pool checkout, each statement,
the commit; see ``CommonSettings.db_*_timeout_seconds``), so a frozen server is
a quick 503 rather than a hang.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated, Any

import asyncpg
import structlog
from fastapi import Depends, Request
from sqlalchemy import ColumnElement, exists, select
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from shared.settings import CommonSettings

log = structlog.get_logger("chuangwei.db")

# Defaults for callers without settings (the CLI, tests, benches); services pass theirs.
_DEFAULTS = CommonSettings.model_fields


class CommitTimedOut(Exception):
    """The database did not confirm a commit in time; the caller must not report success."""


def async_database_url(url: str) -> str:
    """Turn any PostgreSQL URL (``postgres://``, ``postgresql://``, ``+psycopg``) into asyncpg's."""
    parsed = make_url(url)
    return parsed.set(drivername="postgresql+asyncpg").render_as_string(hide_password=False)


def create_engine(
    url: str,
    *,
    application_name: str,
    pool_size: int = 10,
    max_overflow: int = 10,
    connect_timeout: float = _DEFAULTS["db_connect_timeout_seconds"].default,
    acquire_timeout: float = _DEFAULTS["db_acquire_timeout_seconds"].default,
    statement_timeout: float = _DEFAULTS["db_statement_timeout_seconds"].default,
) -> AsyncEngine:
    """An asyncpg engine tagged so ``pg_stat_activity`` tells the services apart.

    ``acquire_timeout`` bounds the wait for a pooled connection, ``connect_timeout``
    the opening of a new one, ``statement_timeout`` every statement (asyncpg's
    ``command_timeout``, measured by the client, so it also fires when the server
    is frozen rather than slow).
    """
    return create_async_engine(
        async_database_url(url),
        pool_size=pool_size,
        max_overflow=max_overflow,
        pool_timeout=acquire_timeout,
        # No pre-ping: it costs a round trip per checkout. A connection that died
        # with the server fails its first statement instead; that request answers
        # 503 (shared.errors) and the pool replaces the connection.
        pool_recycle=1800,
        connect_args={
            "server_settings": {"application_name": application_name, "timezone": "UTC"},
            "timeout": connect_timeout,
            "command_timeout": statement_timeout,
        },
    )


def engine_from_settings(settings: CommonSettings, *, application_name: str) -> AsyncEngine:
    """The service's engine, sized and bounded by its ``CW_DB_*`` settings."""
    assert settings.database_url is not None
    return create_engine(
        settings.database_url,
        application_name=application_name,
        pool_size=settings.db_pool_size,
        max_overflow=settings.db_max_overflow,
        connect_timeout=settings.db_connect_timeout_seconds,
        acquire_timeout=settings.db_acquire_timeout_seconds,
        statement_timeout=settings.db_statement_timeout_seconds,
    )


def create_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    # expire_on_commit=False: responses are built from objects after the commit.
    return async_sessionmaker(engine, expire_on_commit=False, autoflush=False)


def _connection_suspect(exc: BaseException) -> bool:
    """Whether ``exc`` leaves the connection dead, frozen or mid-statement."""
    if isinstance(exc, DBAPIError):
        return exc.connection_invalidated or isinstance(exc, OperationalError | InterfaceError)
    return isinstance(
        exc,
        TimeoutError
        | OSError
        | CommitTimedOut
        | asyncio.CancelledError
        | asyncpg.InterfaceError
        | asyncpg.InternalClientError
        | asyncpg.PostgresConnectionError,
    )


async def _discard(session: AsyncSession, cause: BaseException, *, within: float) -> None:
    """Undo whatever ``session`` holds; never raises, never waits past ``within`` seconds.

    After an ordinary error (a 404, a 422 …) a rollback is one round trip and keeps
    the connection. After a lost, frozen or timed-out one a rollback would fail or
    wait for the server, so the connection is thrown away at once instead (the pool
    opens a new one).
    """
    if not _connection_suspect(cause):
        try:
            async with asyncio.timeout(within):
                await session.rollback()
            return
        except BaseException as exc:  # noqa: BLE001 - the original error is what matters
            log.info("rollback_failed", error=repr(exc)[:200])
    try:
        await session.invalidate()
    except Exception as exc:  # noqa: BLE001 - the connection is gone either way
        log.info("invalidate_failed", error=repr(exc)[:200])


async def commit(session: AsyncSession, *, within: float) -> None:
    """Commit within ``within`` seconds; on any failure undo, discard the connection, raise.

    A commit that times out raises :class:`CommitTimedOut` (answered 503): the
    outcome is unknown to us, so the client is told to retry — every record a
    phone creates is idempotent by its client id, so the retry is safe.
    """
    try:
        async with asyncio.timeout(within):
            await session.commit()
    except TimeoutError as exc:
        timed_out = CommitTimedOut(f"no commit confirmation within {within:g} s")
        await _discard(session, timed_out, within=within)
        raise timed_out from exc
    except BaseException as exc:
        await _discard(session, exc, within=within)
        raise


@asynccontextmanager
async def unit_of_work(
    sessionmaker: async_sessionmaker[AsyncSession],
    *,
    commit_timeout: float = _DEFAULTS["db_commit_timeout_seconds"].default,
) -> AsyncIterator[AsyncSession]:
    """A session committed when the block ends and rolled back when it raises.

    Code after the block runs only once the commit is confirmed, so background work
    that counts or logs a step as done after it never reports uncommitted work.
    """
    async with sessionmaker() as session:
        try:
            yield session
        except BaseException as exc:
            await _discard(session, exc, within=commit_timeout)
            raise
        await commit(session, within=commit_timeout)


async def get_session(request: Request) -> AsyncIterator[AsyncSession]:
    """One session per request, committed before the answer leaves (``SessionDep``)."""
    settings: CommonSettings = request.app.state.settings
    async with unit_of_work(
        request.app.state.sessionmaker, commit_timeout=settings.db_commit_timeout_seconds
    ) as session:
        yield session


# scope="function": the exit code (the commit) runs before the response is sent.
# With the default scope it would run after, and a failed commit would follow a 2xx.
SessionDep = Annotated[AsyncSession, Depends(get_session, scope="function")]


async def row_exists(session: AsyncSession, *conditions: ColumnElement[bool]) -> bool:
    """Whether any row matches ``conditions`` (``SELECT EXISTS (…)``, one round trip)."""
    return bool(await session.scalar(select(exists().where(*conditions))))


def asyncpg_connect_kwargs(url: str) -> dict[str, Any]:
    """asyncpg ``connect()``/``create_pool()`` arguments for a URL (Unix-socket aware)."""
    parsed = make_url(url)
    return {
        "user": parsed.username,
        "password": parsed.password or None,
        "database": parsed.database,
        "host": parsed.query.get("host") or parsed.host,
        "port": parsed.port,
    }


async def create_read_pool(
    url: str,
    *,
    application_name: str,
    max_size: int,
    connect_timeout: float = _DEFAULTS["db_connect_timeout_seconds"].default,
    statement_timeout: float = _DEFAULTS["db_statement_timeout_seconds"].default,
) -> asyncpg.Pool:
    """A bare asyncpg pool for the few hot, read-only queries that need no unit of work.

    A SQLAlchemy session costs more CPU per request than the phone's list queries
    themselves; those endpoints take a connection from here instead (see
    ``ReadConnectionDep``). Everything that writes uses ``SessionDep``.
    """
    return await asyncpg.create_pool(
        **asyncpg_connect_kwargs(url),
        min_size=1,
        max_size=max_size,
        timeout=connect_timeout,
        command_timeout=statement_timeout,
        server_settings={"application_name": application_name, "timezone": "UTC"},
        reset=_reset_read_connection,
    )


async def _reset_read_connection(connection: asyncpg.Connection) -> None:
    # asyncpg's default reset (RESET ALL, UNLISTEN, advisory unlock …) is a round trip
    # per request; read-only requests change no session state, so only an
    # interrupted transaction needs undoing.
    if connection.is_in_transaction():
        await connection.execute("ROLLBACK")


async def get_read_connection(request: Request) -> AsyncIterator[asyncpg.Connection]:
    """One pooled asyncpg connection for a read-only request (autocommit, no transaction)."""
    timeout = request.app.state.settings.db_acquire_timeout_seconds
    async with request.app.state.read_pool.acquire(timeout=timeout) as connection:
        yield connection


# Function scope too: the connection goes back to the pool before the response is sent.
ReadConnectionDep = Annotated[asyncpg.Connection, Depends(get_read_connection, scope="function")]
