"""Rules for point types: region-scoped codes, an existing category, soft delete."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from registry.point_types.schemas import PointTypeCreate, PointTypeRead, PointTypeUpdate
from shared.auth import Principal
from shared.errors import Conflict, NotFound, Unprocessable
from shared.listing import keyset_page
from shared.models import Category, Checklist, PointType, SamplePoint

NOT_NULL = {"code", "name", "category_id", "pass_mark", "visit_every_days"}


def current_version_of(point_type_id_col=PointType.id, region_id_col=PointType.region_id):
    """A correlated scalar subquery: the highest published checklist version of a type."""
    return (
        select(func.max(Checklist.version))
        .where(Checklist.region_id == region_id_col, Checklist.point_type_id == point_type_id_col)
        .scalar_subquery()
    )


def to_read(point_type: PointType, current_checklist_version: int | None) -> PointTypeRead:
    return PointTypeRead(
        id=point_type.id,
        code=point_type.code,
        name=point_type.name,
        category_id=point_type.category_id,
        pass_mark=point_type.pass_mark,
        visit_every_days=point_type.visit_every_days,
        deadline_policy=point_type.deadline_policy,
        current_checklist_version=current_checklist_version,
        version=point_type.version,
        created_at=point_type.created_at,
        updated_at=point_type.updated_at,
        deleted=point_type.deleted_at is not None,
    )


async def get_point_type(
    session: AsyncSession, region_id: uuid.UUID, point_type_id: uuid.UUID
) -> PointType:
    """A live point type of the region, or 404 (deleted ones and other regions' alike)."""
    point_type = await session.scalar(
        select(PointType).where(
            PointType.region_id == region_id,
            PointType.id == point_type_id,
            PointType.deleted_at.is_(None),
        )
    )
    if point_type is None:
        raise NotFound("No such point type in this region.")
    return point_type


async def current_checklist_version(session: AsyncSession, point_type: PointType) -> int | None:
    return await session.scalar(
        select(func.max(Checklist.version)).where(
            Checklist.region_id == point_type.region_id,
            Checklist.point_type_id == point_type.id,
        )
    )


async def read(session: AsyncSession, point_type: PointType) -> PointTypeRead:
    return to_read(point_type, await current_checklist_version(session, point_type))


async def list_point_types(
    session: AsyncSession,
    principal: Principal,
    *,
    category_id: uuid.UUID | None,
    updated_since: datetime | None,
    cursor: str | None,
    limit: int,
) -> tuple[list[PointTypeRead], str | None]:
    stmt = select(PointType, current_version_of().label("current")).where(
        PointType.region_id == principal.region_id
    )
    if category_id is not None:
        stmt = stmt.where(PointType.category_id == category_id)
    if updated_since is not None:
        # Delta sync: every change since then, deleted types included as tombstones.
        stmt = stmt.where(PointType.updated_at >= updated_since)
        order_by = [PointType.updated_at, PointType.id]
    else:
        stmt = stmt.where(PointType.deleted_at.is_(None))
        order_by = [PointType.code, PointType.id]
    names = [col.key for col in order_by]
    rows, next_cursor = await keyset_page(
        session,
        stmt,
        order_by=order_by,
        cursor=cursor,
        limit=limit,
        scalars=False,
        key=lambda row: [getattr(row[0], name) for name in names],
    )
    return [to_read(pt, current) for pt, current in rows], next_cursor


async def _check_category(session: AsyncSession, region_id: uuid.UUID, category_id: uuid.UUID):
    exists = await session.scalar(
        select(Category.id).where(Category.region_id == region_id, Category.id == category_id)
    )
    if exists is None:
        raise Unprocessable(
            "The category does not exist in this region.",
            errors=[{"loc": ["body", "category_id"], "msg": "no such category in this region"}],
        )


async def _check_code_free(
    session: AsyncSession, region_id: uuid.UUID, code: str, *, except_id: uuid.UUID | None = None
) -> None:
    stmt = select(PointType.id, PointType.deleted_at).where(
        PointType.region_id == region_id, PointType.code == code
    )
    if except_id is not None:
        stmt = stmt.where(PointType.id != except_id)
    row = (await session.execute(stmt)).first()
    if row is not None:
        hint = " (by a deleted type; codes are never reused)" if row.deleted_at else ""
        raise Conflict(f"The code {code!r} is already used{hint}.")


def _policy(value: Any) -> dict[str, Any] | None:
    if value is None:
        return None
    return {severity: limit.model_dump() for severity, limit in value.items()}


async def create_point_type(
    session: AsyncSession, region_id: uuid.UUID, data: PointTypeCreate
) -> PointType:
    await _check_category(session, region_id, data.category_id)
    await _check_code_free(session, region_id, data.code)
    point_type = PointType(
        region_id=region_id,
        id=uuid.uuid4(),
        code=data.code,
        name=data.name,
        category_id=data.category_id,
        pass_mark=data.pass_mark,
        visit_every_days=data.visit_every_days,
        deadline_policy=_policy(data.deadline_policy),
    )
    session.add(point_type)
    await session.flush()
    await session.refresh(point_type)
    return point_type


def refuse_nulls(data: Any, not_null: set[str]) -> None:
    """``{"name": null}`` in a PATCH is a mistake, not "leave unchanged": say so per field."""
    errors = [
        {"loc": ["body", name], "msg": "may not be null"}
        for name in sorted(data.model_fields_set & not_null)
        if getattr(data, name) is None
    ]
    if errors:
        raise Unprocessable("Some fields may not be null.", errors=errors)


async def update_point_type(
    session: AsyncSession, point_type: PointType, data: PointTypeUpdate
) -> PointType:
    refuse_nulls(data, NOT_NULL)
    changes = data.model_dump(exclude_unset=True)
    if "category_id" in changes and changes["category_id"] != point_type.category_id:
        await _check_category(session, point_type.region_id, changes["category_id"])
    if "code" in changes and changes["code"] != point_type.code:
        await _check_code_free(
            session, point_type.region_id, changes["code"], except_id=point_type.id
        )
    if "deadline_policy" in changes:
        changes["deadline_policy"] = _policy(data.deadline_policy)
    for name, value in changes.items():
        setattr(point_type, name, value)
    await session.flush()
    await session.refresh(point_type)
    return point_type


async def delete_point_type(session: AsyncSession, point_type: PointType) -> None:
    in_use = await session.scalar(
        select(func.count())
        .select_from(SamplePoint)
        .where(
            SamplePoint.region_id == point_type.region_id,
            SamplePoint.point_type_id == point_type.id,
            SamplePoint.deleted_at.is_(None),
        )
    )
    if in_use:
        raise Conflict(
            f"{in_use} sample point(s) still use this type; move or delete them first.",
            extra={"sample_points": in_use},
        )
    point_type.deleted_at = func.now()
    await session.flush()
