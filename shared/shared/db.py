"""The async engine and the one-session-per-request unit of work.

Routes receive a session through ``SessionDep``. The dependency commits when the
route returns and rolls back when it raises; services and repositories only
``flush()``. A database that cannot be reached becomes a 503 with
``Retry-After`` in :mod:`shared.errors`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

import asyncpg
from fastapi import Depends, Request
from sqlalchemy import ColumnElement, exists, select
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)


def async_database_url(url: str) -> str:
    """Turn any PostgreSQL URL (``postgres://``, ``postgresql://``, ``+psycopg``) into asyncpg's."""
    parsed = make_url(url)
    return parsed.set(drivername="postgresql+asyncpg").render_as_string(hide_password=False)


def create_engine(
    url: str, *, application_name: str, pool_size: int = 10, max_overflow: int = 10
) -> AsyncEngine:
    """An asyncpg engine tagged so ``pg_stat_activity`` tells the services apart."""
    return create_async_engine(
        async_database_url(url),
        pool_size=pool_size,
        max_overflow=max_overflow,
        # No pre-ping: it costs a round trip per checkout. A connection that died
        # with the server fails its first statement instead; that request answers
        # 503 (shared.errors) and the pool replaces the connection.
        pool_recycle=1800,
        connect_args={
            "server_settings": {"application_name": application_name, "timezone": "UTC"},
            "timeout": 5,
            "command_timeout": 30,
        },
    )


def create_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    # expire_on_commit=False: responses are built from objects after the commit.
    return async_sessionmaker(engine, expire_on_commit=False, autoflush=False)


async def get_session(request: Request) -> AsyncIterator[AsyncSession]:
    """One session per request: commit on success, roll back on any error."""
    sessionmaker: async_sessionmaker[AsyncSession] = request.app.state.sessionmaker
    async with sessionmaker() as session:
        try:
            yield session
            await session.commit()
        except BaseException:
            await session.rollback()
            raise


SessionDep = Annotated[AsyncSession, Depends(get_session)]


async def row_exists(session: AsyncSession, *conditions: ColumnElement[bool]) -> bool:
    """Whether any row matches ``conditions`` (``SELECT EXISTS (…)``, one round trip)."""
    return bool(await session.scalar(select(exists().where(*conditions))))


async def create_read_pool(url: str, *, application_name: str, max_size: int) -> asyncpg.Pool:
    """A bare asyncpg pool for the few hot, read-only queries that need no unit of work.

    A SQLAlchemy session costs more CPU per request than the phone's list queries
    themselves; those endpoints take a connection from here instead (see
    ``ReadConnectionDep``). Everything that writes uses ``SessionDep``.
    """
    parsed = make_url(url)
    return await asyncpg.create_pool(
        user=parsed.username,
        password=parsed.password or None,
        database=parsed.database,
        host=parsed.query.get("host") or parsed.host,
        port=parsed.port,
        min_size=1,
        max_size=max_size,
        command_timeout=30,
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
    async with request.app.state.read_pool.acquire() as connection:
        yield connection


ReadConnectionDep = Annotated[asyncpg.Connection, Depends(get_read_connection)]
