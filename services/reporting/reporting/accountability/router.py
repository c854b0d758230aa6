"""Accountability: rule runs, notices and their acknowledgement, and the red/black list."""

from __future__ import annotations

import uuid
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Header, Query
from sqlalchemy import Select, select

from reporting.accountability import service
from reporting.accountability.schemas import NoticeRead, RunCreate, RunRead, RunResult
from reporting.reports.access import UnitsReader, region_timezone
from reporting.reports.export import EXPORT_RESPONSES, Column, Format, render, report_title
from reporting.reports.period import parse_month
from shared import clock
from shared.auth import AdminUser, CurrentUser, Principal, require_roles
from shared.db import SessionDep
from shared.errors import Conflict, Forbidden, NotFound
from shared.listing import keyset_page
from shared.models import AccountabilityRun, BlacklistEntry, Notice
from shared.pagination import DEFAULT_LIMIT, CursorParam, LimitParam, Page

router = APIRouter(tags=["accountability"])

RULES = (service.__doc__ or "").split("\n\n", 1)[1]
LeaderOrAdmin = Annotated[Principal, Depends(require_roles("admin", "leader"))]


@router.post(
    "/v1/accountability/runs",
    status_code=201,
    response_model=RunResult,
    description=(
        "Apply the accountability rules to one month (admin). Records the month's red and "
        "black list entries and the notices, and answers the run with both lists and every "
        "notice of the month. Running a month again creates no duplicate notices "
        "(`notices_created` counts only new ones). The service also runs the rules itself "
        "once a day for the last complete month (see README / REPORTING_DAILY_RUN_HOUR). "
        "Only a month that has ended can be run: lists drawn from part of a month would "
        "black-list units on figures that are still moving, so the current or a future "
        "month is refused (409).\n\n" + RULES
    ),
)
async def create_run(body: RunCreate, principal: AdminUser, session: SessionDep) -> Any:
    """Apply the accountability rules to a month and record lists and notices."""
    now = clock.now()
    tz = await region_timezone(session, principal.region_id)
    period = parse_month(body.period, tz, loc="period")
    if period.end > now:
        raise Conflict(
            f"The month {body.period} has not ended yet; run it once it has.",
            extra={"period_ends_at": period.end.isoformat()},
        )
    await service.lock_region(session, principal.region_id, wait=True)
    run, black, red = await service.apply_rules(
        session,
        principal.region_id,
        body.period,
        tz,
        trigger="manual",
        actor_id=principal.person_id,
        now=now,
    )
    notices = await service.notices_of_period(session, principal.region_id, body.period)
    return {
        **RunRead.model_validate(run).model_dump(),
        "black": [service.list_row(r, "black") for r in black],
        "red": [service.list_row(r, "red") for r in red],
        "notices": notices,
    }


@router.get("/v1/accountability/runs", response_model=Page[RunRead])
async def list_runs(
    principal: LeaderOrAdmin,
    session: SessionDep,
    period: Annotated[str | None, Query(description="Only runs of this month.")] = None,
    limit: LimitParam = DEFAULT_LIMIT,
    cursor: CursorParam = None,
) -> Any:
    """Runs of the accountability rules (manual and daily), oldest first (admin, leader)."""
    stmt = select(AccountabilityRun).where(AccountabilityRun.region_id == principal.region_id)
    if period is not None:
        stmt = stmt.where(AccountabilityRun.period == period)
    rows, next_cursor = await keyset_page(
        session,
        stmt,
        order_by=[AccountabilityRun.started_at, AccountabilityRun.id],
        cursor=cursor,
        limit=limit,
    )
    return {"items": rows, "next_cursor": next_cursor}


def _visible(stmt: Select, principal: Principal) -> Select:
    """admin/leader: the region's notices; unit accounts: their unit's; others: their own."""
    stmt = stmt.where(Notice.region_id == principal.region_id)
    if principal.role in ("admin", "leader"):
        return stmt
    if principal.role == "unit":
        return stmt.where(Notice.unit_id == principal.unit_id)
    return stmt.where(Notice.person_id == principal.person_id)


@router.get(
    "/v1/accountability/notices",
    response_model=Page[NoticeRead],
    description=(
        "Notices (通报 `notice`, 约谈 `interview`, 问责 `accountability`), oldest first. "
        "admin and leader see the region's; a unit account sees its unit's; anyone else "
        "only notices addressed to them. Filters: `period`, `level`, `unit_id`, "
        "`acknowledged`."
    ),
)
async def list_notices(
    principal: CurrentUser,
    session: SessionDep,
    period: Annotated[str | None, Query(pattern=r"^\d{4}-(0[1-9]|1[0-2])$")] = None,
    level: Literal["notice", "interview", "accountability"] | None = None,
    unit_id: uuid.UUID | None = None,
    acknowledged: bool | None = None,
    limit: LimitParam = DEFAULT_LIMIT,
    cursor: CursorParam = None,
) -> Any:
    """Accountability notices visible to the caller, with filters."""
    stmt = _visible(select(Notice), principal)
    if period is not None:
        stmt = stmt.where(Notice.period == period)
    if level is not None:
        stmt = stmt.where(Notice.level == level)
    if unit_id is not None:
        stmt = stmt.where(Notice.unit_id == unit_id)
    if acknowledged is not None:
        stmt = stmt.where(
            Notice.acknowledged_at.is_not(None)
            if acknowledged
            else Notice.acknowledged_at.is_(None)
        )
    rows, next_cursor = await keyset_page(
        session, stmt, order_by=[Notice.created_at, Notice.id], cursor=cursor, limit=limit
    )
    return {"items": rows, "next_cursor": next_cursor}


@router.get("/v1/accountability/notices/{notice_id}", response_model=NoticeRead)
async def get_notice(notice_id: uuid.UUID, principal: CurrentUser, session: SessionDep) -> Any:
    """One notice, if the caller may see it (404 otherwise)."""
    notice = await session.scalar(_visible(select(Notice), principal).where(Notice.id == notice_id))
    if notice is None:
        raise NotFound("No such notice.")
    return notice


@router.post(
    "/v1/accountability/notices/{notice_id}/acknowledge",
    response_model=NoticeRead,
    description=(
        "The addressed unit (any account of that unit) or person acknowledges the notice. "
        "Acknowledging again answers 200 and keeps the first `acknowledged_at`. "
        "Another unit gets 404; admin and leader get 403 (they do not acknowledge for a unit)."
    ),
)
async def acknowledge_notice(
    notice_id: uuid.UUID, principal: CurrentUser, session: SessionDep
) -> Any:
    """Acknowledge a notice addressed to the caller's unit (or to the caller)."""
    notice = await session.scalar(
        _visible(select(Notice), principal).where(Notice.id == notice_id).with_for_update()
    )
    if notice is None:
        raise NotFound("No such notice.")
    addressed = (principal.role == "unit" and notice.unit_id == principal.unit_id) or (
        notice.person_id is not None and notice.person_id == principal.person_id
    )
    if not addressed:
        raise Forbidden("Only the unit or person the notice is addressed to acknowledges it.")
    if notice.acknowledged_at is None:
        notice.acknowledged_at = clock.now()
        notice.acknowledged_by = principal.person_id
        await session.flush()
    return notice


RED_BLACK_COLUMNS = [
    Column("list", "List", "榜单"),
    Column("unit_id", "Unit ID", "单位ID"),
    Column("unit_code", "Unit code", "单位编码"),
    Column("unit_name", "Unit", "责任单位"),
    Column("due", "Due", "应结案数"),
    Column("closed", "Closed", "结案数"),
    Column("closed_on_time", "Closed on time", "按期结案数"),
    Column("on_time_rate", "On-time rate", "按期结案率"),
    Column("score", "Score", "综合得分"),
    Column("grade", "Grade", "等级"),
    Column("rank", "Rank", "排名"),
]


@router.get(
    "/v1/reports/red-black-list",
    responses=EXPORT_RESPONSES,
    tags=["reports"],
    description=(
        "The month's red list (红榜) and black list (黑榜), computed from the units report "
        "with the accountability rules in force (`/v1/accountability/rules`): black = "
        "`on_time_rate` below `black_on_time_rate_below` (default 80%); red = `on_time_rate` "
        "at least `red_on_time_rate_at_least` (default 95%) and a grade in `red_grades` "
        "(default A). The black list takes units with `due ≥ min_due` (a field of the rules, "
        "default 1, so a unit late on both of its two cases is listed); the red list units "
        "with `due ≥ min_cases` (the ranking's floor). `month` defaults to the current "
        "month in the region's time zone. `recorded` tells whether a run has stored the "
        "entry. A unit account sees only its own entry. `?format=csv|xlsx` exports the rows "
        "(rate as value; Chinese headings for `Accept-Language: zh*`)."
    ),
)
async def red_black_list(
    reader: UnitsReader,
    session: SessionDep,
    month: Annotated[str | None, Query(description="YYYY-MM; default the current month.")] = None,
    fmt: Annotated[Format, Query(alias="format")] = "json",
    language: Annotated[str | None, Header(alias="Accept-Language")] = None,
) -> Any:
    """The month's red and black lists of units."""
    now = clock.now()
    if month is None:
        local = now.astimezone(reader.tz)
        month = f"{local.year:04d}-{local.month:02d}"
    period = parse_month(month, reader.tz)
    black, red, settings = await service.red_black(session, reader.region_id, month, reader.tz, now)
    recorded = {
        (row.unit_id, row.list)
        for row in await session.execute(
            select(BlacklistEntry.unit_id, BlacklistEntry.list).where(
                BlacklistEntry.region_id == reader.region_id, BlacklistEntry.period == month
            )
        )
    }
    rows = [service.list_row(r, "red") for r in red] + [service.list_row(r, "black") for r in black]
    if reader.own_unit is not None:
        rows = [r for r in rows if r["unit_id"] == reader.own_unit]
    for row in rows:
        row["recorded"] = (row["unit_id"], row["list"]) in recorded
    if fmt != "json":
        flat = [{**r, "on_time_rate": r["on_time_rate"]["value"]} for r in rows]
        return render(
            fmt,
            columns=RED_BLACK_COLUMNS,
            rows=flat,
            accept_language=language,
            filename=f"red-black-list-{month}",
            title=report_title(
                "red-black-list", reader.region_name, period.start, period.end, reader.tz
            ),
            tz=reader.tz,
            sheet="red-black-list",
        )
    rules = settings.accountability_rules
    return {
        "period": period.describe(),
        "generated_at": now.isoformat(),
        "month": month,
        "rules": {
            "black_on_time_rate_below": rules["black_on_time_rate_below"],
            "min_due": rules["min_due"],
            "red_on_time_rate_at_least": rules["red_on_time_rate_at_least"],
            "red_grades": rules["red_grades"],
            "min_cases": settings.min_cases,
        },
        "red": [r for r in rows if r["list"] == "red"],
        "black": [r for r in rows if r["list"] == "black"],
    }
