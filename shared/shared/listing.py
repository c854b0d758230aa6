"""Keyset pagination over SQLAlchemy selects, and delta-sync filters.

``keyset_page`` orders by the given columns (always ending in a unique one,
usually ``id``), continues after the cursor's values and returns
``(rows, next_cursor)``. Delta sync lists (``?updated_since=``) order by
``(updated_at, id)`` so a phone can page through every change exactly once;
soft-deleted rows stay in those lists as tombstones (``deleted: true``).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import Select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from shared.errors import BadRequest
from shared.pagination import decode_cursor, encode_cursor


def _to_json(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, uuid.UUID):
        return str(value)
    return value


def _from_json(value: Any, column: InstrumentedAttribute) -> Any:
    python_type = column.type.python_type
    try:
        if python_type is datetime:
            return datetime.fromisoformat(value)
        if python_type is date:
            return date.fromisoformat(value)
        if python_type is uuid.UUID:
            return uuid.UUID(value)
        return python_type(value)
    except (TypeError, ValueError) as exc:
        raise BadRequest("The cursor is not valid for this list; start again without it.") from exc


async def keyset_page(
    session: AsyncSession,
    stmt: Select,
    *,
    order_by: Sequence[InstrumentedAttribute],
    cursor: str | None,
    limit: int,
    scalars: bool = True,
    key: Callable[[Any], Sequence[Any]] | None = None,
) -> tuple[list[Any], str | None]:
    """One page of ``stmt`` in ``order_by`` order after ``cursor``.

    ``key`` extracts the sort values from a row (defaults to the attributes of
    an ORM object named like the columns).
    """
    values = decode_cursor(cursor, size=len(order_by))
    if values is not None:
        typed = [_from_json(v, col) for v, col in zip(values, order_by, strict=True)]
        stmt = stmt.where(tuple_(*order_by) > tuple_(*typed))
    stmt = stmt.order_by(*order_by).limit(limit + 1)
    result = await session.execute(stmt)
    rows = list(result.scalars() if scalars else result.all())
    if key is None:
        names = [col.key for col in order_by]

        def key(row: Any) -> Sequence[Any]:
            return [getattr(row, name) for name in names]

    next_cursor = None
    if len(rows) > limit:
        rows = rows[:limit]
        next_cursor = encode_cursor([_to_json(v) for v in key(rows[-1])])
    return rows, next_cursor
