"""Alembic environment: one history for the schema every service shares."""

from __future__ import annotations

import asyncio

from alembic import context
from sqlalchemy.ext.asyncio import create_async_engine

from shared.db import async_database_url
from shared.models import Base
from shared.settings import CommonSettings

target_metadata = Base.metadata


def database_url() -> str:
    # An explicit URL handed over by code (tests, the dev runner) wins over the environment.
    url = context.config.attributes.get("database_url") or CommonSettings().database_url
    if not url:
        raise SystemExit("DATABASE_URL is not set; `make run` and `make test` set it for you.")
    return async_database_url(url)


def run_migrations_offline() -> None:
    context.configure(url=database_url(), target_metadata=target_metadata, literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()


def do_run_migrations(connection) -> None:
    context.configure(connection=connection, target_metadata=target_metadata, compare_type=True)
    with context.begin_transaction():
        context.run_migrations()


async def run_migrations_online() -> None:
    # Named so a server's statement log (and pg_stat_activity) tells migrations apart.
    engine = create_async_engine(
        database_url(),
        connect_args={"server_settings": {"application_name": "chuangwei.migrations"}},
    )
    async with engine.connect() as connection:
        await connection.run_sync(do_run_migrations)
    await engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    connection = context.config.attributes.get("connection")
    if connection is not None:
        do_run_migrations(connection)
    else:
        asyncio.run(run_migrations_online())
