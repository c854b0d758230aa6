"""The region's calendar. Weekends are non-working unless listed as ``workday`` (调休);
listed ``holiday`` dates are non-working; every other date is a working day."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from zoneinfo import ZoneInfo

from sqlalchemy import delete, func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from registry.calendar.schemas import CalendarDayItem
from shared import clock
from shared.audit import record_change
from shared.errors import NotFound, Unprocessable
from shared.listing import keyset_page
from shared.models import CalendarDay, Region


async def default_range(session: AsyncSession, region_id: uuid.UUID) -> tuple[dt.date, dt.date]:
    """The current year in the region's time zone."""
    timezone = await session.scalar(select(Region.timezone).where(Region.id == region_id))
    year = clock.now().astimezone(ZoneInfo(timezone or "Asia/Shanghai")).year
    return dt.date(year, 1, 1), dt.date(year, 12, 31)


async def list_days(
    session: AsyncSession,
    *,
    region_id: uuid.UUID,
    from_date: dt.date | None,
    to_date: dt.date | None,
    cursor: str | None,
    limit: int,
) -> tuple[list[CalendarDay], str | None]:
    if from_date is None or to_date is None:
        first, last = await default_range(session, region_id)
        from_date, to_date = from_date or first, to_date or last
    if from_date > to_date:
        raise Unprocessable(
            "`from` must not be after `to`.",
            errors=[{"loc": ["query", "to"], "msg": "before `from`"}],
        )
    stmt = select(CalendarDay).where(
        CalendarDay.region_id == region_id,
        CalendarDay.day >= from_date,
        CalendarDay.day <= to_date,
    )
    return await keyset_page(session, stmt, order_by=[CalendarDay.day], cursor=cursor, limit=limit)


def check_day(day: dt.date, kind: str, loc: list) -> list[dict]:
    if kind == "workday" and day.weekday() < 5:
        return [{"loc": loc, "msg": "a make-up workday must be a Saturday or Sunday"}]
    return []


async def upsert_days(
    session: AsyncSession, *, region_id: uuid.UUID, days: Sequence[CalendarDayItem]
) -> list[CalendarDay]:
    before = {
        row.day: {"kind": row.kind, "name": row.name}
        for row in await session.scalars(
            select(CalendarDay).where(
                CalendarDay.region_id == region_id, CalendarDay.day.in_([d.date for d in days])
            )
        )
    }
    for d in days:
        record_change(
            session,
            region_id=region_id,
            record_type="calendar_days",
            record_id=d.date.isoformat(),
            before=before.get(d.date),
            after={"kind": d.kind, "name": d.name},
        )
    stmt = insert(CalendarDay).values(
        [{"region_id": region_id, "day": d.date, "kind": d.kind, "name": d.name} for d in days]
    )
    stmt = stmt.on_conflict_do_update(
        index_elements=[CalendarDay.region_id, CalendarDay.day],
        set_={"kind": stmt.excluded.kind, "name": stmt.excluded.name, "updated_at": func.now()},
    ).returning(CalendarDay)
    rows = await session.scalars(stmt, execution_options={"populate_existing": True})
    return sorted(rows, key=lambda r: r.day)


async def put_day(
    session: AsyncSession, *, region_id: uuid.UUID, day: dt.date, kind: str, name: str
) -> CalendarDay:
    errors = check_day(day, kind, ["body", "kind"])
    if errors:
        raise Unprocessable("Only a weekend day can be a make-up workday.", errors=errors)
    (row,) = await upsert_days(
        session, region_id=region_id, days=[CalendarDayItem(date=day, kind=kind, name=name)]
    )
    return row


async def put_many(
    session: AsyncSession, *, region_id: uuid.UUID, days: Sequence[CalendarDayItem]
) -> list[CalendarDay]:
    errors: list[dict] = []
    seen: set[dt.date] = set()
    for index, item in enumerate(days):
        if item.date in seen:
            errors.append({"loc": ["body", "days", index, "date"], "msg": "listed twice"})
        seen.add(item.date)
        errors += check_day(item.date, item.kind, ["body", "days", index, "kind"])
    if errors:
        raise Unprocessable("Some days are not valid; nothing was saved.", errors=errors)
    return await upsert_days(session, region_id=region_id, days=days)


async def delete_day(session: AsyncSession, *, region_id: uuid.UUID, day: dt.date) -> None:
    deleted = (
        await session.execute(
            delete(CalendarDay)
            .where(CalendarDay.region_id == region_id, CalendarDay.day == day)
            .returning(CalendarDay.kind, CalendarDay.name)
        )
    ).first()
    if deleted is None:
        raise NotFound("That date is not listed in the calendar.")
    record_change(
        session,
        region_id=region_id,
        record_type="calendar_days",
        record_id=day.isoformat(),
        before={"kind": deleted.kind, "name": deleted.name},
        after=None,
    )
