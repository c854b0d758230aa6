"""Rules for sample points: references inside the region, unique codes, unit scope, soft delete."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from registry.point_types.service import refuse_nulls
from registry.sample_points.repository import row_to_dict
from registry.sample_points.schemas import SamplePointCreate, SamplePointUpdate
from shared.auth import Principal
from shared.errors import Conflict, NotFound, Unprocessable
from shared.models import Division, PointType, SamplePoint, Unit

NOT_NULL = {
    "code",
    "name",
    "point_type_id",
    "division_id",
    "address",
    "lat",
    "lon",
    "unit_id",
    "status",
}


def to_read(point: SamplePoint) -> dict[str, Any]:
    return row_to_dict(point)


async def get_point(
    session: AsyncSession, principal: Principal, point_id: uuid.UUID
) -> SamplePoint:
    """A live point the caller may see; another region's, another unit's or a deleted one → 404."""
    stmt = select(SamplePoint).where(
        SamplePoint.region_id == principal.region_id,
        SamplePoint.id == point_id,
        SamplePoint.deleted_at.is_(None),
    )
    if principal.role == "unit":
        stmt = stmt.where(SamplePoint.unit_id == principal.unit_id)
    point = await session.scalar(stmt)
    if point is None:
        raise NotFound("No such sample point.")
    return point


async def check_references(
    session: AsyncSession,
    region_id: uuid.UUID,
    *,
    point_type_id: uuid.UUID | None = None,
    division_id: uuid.UUID | None = None,
    unit_id: uuid.UUID | None = None,
) -> None:
    """One query for all referenced records; 422 naming each one missing from the region."""
    checks: dict[str, Any] = {}
    if point_type_id is not None:
        checks["point_type_id"] = (
            select(PointType.id)
            .where(
                PointType.region_id == region_id,
                PointType.id == point_type_id,
                PointType.deleted_at.is_(None),
            )
            .exists()
        )
    if division_id is not None:
        checks["division_id"] = (
            select(Division.id)
            .where(
                Division.region_id == region_id,
                Division.id == division_id,
                Division.deleted_at.is_(None),
            )
            .exists()
        )
    if unit_id is not None:
        checks["unit_id"] = (
            select(Unit.id)
            .where(Unit.region_id == region_id, Unit.id == unit_id, Unit.deleted_at.is_(None))
            .exists()
        )
    if not checks:
        return
    row = (await session.execute(select(*(c.label(k) for k, c in checks.items())))).one()
    missing = [name for name in checks if not getattr(row, name)]
    if missing:
        raise Unprocessable(
            "Some referenced records do not exist in this region.",
            errors=[
                {"loc": ["body", name], "msg": f"no such {name.removesuffix('_id')} in this region"}
                for name in missing
            ],
        )


async def _check_code_free(
    session: AsyncSession, region_id: uuid.UUID, code: str, *, except_id: uuid.UUID | None = None
) -> None:
    stmt = select(SamplePoint.id, SamplePoint.deleted_at).where(
        SamplePoint.region_id == region_id, SamplePoint.code == code
    )
    if except_id is not None:
        stmt = stmt.where(SamplePoint.id != except_id)
    row = (await session.execute(stmt)).first()
    if row is not None:
        hint = " by a deleted point (re-import the code to restore it)" if row.deleted_at else ""
        raise Conflict(f"The code {code!r} is already used{hint}.")


async def create_point(
    session: AsyncSession, region_id: uuid.UUID, data: SamplePointCreate
) -> SamplePoint:
    await check_references(
        session,
        region_id,
        point_type_id=data.point_type_id,
        division_id=data.division_id,
        unit_id=data.unit_id,
    )
    await _check_code_free(session, region_id, data.code)
    point = SamplePoint(region_id=region_id, id=uuid.uuid4(), **data.model_dump())
    session.add(point)
    await session.flush()
    await session.refresh(point)
    return point


async def update_point(
    session: AsyncSession, point: SamplePoint, data: SamplePointUpdate
) -> SamplePoint:
    refuse_nulls(data, NOT_NULL)
    changes = {
        name: value
        for name, value in data.model_dump(exclude_unset=True).items()
        if getattr(point, name) != value
    }
    if not changes:
        return point
    await check_references(
        session,
        point.region_id,
        point_type_id=changes.get("point_type_id"),
        division_id=changes.get("division_id"),
        unit_id=changes.get("unit_id"),
    )
    if "code" in changes:
        await _check_code_free(session, point.region_id, changes["code"], except_id=point.id)
    for name, value in changes.items():
        setattr(point, name, value)
    await session.flush()
    await session.refresh(point)
    return point


async def delete_point(session: AsyncSession, point: SamplePoint) -> None:
    point.deleted_at = func.now()
    await session.flush()
