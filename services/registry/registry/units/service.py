"""Rules of units: codes unique per region, soft delete only when nothing depends on the unit."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from registry.units.schemas import UnitCreate
from shared.auth import Principal
from shared.db import row_exists
from shared.errors import Conflict
from shared.listing import keyset_page
from shared.models import Person, SamplePoint, Unit


async def list_units(
    session: AsyncSession,
    *,
    principal: Principal,
    kind: str | None,
    updated_since: datetime | None,
    cursor: str | None,
    limit: int,
) -> tuple[list[Unit], str | None]:
    stmt = select(Unit).where(Unit.region_id == principal.region_id)
    if principal.role == "unit":
        stmt = stmt.where(Unit.id == principal.unit_id)
    if kind is not None:
        stmt = stmt.where(Unit.kind == kind)
    if updated_since is not None:
        stmt = stmt.where(Unit.updated_at >= updated_since)
        order = [Unit.updated_at, Unit.id]
    else:
        stmt = stmt.where(Unit.deleted_at.is_(None))
        order = [Unit.code, Unit.id]
    return await keyset_page(session, stmt, order_by=order, cursor=cursor, limit=limit)


async def _ensure_code_free(session: AsyncSession, region_id: uuid.UUID, code: str) -> None:
    taken = await session.scalar(
        select(Unit.id).where(Unit.region_id == region_id, Unit.code == code)
    )
    if taken is not None:
        raise Conflict(f"The unit code {code!r} is already used (deleted units keep their codes).")


async def create_unit(session: AsyncSession, *, region_id: uuid.UUID, body: UnitCreate) -> Unit:
    await _ensure_code_free(session, region_id, body.code)
    unit = Unit(region_id=region_id, id=uuid.uuid4(), **body.model_dump())
    session.add(unit)
    await session.flush()
    await session.refresh(unit)
    return unit


async def update_unit(session: AsyncSession, unit: Unit, changes: dict[str, Any]) -> Unit:
    if "code" in changes and changes["code"] != unit.code:
        await _ensure_code_free(session, unit.region_id, changes["code"])
    for field, value in changes.items():
        setattr(unit, field, value)
    await session.flush()
    await session.refresh(unit)
    return unit


async def delete_unit(session: AsyncSession, unit: Unit) -> None:
    has_points = await row_exists(
        session,
        SamplePoint.region_id == unit.region_id,
        SamplePoint.unit_id == unit.id,
        SamplePoint.deleted_at.is_(None),
    )
    if has_points:
        raise Conflict("Sample points still answer to the unit; reassign them first.")
    has_people = await row_exists(
        session,
        Person.region_id == unit.region_id,
        Person.unit_id == unit.id,
        Person.role == "unit",
        Person.active.is_(True),
    )
    if has_people:
        raise Conflict(
            "Active unit accounts still belong to the unit; deactivate or move them first."
        )
    unit.deleted_at = func.now()
    await session.flush()
