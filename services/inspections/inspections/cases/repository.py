"""Queries of cases, and read-only lookups in the registry's tables.

The inspections service never writes registry tables. Checking that a unit,
category or division exists, resolving the codes of an imported file, and
matching a division's subtree read them with SQL (same database, read-only):
one query per file instead of one HTTP call per row. Deadline policy and
calendar come from the registry's HTTP API (see ``context.py``).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, and_, not_, select
from sqlalchemy.ext.asyncio import AsyncSession

from shared.db import row_exists
from shared.models import (
    Case,
    CaseEvent,
    Category,
    Division,
    PointType,
    SamplePoint,
    Standard,
    Unit,
)


async def get_case(session: AsyncSession, region_id: uuid.UUID, case_id: uuid.UUID) -> Case | None:
    return await session.scalar(select(Case).where(Case.region_id == region_id, Case.id == case_id))


async def unit_exists(session: AsyncSession, region_id: uuid.UUID, unit_id: uuid.UUID) -> bool:
    return await row_exists(
        session, Unit.region_id == region_id, Unit.id == unit_id, Unit.deleted_at.is_(None)
    )


async def category_exists(
    session: AsyncSession, region_id: uuid.UUID, category_id: uuid.UUID
) -> bool:
    return await row_exists(session, Category.region_id == region_id, Category.id == category_id)


async def division_exists(
    session: AsyncSession, region_id: uuid.UUID, division_id: uuid.UUID
) -> bool:
    return await row_exists(
        session,
        Division.region_id == region_id,
        Division.id == division_id,
        Division.deleted_at.is_(None),
    )


async def point_type_policy(
    session: AsyncSession, region_id: uuid.UUID, point_type_id: uuid.UUID | None
) -> dict[str, Any] | None:
    """A point type's own deadline policy (overrides the region's), if it has one."""
    if point_type_id is None:
        return None
    return await session.scalar(
        select(PointType.deadline_policy).where(
            PointType.region_id == region_id, PointType.id == point_type_id
        )
    )


async def units_by_code(
    session: AsyncSession, region_id: uuid.UUID, codes: Iterable[str]
) -> dict[str, uuid.UUID]:
    codes = list(set(codes))
    if not codes:
        return {}
    rows = await session.execute(
        select(Unit.code, Unit.id).where(
            Unit.region_id == region_id, Unit.code.in_(codes), Unit.deleted_at.is_(None)
        )
    )
    return {code: unit_id for code, unit_id in rows}


async def categories_by_code(
    session: AsyncSession, region_id: uuid.UUID, codes: Iterable[str]
) -> dict[str, uuid.UUID]:
    """Category ids by code; when several standards share a code, the newest edition wins."""
    codes = list(set(codes))
    if not codes:
        return {}
    rows = await session.execute(
        select(Category.code, Category.id)
        .join(
            Standard,
            and_(Standard.region_id == Category.region_id, Standard.id == Category.standard_id),
        )
        .where(Category.region_id == region_id, Category.code.in_(codes))
        .order_by(Standard.version)
    )
    return {code: category_id for code, category_id in rows}  # later (newer) rows overwrite


@dataclass(frozen=True)
class PointRow:
    id: uuid.UUID
    code: str
    status: str
    unit_id: uuid.UUID
    division_id: uuid.UUID
    point_type_id: uuid.UUID
    category_id: uuid.UUID
    lat: float
    lon: float
    address: str
    deadline_policy: dict[str, Any] | None


async def points_by_code(
    session: AsyncSession, region_id: uuid.UUID, codes: Iterable[str]
) -> dict[str, PointRow]:
    codes = list(set(codes))
    if not codes:
        return {}
    rows = await session.execute(
        select(
            SamplePoint.id,
            SamplePoint.code,
            SamplePoint.status,
            SamplePoint.unit_id,
            SamplePoint.division_id,
            SamplePoint.point_type_id,
            PointType.category_id,
            SamplePoint.lat,
            SamplePoint.lon,
            SamplePoint.address,
            PointType.deadline_policy,
        )
        .join(
            PointType,
            and_(
                PointType.region_id == SamplePoint.region_id,
                PointType.id == SamplePoint.point_type_id,
            ),
        )
        .where(
            SamplePoint.region_id == region_id,
            SamplePoint.code.in_(codes),
            SamplePoint.deleted_at.is_(None),
        )
    )
    return {row.code: PointRow(**row._mapping) for row in rows}


@dataclass(frozen=True)
class CaseFilters:
    status: str | None = None
    unit_id: uuid.UUID | None = None
    sample_point_id: uuid.UUID | None = None
    division_id: uuid.UUID | None = None
    source: str | None = None
    severity: str | None = None
    overdue: bool | None = None
    reported_from: datetime | None = None
    reported_to: datetime | None = None


def list_statement(region_id: uuid.UUID, filters: CaseFilters, *, now: datetime) -> Select:
    """Cases of the region matching ``filters`` (unit scope is applied by the caller)."""
    stmt = select(Case).where(Case.region_id == region_id)
    if filters.status:
        stmt = stmt.where(Case.status == filters.status)
    if filters.unit_id:
        stmt = stmt.where(Case.unit_id == filters.unit_id)
    if filters.sample_point_id:
        stmt = stmt.where(Case.sample_point_id == filters.sample_point_id)
    if filters.source:
        stmt = stmt.where(Case.source == filters.source)
    if filters.severity:
        stmt = stmt.where(Case.severity == filters.severity)
    if filters.division_id:
        root_path = (
            select(Division.path)
            .where(Division.region_id == region_id, Division.id == filters.division_id)
            .scalar_subquery()
        )
        subtree = select(Division.id).where(
            Division.region_id == region_id, Division.path.startswith(root_path, autoescape=False)
        )
        stmt = stmt.where(Case.division_id.in_(subtree))
    if filters.overdue is not None:
        is_overdue = and_(Case.status == "assigned", Case.due_at < now)
        stmt = stmt.where(is_overdue if filters.overdue else not_(is_overdue))
    if filters.reported_from:
        stmt = stmt.where(Case.reported_at >= filters.reported_from)
    if filters.reported_to:
        stmt = stmt.where(Case.reported_at < filters.reported_to)
    return stmt


def events_statement(region_id: uuid.UUID, case_id: uuid.UUID) -> Select:
    return select(CaseEvent).where(CaseEvent.region_id == region_id, CaseEvent.case_id == case_id)
