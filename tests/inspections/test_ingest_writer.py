"""The ingest writer's raw statements belong to the request's transaction: the session's
rollback undoes them and only its commit makes them visible (SPEC §3)."""

from __future__ import annotations

from sqlalchemy import text

from inspections.ingest import writer
from shared.db import create_sessionmaker
from tests.factories import make_world

RENAME = "UPDATE sample_points SET name = $3 WHERE region_id = $1 AND id = $2"
NAME = "SELECT name FROM sample_points WHERE region_id = :r AND id = :i"


async def _name(engine, world) -> str:
    async with engine.connect() as connection:
        result = await connection.execute(text(NAME), {"r": world.region.id, "i": world.point.id})
        return result.scalar_one()


async def test_a_raw_write_is_undone_by_the_sessions_rollback(engine, db):
    world = await make_world(db)
    before = await _name(engine, world)
    async with create_sessionmaker(engine)() as session:
        conn = await writer.driver(session)  # the first statement of the session
        assert conn.is_in_transaction()
        await conn.execute(RENAME, world.region.id, world.point.id, "改名")
        assert await _name(engine, world) == before  # not autocommitted
        await session.rollback()
    assert await _name(engine, world) == before


async def test_a_raw_write_is_kept_by_the_sessions_commit(engine, db):
    world = await make_world(db)
    async with create_sessionmaker(engine)() as session:
        conn = await writer.driver(session)
        await conn.execute(RENAME, world.region.id, world.point.id, "改名")
        await session.commit()
    assert await _name(engine, world) == "改名"
