"""Publishing checklist versions; a published version never changes."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from registry.checklists.schemas import ChecklistCreate
from shared.errors import NotFound
from shared.listing import keyset_page
from shared.models import Checklist, PointType


async def publish(session: AsyncSession, point_type: PointType, data: ChecklistCreate) -> Checklist:
    """Add version ``previous + 1`` and touch the type, so delta sync sees the new current version.

    Two admins publishing at once collide on the unique (type, version) key → 409.
    """
    previous = await session.scalar(
        select(func.max(Checklist.version)).where(
            Checklist.region_id == point_type.region_id,
            Checklist.point_type_id == point_type.id,
        )
    )
    items = [item.model_dump() for item in data.items]
    checklist = Checklist(
        region_id=point_type.region_id,
        id=uuid.uuid4(),
        point_type_id=point_type.id,
        version=(previous or 0) + 1,
        items=items,
        max_points=sum(item.points for item in data.items),
    )
    session.add(checklist)
    point_type.updated_at = func.now()
    await session.flush()
    await session.refresh(checklist)
    return checklist


async def list_versions(
    session: AsyncSession, point_type: PointType, *, cursor: str | None, limit: int
) -> tuple[list[Checklist], str | None]:
    stmt = select(Checklist).where(
        Checklist.region_id == point_type.region_id, Checklist.point_type_id == point_type.id
    )
    return await keyset_page(
        session, stmt, order_by=[Checklist.version], cursor=cursor, limit=limit
    )


async def get_version(session: AsyncSession, point_type: PointType, version: int) -> Checklist:
    checklist = await session.scalar(
        select(Checklist).where(
            Checklist.region_id == point_type.region_id,
            Checklist.point_type_id == point_type.id,
            Checklist.version == version,
        )
    )
    if checklist is None:
        raise NotFound(f"The point type has no checklist version {version}.")
    return checklist


async def list_changed(
    session: AsyncSession,
    region_id: uuid.UUID,
    *,
    point_type_id: uuid.UUID | None,
    updated_since: datetime | None,
    cursor: str | None,
    limit: int,
) -> tuple[list[Checklist], str | None]:
    stmt = select(Checklist).where(Checklist.region_id == region_id)
    if point_type_id is not None:
        stmt = stmt.where(Checklist.point_type_id == point_type_id)
    if updated_since is not None:
        stmt = stmt.where(Checklist.updated_at >= updated_since)
    return await keyset_page(
        session, stmt, order_by=[Checklist.updated_at, Checklist.id], cursor=cursor, limit=limit
    )
