"""Region templates (SPEC §13): what a new region copies so that it starts ready.

``chuangwei region create --template national|REGION_CODE``:

- ``national`` — the nationwide catalogue that ships with Chuangwei: 21 sample-point
  types of the 2014 standard with their deduction checklists (the same catalogue the
  demo district uses), the default deadline policies and every category's required
  archive documents;
- a region's code — that region's point types with their *current* checklists (as
  version 1 of the new region), its deadline policies (including per-type
  overrides) and its archive requirements, so a city can roll its districts out
  alike.

Either way the new region gets the national holiday and make-up working-day (调休)
calendar for every year the ``chinesecalendar`` package knows, so deadlines skip
National Day from the first case. A template only adds to a freshly provisioned
region (inside its transaction): an unknown template raises and nothing is created.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date

from chinese_calendar.constants import Holiday, holidays, workdays
from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from registry.demo import data as catalogue
from shared.errors import Unprocessable
from shared.models import (
    ArchiveItem,
    CalendarDay,
    Category,
    Checklist,
    DeadlinePolicy,
    PointType,
    Region,
)

NATIONAL = "national"

# chinesecalendar names its holidays in English; the calendar shows the Chinese ones.
_HOLIDAY_NAMES = {
    Holiday.new_years_day.value: "元旦",
    Holiday.spring_festival.value: "春节",
    Holiday.tomb_sweeping_day.value: "清明节",
    Holiday.labour_day.value: "劳动节",
    Holiday.dragon_boat_festival.value: "端午节",
    Holiday.national_day.value: "国庆节",
    Holiday.mid_autumn_festival.value: "中秋节",
    Holiday.anti_fascist_70th_day.value: "中国人民抗日战争暨世界反法西斯战争胜利70周年纪念日",
}


def national_calendar() -> list[tuple[date, str, str]]:
    """Every official holiday and 调休 working day ``chinesecalendar`` knows, in date order:
    ``(day, "holiday" | "workday", name)``."""
    days = [(day, "holiday", _HOLIDAY_NAMES.get(name, name)) for day, name in holidays.items()]
    days += [
        (day, "workday", f"{_HOLIDAY_NAMES.get(name, name)}调休上班")
        for day, name in workdays.items()
    ]
    return sorted(days)


def national_calendar_years() -> tuple[int, int]:
    """The first and last year the package knows (later years have weekends only)."""
    years = sorted({day.year for day in holidays})
    return years[0], years[-1]


@dataclass
class TemplateApplied:
    """What a template gave the new region."""

    point_types: dict[str, PointType]
    checklists: int
    archive_items: int
    calendar_days: int


async def apply_template(session: AsyncSession, region: Region, template: str) -> TemplateApplied:
    """Fill the freshly provisioned ``region`` from ``template``; flushes, never commits."""
    categories = {
        c.code: c.id
        for c in await session.scalars(select(Category).where(Category.region_id == region.id))
    }
    if template == NATIONAL:
        applied = await _from_catalogue(session, region.id, categories)
    else:
        source = await session.scalar(
            select(Region).where(Region.code == template, Region.id != region.id)
        )
        if source is None:
            raise Unprocessable(
                f"Unknown template {template!r}: use 'national' or the code of an existing "
                "region. Nothing was created."
            )
        applied = await _from_region(session, source.id, region.id, categories)
    applied.calendar_days = await _national_calendar(session, region.id)
    return applied


async def _from_catalogue(
    session: AsyncSession, region_id: uuid.UUID, categories: dict[str, uuid.UUID]
) -> TemplateApplied:
    types = {
        spec.code: PointType(
            region_id=region_id,
            id=uuid.uuid4(),
            code=spec.code,
            name=spec.name,
            category_id=categories[spec.category],
            pass_mark=spec.pass_mark,
            visit_every_days=spec.visit_every_days,
        )
        for spec in catalogue.POINT_TYPES
    }
    session.add_all(types.values())
    await session.flush()
    checklists = [
        _checklist(
            region_id, types[spec.code].id, [dict(i, tags=list(i["tags"])) for i in spec.items]
        )
        for spec in catalogue.POINT_TYPES
    ]
    archive = [
        ArchiveItem(
            region_id=region_id,
            id=uuid.uuid4(),
            category_id=categories[category],
            code=f"AR-{category}-{n:02d}",
            title=title,
            description=description,
            required=True,
        )
        for category, entries in catalogue.ARCHIVE_ITEMS.items()
        for n, (title, description) in enumerate(entries, start=1)
    ]
    session.add_all([*checklists, *archive])
    await session.flush()
    return TemplateApplied(types, len(checklists), len(archive), 0)


async def _from_region(
    session: AsyncSession,
    source_id: uuid.UUID,
    region_id: uuid.UUID,
    categories: dict[str, uuid.UUID],
) -> TemplateApplied:
    source_categories = {
        c.id: c.code
        for c in await session.scalars(select(Category).where(Category.region_id == source_id))
    }

    def category(source_category_id: uuid.UUID) -> uuid.UUID:
        # Both regions carry the 2014 standard; categories match by code.
        return categories[source_categories[source_category_id]]

    source_types = list(
        await session.scalars(
            select(PointType)
            .where(PointType.region_id == source_id, PointType.deleted_at.is_(None))
            .order_by(PointType.code)
        )
    )
    types = {
        t.code: PointType(
            region_id=region_id,
            id=uuid.uuid4(),
            code=t.code,
            name=t.name,
            category_id=category(t.category_id),
            pass_mark=t.pass_mark,
            visit_every_days=t.visit_every_days,
            deadline_policy=t.deadline_policy,
        )
        for t in source_types
    }
    session.add_all(types.values())
    await session.flush()

    current = (
        select(Checklist.point_type_id, func.max(Checklist.version).label("version"))
        .where(Checklist.region_id == source_id)
        .group_by(Checklist.point_type_id)
        .subquery()
    )
    latest = await session.scalars(
        select(Checklist)
        .join(
            current,
            (Checklist.point_type_id == current.c.point_type_id)
            & (Checklist.version == current.c.version),
        )
        .where(Checklist.region_id == source_id)
    )
    by_id = {t.id: t.code for t in source_types}
    checklists = [
        _checklist(region_id, types[by_id[c.point_type_id]].id, c.items)
        for c in latest
        if c.point_type_id in by_id
    ]

    policies = await session.scalars(
        select(DeadlinePolicy).where(DeadlinePolicy.region_id == source_id)
    )
    for policy in policies:  # replace the defaults the new region was provisioned with
        await session.merge(
            DeadlinePolicy(
                region_id=region_id,
                severity=policy.severity,
                amount=policy.amount,
                unit=policy.unit,
            )
        )
    archive = [
        ArchiveItem(
            region_id=region_id,
            id=uuid.uuid4(),
            category_id=category(a.category_id),
            code=a.code,
            title=a.title,
            description=a.description,
            required=a.required,
        )
        for a in await session.scalars(
            select(ArchiveItem).where(ArchiveItem.region_id == source_id).order_by(ArchiveItem.code)
        )
    ]
    session.add_all([*checklists, *archive])
    await session.flush()
    return TemplateApplied(types, len(checklists), len(archive), 0)


def _checklist(region_id: uuid.UUID, point_type_id: uuid.UUID, items: list[dict]) -> Checklist:
    return Checklist(
        region_id=region_id,
        id=uuid.uuid4(),
        point_type_id=point_type_id,
        version=1,
        items=items,
        max_points=sum(i["points"] for i in items),
    )


async def _national_calendar(session: AsyncSession, region_id: uuid.UUID) -> int:
    rows = [
        {"region_id": region_id, "day": day, "kind": kind, "name": name}
        for day, kind, name in national_calendar()
    ]
    await session.execute(
        insert(CalendarDay).values(rows).on_conflict_do_nothing(index_elements=["region_id", "day"])
    )
    return len(rows)
