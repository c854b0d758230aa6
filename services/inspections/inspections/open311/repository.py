"""Queries of the Open311 facade.

Services are the registry's point types, read from its tables read-only (like
the case importer resolves codes): a facade that must list them on every
``services.json`` should not cost a registry round trip per call.
"""

from __future__ import annotations

import math
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from shared.models import Case, CaseEvent, Category, Checklist, PointType, Unit
from shared.models import Open311Request as Open311RequestRow
from shared.models.inspections import OPEN_STATUSES

DUPLICATE_RADIUS_M = 50.0
_METRES_PER_DEGREE = 111_320.0


@dataclass(frozen=True)
class ServiceRow:
    point_type_id: uuid.UUID
    code: str
    name: str
    category_id: uuid.UUID
    category_code: str
    category_name: str
    items: list[dict[str, Any]]


def _services_statement(region_id: uuid.UUID) -> Select:
    latest_checklist = (
        select(Checklist.items)
        .where(Checklist.region_id == PointType.region_id, Checklist.point_type_id == PointType.id)
        .order_by(Checklist.version.desc())
        .limit(1)
        .correlate(PointType)
        .scalar_subquery()
    )
    return (
        select(
            PointType.id,
            PointType.code,
            PointType.name,
            Category.id,
            Category.code,
            Category.name,
            latest_checklist,
        )
        .join(
            Category,
            (Category.region_id == PointType.region_id) & (Category.id == PointType.category_id),
        )
        .where(PointType.region_id == region_id, PointType.deleted_at.is_(None))
        .order_by(Category.ordinal, PointType.code)
    )


def _service_row(row: Any) -> ServiceRow:
    return ServiceRow(
        point_type_id=row[0],
        code=row[1],
        name=row[2],
        category_id=row[3],
        category_code=row[4],
        category_name=row[5],
        items=list(row[6] or []),
    )


async def services(session: AsyncSession, region_id: uuid.UUID) -> list[ServiceRow]:
    """The region's live point types with their category and current checklist items."""
    rows = await session.execute(_services_statement(region_id))
    return [_service_row(row) for row in rows]


async def service(session: AsyncSession, region_id: uuid.UUID, code: str) -> ServiceRow | None:
    row = (
        await session.execute(_services_statement(region_id).where(PointType.code == code))
    ).first()
    return _service_row(row) if row is not None else None


async def open_cases_nearby(
    session: AsyncSession,
    *,
    region_id: uuid.UUID,
    point_type_id: uuid.UUID,
    lat: float,
    lon: float,
    radius_m: float = DUPLICATE_RADIUS_M,
) -> list[uuid.UUID]:
    """Open cases of the point type within ``radius_m``, nearest first.

    A latitude band on ``ix_cases_region_type_open_lat`` narrows the search; the
    great-circle distance (haversine, 6 371 km sphere) decides.
    """
    dlat = radius_m / _METRES_PER_DEGREE
    dlon = radius_m / (_METRES_PER_DEGREE * max(math.cos(math.radians(lat)), 1e-6))
    half_dlat = func.radians(Case.lat - lat) / 2
    half_dlon = func.radians(Case.lon - lon) / 2
    haversine = func.power(func.sin(half_dlat), 2) + math.cos(math.radians(lat)) * func.cos(
        func.radians(Case.lat)
    ) * func.power(func.sin(half_dlon), 2)
    distance = 2 * 6_371_000 * func.asin(func.least(1.0, func.sqrt(haversine)))
    stmt = (
        select(Case.id)
        .where(
            Case.region_id == region_id,
            Case.point_type_id == point_type_id,
            Case.status.in_(OPEN_STATUSES),
            Case.lat.between(lat - dlat, lat + dlat),
            Case.lon.between(lon - dlon, lon + dlon),
            distance <= radius_m,
        )
        .order_by(distance)
        .limit(20)
    )
    return list(await session.scalars(stmt))


@dataclass(frozen=True)
class RequestFilters:
    """``GET requests``: ids override everything else (as the standard says)."""

    ids: list[uuid.UUID] | None
    service_codes: list[str] | None
    start: datetime | None
    end: datetime | None
    statuses: list[str] | None


def requests_statement(region_id: uuid.UUID, filters: RequestFilters) -> Select:
    """Citizen reports posted through Open311 with what their answer needs, newest first."""
    stmt = (
        select(Case, Open311RequestRow, PointType.name, Unit.name)
        .join(
            Open311RequestRow,
            (Open311RequestRow.region_id == Case.region_id)
            & (Open311RequestRow.case_id == Case.id),
        )
        .outerjoin(
            PointType,
            (PointType.region_id == Case.region_id) & (PointType.id == Case.point_type_id),
        )
        .outerjoin(Unit, (Unit.region_id == Case.region_id) & (Unit.id == Case.unit_id))
        .where(Case.region_id == region_id)
        .order_by(Case.reported_at.desc(), Case.id.desc())
    )
    if filters.ids is not None:
        return stmt.where(Case.id.in_(filters.ids))
    if filters.service_codes:
        stmt = stmt.where(Open311RequestRow.service_code.in_(filters.service_codes))
    if filters.start is not None:
        stmt = stmt.where(Case.reported_at >= filters.start)
    if filters.end is not None:
        stmt = stmt.where(Case.reported_at <= filters.end)
    if filters.statuses and set(filters.statuses) != {"open", "closed"}:
        open_ = Case.status.in_(OPEN_STATUSES)
        stmt = stmt.where(open_ if filters.statuses == ["open"] else ~open_)
    return stmt


# The events whose notes a citizen may read: the fix, and why a report was set aside.
NOTE_ACTIONS = ("rectify", "verify", "cancel", "mark_duplicate", "park")


async def latest_notes(
    session: AsyncSession, region_id: uuid.UUID, case_ids: list[uuid.UUID]
) -> dict[tuple[uuid.UUID, str], str | None]:
    """``(case id, action) → note`` of the latest such event of each case."""
    if not case_ids:
        return {}
    rows = await session.execute(
        select(CaseEvent.case_id, CaseEvent.action, CaseEvent.note)
        .where(
            CaseEvent.region_id == region_id,
            CaseEvent.case_id.in_(case_ids),
            CaseEvent.action.in_(NOTE_ACTIONS),
        )
        .order_by(CaseEvent.at)
    )
    # Later events overwrite earlier ones: the latest note of each action stays.
    return {(row.case_id, row.action): row.note for row in rows}
