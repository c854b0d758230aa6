"""The one writer of a validated inspection's rows, in raw asyncpg inside the session's
transaction.

A validated inspection is a fixed set of rows: the inspection, its item results,
its cases and their events, photo links (laid out in Python by
:func:`inspections.ingest.plan.plan_inspection`). Writing them through the ORM cost
most of a request in unit-of-work bookkeeping, so they are written here with
prepared statements on the session's own asyncpg connection (:func:`driver`):

- a new inspection — :func:`insert_new`: one statement inserts it and its
  children unless a case id is another record's (``INSERT … ON CONFLICT DO
  NOTHING``: nothing inserted means the id is stored, the caller answers a replay);
- a batch of new ones — :func:`insert_inspections` then :func:`insert_children`;
- a pending one (the registry cannot be asked) — :func:`insert_inspections` with the
  row of :func:`inspections.ingest.plan.pending_row` and its photo links; once the
  registry answers, :func:`finish_pending`: the same statement as a new inspection's
  with an ``UPDATE`` of the stored row in place of the ``INSERT``.

Every child row comes from the same ``INSERT … SELECT FROM unnest()`` parts
(:func:`_children_ctes`), so a pending inspection, once finished, has exactly the
rows it would have had if the registry had answered at once. The session owns the
transaction (the request's ``SessionDep`` commits or rolls back); driver errors are
re-raised as the SQLAlchemy errors the app already maps (IntegrityError → 409,
connection errors → 503).
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

from inspections.cases.service import PLANNED_CASE_COLUMNS, PLANNED_EVENT_COLUMNS

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
# A photo is suspect when its EXIF time lies outside the visit's window, or when its
# bytes (any photo id with the same sha256) are already linked to another inspection.
# One raw statement: built through the ORM it cost a fresh alias of ``photos`` and two
# round trips per submission.
SUSPECT_PHOTOS = """
WITH mine AS (SELECT sha256, taken_at FROM photos WHERE region_id = $1 AND id = ANY($2::uuid[]))
SELECT EXISTS (SELECT FROM mine WHERE taken_at NOT BETWEEN $3 AND $4)
    OR EXISTS (
        SELECT FROM photos other
        JOIN photo_links link ON link.region_id = other.region_id AND link.photo_id = other.id
        WHERE other.region_id = $1 AND other.sha256 IN (SELECT sha256 FROM mine)
            AND link.owner_kind = 'inspection' AND link.owner_id <> $5
    )
"""
SORTED_CODES = "SELECT coalesce(array_agg(c ORDER BY c), '{}') FROM unnest($1::varchar[]) AS c"
# The item results of a record are listed ``ORDER BY item_code``; with a bytewise
# ("C") default collation that is Python's order and needs no round trip.
DATABASE_ROW = "SELECT to_jsonb(d)::text FROM pg_database d WHERE datname = current_database()"
_BYTEWISE_LOCALES = {"C", "POSIX", "C.UTF-8", "C.utf8"}

_bytewise: bool | None = None

# The writer's statements look rows up by key (region and id, ``= ANY`` of a few ids)
# and insert from ``unnest`` arrays: one plan fits every set of values. PostgreSQL
# nevertheless re-planned each of them at every execution (a custom plan, because an
# ``= ANY($n)`` of unknown length makes the generic one look dearer), about 1 ms of the
# database's CPU per submission. The writer's transactions use the cached generic plans.
GENERIC_PLANS = "SET LOCAL plan_cache_mode = force_generic_plan"


async def driver(session: AsyncSession) -> asyncpg.Connection:
    """The asyncpg connection under ``session``, inside the session's transaction.

    ``session.connection()`` begins the SQLAlchemy transaction, but SQLAlchemy's asyncpg
    adapter sends its ``BEGIN`` lazily, with the first statement executed through it.
    Raw statements before that would run in autocommit, out of reach of the session's
    commit and rollback, so a first statement goes through SQLAlchemy's public
    ``exec_driver_sql``: the adapter begins, and a failing ``BEGIN`` (a dead
    connection) is wrapped, and the connection invalidated, the way SQLAlchemy does it.

    That statement is :data:`GENERIC_PLANS`, for the rest of the transaction.
    """
    connection = await session.connection()
    raw = await connection.get_raw_connection()
    conn: asyncpg.Connection = raw.driver_connection
    if not conn.is_in_transaction():
        await connection.exec_driver_sql(GENERIC_PLANS)
    return conn


@contextmanager
def translated() -> Iterator[None]:
    """Driver errors as the SQLAlchemy errors the app's handlers know."""
    try:
        yield
    except asyncpg.IntegrityConstraintViolationError as exc:
        raise IntegrityError("ingest", None, exc) from exc
    except (
        asyncpg.PostgresConnectionError,
        asyncpg.InterfaceError,
        # The server ended the connection (a killed backend, a failover) while it sat
        # idle in a transaction: its error arrived with no statement to belong to, and
        # the driver refuses the next one. The connection is dead, not the request.
        asyncpg.InternalClientError,
    ) as exc:
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


async def photos_suspect(
    conn: asyncpg.Connection,
    region_id: uuid.UUID,
    inspection_id: uuid.UUID,
    photo_ids: Sequence[uuid.UUID],
    taken_between: tuple[datetime, datetime],
) -> bool:
    """Whether any of ``photo_ids`` was taken outside ``taken_between`` (EXIF) or has
    bytes another inspection already uses (:data:`SUSPECT_PHOTOS`)."""
    low, high = taken_between
    return bool(
        await conn.fetchval(SUSPECT_PHOTOS, region_id, list(photo_ids), low, high, inspection_id)
    )


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


# Base types of the written columns, for casts of parameters and unnest() arrays (no
# length modifiers: an explicit cast to varchar(n) would truncate where an insert fails).
_TYPES = {
    "region_id": "uuid",
    "id": "uuid",
    "inspection_id": "uuid",
    "case_id": "uuid",
    "photo_id": "uuid",
    "owner_id": "uuid",
    "sample_point_id": "uuid",
    "point_type_id": "uuid",
    "category_id": "uuid",
    "division_id": "uuid",
    "unit_id": "uuid",
    "inspector_id": "uuid",
    "reporter_id": "uuid",
    "actor_id": "uuid",
    "checklist_version": "int4",
    "grade": "int4",
    "rework_count": "int4",
    "extension_count": "int4",
    "return_count": "int4",
    "lat": "float8",
    "lon": "float8",
    "accuracy_m": "float8",
    "distance_m": "float8",
    "max_points": "numeric",
    "earned_points": "numeric",
    "score": "numeric",
    "deduction": "numeric",
    "points": "numeric",
    "earned": "numeric",
    "passed": "bool",
    "off_site": "bool",
    "suspect_photos": "bool",
    "health_code_checked": "bool",
    "temperature_checked": "bool",
    "masks_worn": "bool",
    "vetoed_items": "varchar[]",
    "body": "jsonb",
    "started_at": "timestamptz",
    "finished_at": "timestamptz",
    "validated_at": "timestamptz",
    "due_at": "timestamptz",
    "reported_at": "timestamptz",
    "dispatched_at": "timestamptz",
    "at": "timestamptz",
    "note": "text",
    "description": "text",
}


def _type(column: str) -> str:
    return _TYPES.get(column, "varchar")


# (table, columns taken from unnest() arrays; region_id is the one scalar $1)
_CHILDREN = (
    ("inspection_results", RESULT_COLUMNS[1:], ""),
    ("cases", PLANNED_CASE_COLUMNS[1:], "version"),
    ("case_events", PLANNED_EVENT_COLUMNS[1:], ""),
    ("photo_links", ("photo_id", "owner_kind", "owner_id"), ""),
)


def _children_ctes(number: int, guard: str = "") -> list[str]:
    """One ``INSERT … SELECT … FROM unnest(…)`` CTE per child table, parameters from
    ``$number`` on; ``guard`` is a condition every CTE's rows must meet."""
    parts = []
    for table, columns, version in _CHILDREN:
        arrays, selected = [], ["$1::uuid"]
        for column in columns:
            if column == "photo_ids":  # arrays of arrays are not unnest()-able: literals
                arrays.append(f"${number}::text[]")
                selected.append(f"t.{column}::uuid[]")
            else:
                arrays.append(f"${number}::{_type(column)}[]")
                selected.append(f"t.{column}")
            number += 1
        names = ["region_id", *columns] + (["version"] if version else [])
        selected += ["1"] if version else []
        where = f" WHERE {guard}" if guard else ""
        conflict = " ON CONFLICT DO NOTHING" if table == "photo_links" else ""
        parts.append(
            f"{table}_rows AS (INSERT INTO {table} ({', '.join(names)}) "
            f"SELECT {', '.join(selected)} FROM unnest({', '.join(arrays)}) "
            f"AS t({', '.join(columns)}){where}{conflict})"
        )
    return parts


# Item results, cases, case events and photo links of inserted inspections (a batch):
# one statement (foreign keys between its parts are checked at its end).
INSERT_CHILDREN = "WITH " + ",\n".join(_children_ctes(2)) + "\nSELECT 1"


def _one_inspection(write: str, case_ids: int) -> str:
    """One inspection and its children in one statement: ``write`` (an ``INSERT`` or an
    ``UPDATE`` of ``inspections … RETURNING created_at``) runs unless a case id of
    ``$case_ids`` is another record's (then nothing is written and the ids come back);
    the children, from ``$case_ids + 1`` on, only if it wrote the row."""
    children = ",\n".join(_children_ctes(case_ids + 1, "EXISTS (SELECT FROM written)"))
    return f"""
WITH taken AS (
    SELECT id FROM cases
    WHERE region_id = $1::uuid AND id = ANY(${case_ids}::uuid[])
      AND (inspection_id IS NULL OR inspection_id <> $2::uuid)
), written AS (
{write}
),
{children}
SELECT (SELECT created_at FROM written), ARRAY(SELECT id FROM taken)
"""


# A new inspection: nothing inserted when its id is already stored (nothing taken).
_n = len(INSPECTION_COLUMNS)
INSERT_NEW_INSPECTION = _one_inspection(
    f"""    INSERT INTO inspections ({", ".join(INSPECTION_COLUMNS)})
    SELECT {", ".join(f"${i}::{_type(c)}" for i, c in enumerate(INSPECTION_COLUMNS, 1))}
    WHERE NOT EXISTS (SELECT FROM taken)
    ON CONFLICT (region_id, id) DO NOTHING
    RETURNING created_at""",
    _n + 1,
)

# A pending inspection finished: the stored row updated in place of the insert (its
# body and hash stay as submitted). Parameters: $1 region, $2 id, FINISHED_COLUMNS.
FINISHED_COLUMNS = tuple(
    c for c in INSPECTION_COLUMNS if c not in ("region_id", "id", "body", "body_hash")
)
_FINISHED_SET = ", ".join(f"{c} = ${i}::{_type(c)}" for i, c in enumerate(FINISHED_COLUMNS, 3))
FINISH_PENDING = _one_inspection(
    f"""    UPDATE inspections SET {_FINISHED_SET}, validation_error = NULL
    WHERE region_id = $1::uuid AND id = $2::uuid AND validation = 'pending'
      AND NOT EXISTS (SELECT FROM taken)
    RETURNING created_at""",
    len(FINISHED_COLUMNS) + 3,
)


def _photo_literal(ids: Sequence[uuid.UUID]) -> str:
    return "{" + ",".join(str(i) for i in ids) + "}"


def _columns(rows: Sequence[Sequence[Any]], width: int) -> list[list[Any]]:
    if not rows:
        return [[] for _ in range(width)]
    return [list(column) for column in zip(*rows, strict=True)]


def children_args(
    results: Sequence[tuple[Any, ...]],
    cases: Sequence[dict[str, Any]],
    events: Sequence[dict[str, Any]],
    links: Sequence[tuple[uuid.UUID, uuid.UUID, str, uuid.UUID]],
) -> list[list[Any]]:
    """The unnest() arrays of the children: ``results`` as :data:`RESULT_COLUMNS`
    tuples, planned cases and events as column dicts, ``links`` as
    ``(region, photo, kind, owner)``."""
    result_rows = [(*r[1:9], _photo_literal(r[9])) for r in results]
    case_rows = [
        tuple(_photo_literal(c[k]) if k == "photo_ids" else c[k] for k in PLANNED_CASE_COLUMNS[1:])
        for c in cases
    ]
    event_rows = [
        tuple(_photo_literal(e[k]) if k == "photo_ids" else e[k] for k in PLANNED_EVENT_COLUMNS[1:])
        for e in events
    ]
    link_rows = list(dict.fromkeys((p, kind, owner) for _, p, kind, owner in links))
    return [
        *_columns(result_rows, len(RESULT_COLUMNS) - 1),
        *_columns(case_rows, len(PLANNED_CASE_COLUMNS) - 1),
        *_columns(event_rows, len(PLANNED_EVENT_COLUMNS) - 1),
        *_columns(link_rows, 3),
    ]


async def insert_new(
    conn: asyncpg.Connection,
    row: tuple[Any, ...],
    case_ids: list[uuid.UUID],
    children: list[list[Any]],
) -> tuple[datetime | None, set[uuid.UUID]]:
    """One inspection row with its children (:func:`children_args`) unless a case id is
    taken: ``(created_at or None, taken ids)``; ``(None, set())`` = the id was stored."""
    created_at, taken = await conn.fetchrow(INSERT_NEW_INSPECTION, *row, case_ids, *children)
    return created_at, set(taken)


async def insert_children(
    conn: asyncpg.Connection,
    region_id: uuid.UUID,
    results: Sequence[tuple[Any, ...]],
    cases: Sequence[dict[str, Any]],
    events: Sequence[dict[str, Any]],
    links: Sequence[tuple[uuid.UUID, uuid.UUID, str, uuid.UUID]],
) -> None:
    """Write the children rows of inserted inspections (see :func:`children_args`)."""
    await conn.execute(INSERT_CHILDREN, region_id, *children_args(results, cases, events, links))


async def finish_pending(
    conn: asyncpg.Connection,
    row: tuple[Any, ...],
    case_ids: list[uuid.UUID],
    children: list[list[Any]],
) -> tuple[bool, set[uuid.UUID]]:
    """Turn the stored pending inspection ``row`` (laid out as :data:`INSPECTION_COLUMNS`)
    valid and write its children, unless a case id is taken: ``(finished, taken ids)``;
    ``(False, set())`` = it is no longer pending."""
    fields = dict(zip(INSPECTION_COLUMNS, row, strict=True))
    values = [fields[c] for c in FINISHED_COLUMNS]
    created_at, taken = await conn.fetchrow(
        FINISH_PENDING, fields["region_id"], fields["id"], *values, case_ids, *children
    )
    return created_at is not None, set(taken)
