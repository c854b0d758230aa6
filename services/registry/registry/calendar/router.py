"""The working calendar: holidays and make-up working days (调休) that deadlines count with.

A date is a working day when it is Monday–Friday and not listed as a `holiday`,
or when it is listed as a `workday` (only weekends can be). Listing a weekend as
a `holiday` is allowed and changes nothing.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, status

from registry.calendar import service
from registry.calendar.schemas import (
    CalendarBulk,
    CalendarDayRead,
    CalendarDayWrite,
)
from shared.auth import AdminUser, CurrentUser
from shared.db import SessionDep
from shared.inputs import Day
from shared.pagination import CursorParam, LimitParam, Page

router = APIRouter(prefix="/v1/calendar", tags=["calendar"])

DayPath = Path(description="The date, `YYYY-MM-DD`.")


@router.get("", response_model=Page[CalendarDayRead])
async def list_calendar(
    session: SessionDep,
    principal: CurrentUser,
    from_date: Day | None = Query(
        None, alias="from", description="First date (default 1 Jan of the current year)."
    ),
    to_date: Day | None = Query(
        None, alias="to", description="Last date, inclusive (default 31 Dec)."
    ),
    limit: LimitParam = 50,
    cursor: CursorParam = None,
) -> Page[CalendarDayRead]:
    """List the listed dates between `from` and `to` in date order; weekends are non-working unless listed as `workday`, listed `holiday` dates are non-working."""
    rows, next_cursor = await service.list_days(
        session,
        region_id=principal.region_id,
        from_date=from_date,
        to_date=to_date,
        cursor=cursor,
        limit=limit,
    )
    return Page(items=[CalendarDayRead.model_validate(r) for r in rows], next_cursor=next_cursor)


@router.put("/{day_date}", response_model=CalendarDayRead)
async def put_calendar_day(
    principal: AdminUser,
    body: CalendarDayWrite,
    session: SessionDep,
    day_date: Annotated[Day, DayPath],
) -> CalendarDayRead:
    """Set one date as `holiday` or `workday` (admin; replaces what was listed); a `workday` must be a Saturday or Sunday (422)."""
    row = await service.put_day(
        session, region_id=principal.region_id, day=day_date, kind=body.kind, name=body.name
    )
    return CalendarDayRead.model_validate(row)


@router.delete("/{day_date}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_calendar_day(
    principal: AdminUser, session: SessionDep, day_date: Annotated[Day, DayPath]
) -> None:
    """Unlist a date (admin), so it follows the ordinary week again; 404 when it was not listed."""
    await service.delete_day(session, region_id=principal.region_id, day=day_date)


@router.post("/bulk", response_model=Page[CalendarDayRead])
async def put_calendar_days(
    principal: AdminUser, body: CalendarBulk, session: SessionDep
) -> Page[CalendarDayRead]:
    """Set up to 1000 dates at once (admin), e.g. a year's holiday notice; all are checked first and one bad date saves nothing (422 naming each)."""
    rows = await service.put_many(session, region_id=principal.region_id, days=body.days)
    return Page(items=[CalendarDayRead.model_validate(r) for r in rows])
