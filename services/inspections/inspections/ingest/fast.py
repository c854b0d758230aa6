"""Raw asyncpg writes for the ingest hot path (issue 3), inside the session's transaction.

A new, valid inspection is a fixed set of rows (the inspection, its item
results, its cases and their events, photo links). Writing them through the
ORM cost most of a request in unit-of-work bookkeeping, so the hot path
writes them here with prepared statements on the session's own asyncpg
connection: one ``INSERT … ON CONFLICT DO NOTHING RETURNING`` for the
inspection(s) — nothing returned means the id is already stored and the caller
answers like a replay — then pipelined ``executemany`` for the rest. The
session still owns the transaction (the request's ``SessionDep`` commits or
rolls back); driver errors are re-raised as the SQLAlchemy errors the app
already maps (IntegrityError → 409, connection errors → 503).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from typing import Any

import asyncpg
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError
from sqlalchemy.ext.asyncio import AsyncSession

INSPECTION_COLUMNS = tuple(
    "region_id id sample_point_id point_type_id category_id division_id unit_id "
    "checklist_version inspector_id source started_at finished_at lat lon accuracy_m "
    "distance_m max_points earned_points score passed vetoed_items off_site suspect_photos "
    "health_code_checked temperature_checked masks_worn validation body body_hash "
    "validated_at".split()
)
RESULT_COLUMNS = tuple(
    "region_id inspection_id item_code outcome grade deduction points earned note photo_ids".split()
)

_placeholders = ", ".join(f"${i}" for i in range(1, len(INSPECTION_COLUMNS) + 1))
INSERT_INSPECTION = (
    f"INSERT INTO inspections ({', '.join(INSPECTION_COLUMNS)}) VALUES ({_placeholders}) "
    "ON CONFLICT (region_id, id) DO NOTHING RETURNING id, created_at"
)
INSERT_RESULT = (
    f"INSERT INTO inspection_results ({', '.join(RESULT_COLUMNS)}) "
    f"VALUES ({', '.join(f'${i}' for i in range(1, len(RESULT_COLUMNS) + 1))})"
)
TAKEN_CASES = "SELECT id, inspection_id FROM cases WHERE region_id = $1 AND id = ANY($2::uuid[])"
FOUND_PHOTOS = "SELECT id FROM photos WHERE region_id = $1 AND id = ANY($2::uuid[])"
SORTED_CODES = "SELECT coalesce(array_agg(c ORDER BY c), '{}') FROM unnest($1::varchar[]) AS c"
# The item results of a record are listed ``ORDER BY item_code``; with a bytewise
# ("C") default collation that is Python's order and needs no round trip.
DATABASE_ROW = "SELECT to_jsonb(d)::text FROM pg_database d WHERE datname = current_database()"
_BYTEWISE_LOCALES = {"C", "POSIX", "C.UTF-8", "C.utf8"}

_bytewise: bool | None = None


async def driver(session: AsyncSession) -> asyncpg.Connection:
    """The asyncpg connection under ``session``, its transaction begun (the SQLAlchemy
    adapter begins lazily, on its first statement; raw statements must not run in
    autocommit)."""
    connection = await session.connection()
    raw = await connection.get_raw_connection()
    adapter: Any = raw.dbapi_connection
    if getattr(adapter, "_transaction", True) is None:
        with translated():
            await adapter._start_transaction()
    elif not adapter._connection.is_in_transaction():
        await connection.exec_driver_sql("SELECT 1")  # begins it the supported way
    return adapter._connection


@contextmanager
def translated() -> Iterator[None]:
    """Driver errors as the SQLAlchemy errors the app's handlers know."""
    try:
        yield
    except asyncpg.IntegrityConstraintViolationError as exc:
        raise IntegrityError("ingest", None, exc) from exc
    except (asyncpg.PostgresConnectionError, asyncpg.InterfaceError) as exc:
        raise OperationalError("ingest", None, exc) from exc
    except asyncpg.PostgresError as exc:
        raise DBAPIError("ingest", None, exc) from exc


async def taken_cases(
    conn: asyncpg.Connection, region_id: uuid.UUID, owners: dict[uuid.UUID, uuid.UUID]
) -> set[uuid.UUID]:
    """Case ids (keys of ``owners``: case id → its inspection id) already used by a case
    that is not the same inspection's (a concurrent replay is not a clash)."""
    if not owners:
        return set()
    rows = await conn.fetch(TAKEN_CASES, region_id, list(owners))
    return {r[0] for r in rows if r[1] is None or r[1] != owners[r[0]]}


async def missing_photos(
    conn: asyncpg.Connection, region_id: uuid.UUID, photo_ids: Sequence[uuid.UUID]
) -> set[uuid.UUID]:
    if not photo_ids:
        return set()
    found = {r[0] for r in await conn.fetch(FOUND_PHOTOS, region_id, list(photo_ids))}
    return {p for p in photo_ids if p not in found}


async def sorted_codes(conn: asyncpg.Connection, codes: list[str]) -> list[str]:
    """``codes`` in the database's ``ORDER BY`` order."""
    global _bytewise
    if _bytewise is None:
        _bytewise = _is_bytewise(json.loads(await conn.fetchval(DATABASE_ROW)))
    if _bytewise:
        return sorted(codes)
    return list(await conn.fetchval(SORTED_CODES, codes))


def _is_bytewise(database: dict[str, Any]) -> bool:
    """libc "C"-like or builtin collation: code point order (bytewise in UTF-8); ICU is not."""
    provider = database.get("datlocprovider", "c")
    if provider == "b":  # PostgreSQL 17's builtin provider: C and C.UTF-8 sort by code point
        return True
    return provider == "c" and database.get("datcollate") in _BYTEWISE_LOCALES


async def insert_inspections(
    conn: asyncpg.Connection, rows: list[tuple[Any, ...]]
) -> dict[uuid.UUID, datetime]:
    """Insert the inspection rows that are new; ``{id: created_at}`` of those inserted."""
    if len(rows) == 1:
        row = await conn.fetchrow(INSERT_INSPECTION, *rows[0])
        return {} if row is None else {row[0]: row[1]}
    return {r[0]: r[1] for r in await conn.fetchmany(INSERT_INSPECTION, rows)}


async def insert_results(conn: asyncpg.Connection, rows: list[tuple[Any, ...]]) -> None:
    if rows:
        await conn.executemany(INSERT_RESULT, rows)
