"""The one Alembic history builds exactly the schema the models describe, and unwinds."""

from __future__ import annotations

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from sqlalchemy import text

from shared.db import create_engine
from shared.embedded_db import REPO_ROOT
from shared.models import Base


def _config(url: str) -> Config:
    config = Config(str(REPO_ROOT / "alembic.ini"))
    config.attributes["database_url"] = url
    return config


async def test_models_and_migrations_describe_the_same_schema(database_url):
    engine = create_engine(database_url, application_name="chuangwei.tests.schema")
    try:
        async with engine.connect() as conn:
            diff = await conn.run_sync(
                lambda sync: compare_metadata(
                    MigrationContext.configure(sync, opts={"compare_type": True}), Base.metadata
                )
            )
    finally:
        await engine.dispose()
    assert diff == []


def test_every_migration_downgrades_and_upgrades_again(empty_database_url):
    """Synchronous on purpose: Alembic's env runs its own event loop."""
    import asyncio

    async def count_tables() -> int:
        engine = create_engine(empty_database_url, application_name="chuangwei.tests.schema")
        try:
            async with engine.connect() as conn:
                return (
                    await conn.execute(
                        text(
                            "select count(*) from pg_tables"
                            " where schemaname = 'public' and tablename <> 'alembic_version'"
                        )
                    )
                ).scalar()
        finally:
            await engine.dispose()

    assert asyncio.run(count_tables()) == len(Base.metadata.tables)
    command.downgrade(_config(empty_database_url), "base")
    assert asyncio.run(count_tables()) == 0
    command.upgrade(_config(empty_database_url), "head")
    assert asyncio.run(count_tables()) == len(Base.metadata.tables)
