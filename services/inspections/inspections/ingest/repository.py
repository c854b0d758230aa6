"""Queries of inspections: the caller's scope, list filters, a record with its results."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Select, false, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from shared.auth import Principal
from shared.errors import NotFound
from shared.listing import keyset_page
from shared.models import Case, Inspection, InspectionResult


def scoped(principal: Principal) -> Select:
    """Inspections the caller may see: the whole region, or a unit's own points only."""
    stmt = select(Inspection).where(Inspection.region_id == principal.region_id)
    if principal.role == "unit":
        if principal.unit_id is None:
            return stmt.where(false())
        stmt = stmt.where(Inspection.unit_id == principal.unit_id)
    return stmt


@dataclass
class InspectionFilters:
    sample_point: uuid.UUID | None = None
    inspector: uuid.UUID | None = None
    unit: uuid.UUID | None = None
    source: str | None = None
    passed: bool | None = None
    validation: str | None = None
    off_site: bool | None = None
    suspect_photos: bool | None = None
    epidemic_incomplete: bool | None = None
    from_at: datetime | None = None
    to_at: datetime | None = None


def _epidemic_complete():
    return (
        Inspection.health_code_checked.is_(True)
        & Inspection.temperature_checked.is_(True)
        & Inspection.masks_worn.is_(True)
    )


async def list_inspections(
    session: AsyncSession,
    principal: Principal,
    filters: InspectionFilters,
    *,
    cursor: str | None,
    limit: int,
) -> tuple[list[Inspection], str | None]:
    stmt = scoped(principal)
    f = filters
    if f.sample_point is not None:
        stmt = stmt.where(Inspection.sample_point_id == f.sample_point)
    if f.inspector is not None:
        stmt = stmt.where(Inspection.inspector_id == f.inspector)
    if f.unit is not None:
        stmt = stmt.where(Inspection.unit_id == f.unit)
    if f.source is not None:
        stmt = stmt.where(Inspection.source == f.source)
    if f.passed is not None:
        stmt = stmt.where(Inspection.passed.is_(f.passed))
    if f.validation is not None:
        stmt = stmt.where(Inspection.validation == f.validation)
    if f.off_site is not None:
        stmt = stmt.where(Inspection.off_site.is_(f.off_site))
    if f.suspect_photos is not None:
        stmt = stmt.where(Inspection.suspect_photos.is_(f.suspect_photos))
    if f.epidemic_incomplete is True:
        stmt = stmt.where(or_(~_epidemic_complete(), _epidemic_complete().is_(None)))
    elif f.epidemic_incomplete is False:
        stmt = stmt.where(_epidemic_complete())
    if f.from_at is not None:
        stmt = stmt.where(Inspection.finished_at >= f.from_at)
    if f.to_at is not None:
        stmt = stmt.where(Inspection.finished_at < f.to_at)
    return await keyset_page(
        session,
        stmt,
        order_by=[Inspection.finished_at, Inspection.id],
        cursor=cursor,
        limit=limit,
    )


async def get_visible(
    session: AsyncSession, principal: Principal, inspection_id: uuid.UUID
) -> Inspection:
    """The inspection in the caller's scope, or 404."""
    inspection = await session.scalar(scoped(principal).where(Inspection.id == inspection_id))
    if inspection is None:
        raise NotFound("No such inspection.")
    return inspection


async def results_of(session: AsyncSession, inspection: Inspection) -> list[InspectionResult]:
    rows = await session.scalars(
        select(InspectionResult)
        .where(
            InspectionResult.region_id == inspection.region_id,
            InspectionResult.inspection_id == inspection.id,
        )
        .order_by(InspectionResult.item_code)
    )
    return list(rows)


async def case_ids_of(session: AsyncSession, inspection: Inspection) -> list[uuid.UUID]:
    rows = await session.scalars(
        select(Case.id)
        .where(Case.region_id == inspection.region_id, Case.inspection_id == inspection.id)
        .order_by(Case.reported_at, Case.id)
    )
    return list(rows)
