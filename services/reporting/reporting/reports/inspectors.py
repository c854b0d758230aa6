"""The inspectors report (督查员): inspections, cases reported and the weekly quota."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from reporting.report_settings.service import EffectiveSettings
from reporting.reports.days import (
    FACILITY_CTES,
    IS_FACILITY,
    PERSON_FACTS_SQL,
    STORED_PERSON_TOTALS_SQL,
    STORED_PERSON_WEEKS_SQL,
    Quota,
    ensure_days,
    facts,
    midnight,
    whole_days,
)
from reporting.reports.export import Column
from reporting.reports.period import Period
from reporting.reports.sql import fetch, period_params

INSPECTORS_SQL = """
WITH insp AS (
    SELECT i.inspector_id, count(*) AS inspections
    FROM inspections i
    WHERE i.region_id = :rid AND i.validation = 'valid'
      AND i.finished_at >= :s AND i.finished_at < :e
    GROUP BY i.inspector_id
), rep AS (
    SELECT c.reporter_id,
           count(*) AS cases_reported,
           count(*) FILTER (WHERE c.status <> 'cancelled') AS valid_cases
    FROM cases c
    WHERE c.region_id = :rid AND c.reporter_id IS NOT NULL
      AND c.reported_at >= :s AND c.reported_at < :e
    GROUP BY c.reporter_id
)
SELECT p.id AS person_id, p.username, p.display_name,
       coalesce(insp.inspections, 0) AS inspections,
       coalesce(rep.cases_reported, 0) AS cases_reported,
       coalesce(rep.valid_cases, 0) AS valid_cases
FROM people p
LEFT JOIN insp ON insp.inspector_id = p.id
LEFT JOIN rep ON rep.reporter_id = p.id
WHERE p.region_id = :rid AND p.role = 'inspector'
  AND (p.active OR insp.inspector_id IS NOT NULL OR rep.reporter_id IS NOT NULL) {person_filter}
ORDER BY p.display_name, p.id
"""

# Each case reported in the quota weeks, as facility or hygiene (see days.IS_FACILITY).
WEEKS_SQL = f"""
WITH {FACILITY_CTES}
SELECT k.reporter_id,
       (date_trunc('week', k.reported_at AT TIME ZONE :tz))::date AS week_start,
       count(*) FILTER (WHERE k.facility) AS facility,
       count(*) FILTER (WHERE NOT k.facility) AS hygiene
FROM (
    SELECT c.reporter_id, c.reported_at, {IS_FACILITY} AS facility
    FROM cases c
    WHERE c.region_id = :rid AND c.reporter_id IS NOT NULL AND c.status <> 'cancelled'
      AND c.reported_at >= :ws AND c.reported_at < :we {{reporter_filter}}
) AS k
GROUP BY 1, 2
ORDER BY 1, 2
"""


# --- from the daily rollup (reports/days.py) --------------------------------------------

PEOPLE_SQL = """
SELECT p.id AS person_id, p.username, p.display_name, p.active
FROM people p
WHERE p.region_id = :rid AND p.role = 'inspector' {person_filter}
ORDER BY p.display_name, p.id
"""
# The cases cancelled since they were reported (a few: read live), per reporter over the
# period's days (``week_start`` null) and per reporter and week over the quota weeks'.
CANCELLED_SQL = f"""
WITH {FACILITY_CTES}, k AS (
    SELECT c.region_id, c.reporter_id, (c.reported_at AT TIME ZONE :tz)::date AS day,
           c.category_id, c.item_code, c.inspection_id, c.point_type_id
    FROM cases c
    WHERE c.region_id = :rid AND c.status <> 'closed' AND c.status = 'cancelled'
      AND c.reporter_id IS NOT NULL AND c.reported_at >= :s AND c.reported_at < :e
      {{reporter_filter}}
)
SELECT c.reporter_id, NULL::date AS week_start, count(*) AS cancelled, 0 AS facility
FROM k AS c WHERE c.day >= :p0 AND c.day < :p1
GROUP BY 1
UNION ALL
SELECT c.reporter_id, c.day - (extract(isodow FROM c.day)::int - 1), count(*),
       count(*) FILTER (WHERE {IS_FACILITY})
FROM k AS c WHERE c.day >= :w0 AND c.day < :w1
GROUP BY 1, 2
"""


async def inspectors_from_days(
    session: AsyncSession,
    region_id: uuid.UUID,
    period: Period,
    now: datetime,
    days: list[date],
    quota: Quota,
    *,
    person_id: uuid.UUID | None,
    weeks: tuple[date, date],
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """INSPECTORS_SQL's and WEEKS_SQL's rows from the stored days plus the live rest."""
    tz = period.tz
    plan = await ensure_days(session, region_id, tz, days, now, quota)
    person_filter = "AND p.person_id = :person" if person_id is not None else ""
    start, end = period.start.astimezone(tz).date(), period.end.astimezone(tz).date()
    ws, we = weeks
    totals: dict[uuid.UUID, dict[str, int]] = {}
    by_week: dict[tuple[uuid.UUID, date], dict[str, Any]] = {}

    def total_of(person: uuid.UUID) -> dict[str, int]:
        return totals.setdefault(person, {"inspections": 0, "cases_reported": 0, "cancelled": 0})

    def week_of(person: uuid.UUID, monday: date) -> dict[str, Any]:
        return by_week.setdefault(
            (person, monday),
            {"reporter_id": person, "week_start": monday, "facility": 0, "hygiene": 0},
        )

    for row in await fetch(
        session,
        STORED_PERSON_TOTALS_SQL.format(person_filter=person_filter),
        {"rid": region_id, "person": person_id, **plan.stored_range(start, end)},
    ):
        acc = total_of(row["person_id"])
        acc["inspections"] += row["inspections"]
        acc["cases_reported"] += row["cases_reported"]
    for row in await fetch(
        session,
        STORED_PERSON_WEEKS_SQL.format(person_filter=person_filter),
        {"rid": region_id, "person": person_id, **plan.stored_range(ws, we)},
    ):
        week = week_of(row["person_id"], row["week_start"])
        week["facility"] += row["facility"]
        week["hygiene"] += row["hygiene"]
    for row in await facts(session, PERSON_FACTS_SQL, region_id, tz, plan, quota.params()):
        if person_id is not None and row["person_id"] != person_id:
            continue
        if start <= row["day"] < end:
            acc = total_of(row["person_id"])
            acc["inspections"] += row["inspections"]
            acc["cases_reported"] += row["cases_reported"]
        if ws <= row["day"] < we:
            week = week_of(row["person_id"], row["day"] - timedelta(days=row["day"].weekday()))
            week["facility"] += row["facility"]
            week["hygiene"] += row["hygiene"]
    cancelled_sql = CANCELLED_SQL.format(
        reporter_filter="AND c.reporter_id = :person" if person_id is not None else ""
    )
    lo, hi = min(days), max(days) + timedelta(days=1)
    for row in await fetch(
        session,
        cancelled_sql,
        {
            "rid": region_id,
            "tz": tz.key,
            "s": midnight(lo, tz),
            "e": midnight(hi, tz),
            "p0": start,
            "p1": end,
            "w0": ws,
            "w1": we,
            "person": person_id,
            **quota.params(),
        },
    ):
        if row["week_start"] is None:
            total_of(row["reporter_id"])["cancelled"] += row["cancelled"]
        else:
            week = week_of(row["reporter_id"], row["week_start"])
            week["facility"] -= row["facility"]
            week["hygiene"] -= row["cancelled"] - row["facility"]
    people = []
    person_filter = "AND p.id = :person" if person_id is not None else ""
    for person in await fetch(
        session,
        PEOPLE_SQL.format(person_filter=person_filter),
        {"rid": region_id, "person": person_id},
    ):
        acc = totals.get(
            person["person_id"], {"inspections": 0, "cases_reported": 0, "cancelled": 0}
        )
        if not (person["active"] or acc["inspections"] or acc["cases_reported"]):
            continue
        people.append(
            {
                "person_id": person["person_id"],
                "username": person["username"],
                "display_name": person["display_name"],
                "inspections": acc["inspections"],
                "cases_reported": acc["cases_reported"],
                "valid_cases": acc["cases_reported"] - acc["cancelled"],
            }
        )
    return people, sorted(by_week.values(), key=lambda w: (str(w["reporter_id"]), w["week_start"]))


async def inspectors(
    session: AsyncSession,
    region_id: uuid.UUID,
    period: Period,
    now: datetime,
    *,
    person_id: uuid.UUID | None,
    weeks_start: datetime,
    weeks_end: datetime,
    facility_tags: list[str],
    facility_category_codes: list[str],
    rollup: bool = True,
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The people rows and the (reporter, week) facility/hygiene rows of the report: from
    the daily rollup when the period and the quota weeks are whole local days, live
    otherwise (``rollup=False``, as tests compare)."""
    tz = period.tz
    lo, hi = min(period.start, weeks_start), max(period.end, weeks_end)
    days = whole_days(lo, hi, tz) if rollup else None
    if days:
        return await inspectors_from_days(
            session,
            region_id,
            period,
            now,
            days,
            Quota(list(facility_tags), list(facility_category_codes)),
            person_id=person_id,
            weeks=(weeks_start.astimezone(tz).date(), weeks_end.astimezone(tz).date()),
        )
    params = period_params(
        region_id,
        period,
        now,
        ws=weeks_start,
        we=weeks_end,
        fac_tags=list(facility_tags),
        fac_cats=list(facility_category_codes),
    )
    person_filter = reporter_filter = ""
    if person_id is not None:
        params["person"] = person_id
        person_filter, reporter_filter = "AND p.id = :person", "AND c.reporter_id = :person"
    people = await fetch(session, INSPECTORS_SQL.format(person_filter=person_filter), params)
    weeks = await fetch(session, WEEKS_SQL.format(reporter_filter=reporter_filter), params)
    return people, weeks


def quota_weeks(period: Period, now: datetime) -> list[date]:
    """Mondays (local) of the weeks counted for the quota: those starting inside the period."""
    first = period.start.astimezone(period.tz).date()
    last = (period.end - timedelta(microseconds=1)).astimezone(period.tz).date()
    monday = first + timedelta(days=(7 - first.weekday()) % 7)
    weeks = []
    while monday <= last:
        weeks.append(monday)
        monday += timedelta(days=7)
    return weeks


def local_midnight(day: date, period: Period) -> datetime:
    return datetime.combine(day, time(0), tzinfo=period.tz).astimezone(UTC)


async def inspectors_report(
    session: AsyncSession,
    region_id: uuid.UUID,
    period: Period,
    now: datetime,
    settings: EffectiveSettings,
    *,
    person_id: uuid.UUID | None,
    rollup: bool = True,
) -> list[dict[str, Any]]:
    quota = settings.inspector_quota
    weeks = quota_weeks(period, now)
    start = local_midnight(weeks[0], period) if weeks else period.start
    end = local_midnight(weeks[-1] + timedelta(days=7), period) if weeks else period.start
    people, week_rows = await inspectors(
        session,
        region_id,
        period,
        now,
        person_id=person_id,
        weeks_start=start,
        weeks_end=end,
        facility_tags=quota["facility_tags"],
        facility_category_codes=quota["facility_category_codes"],
        rollup=rollup,
    )
    counts = {(r["reporter_id"], r["week_start"]): r for r in week_rows}
    # Once per week, not per person and week (three years: 156 weeks × every inspector).
    ended = {m: local_midnight(m + timedelta(days=7), period) <= now for m in weeks}
    items = []
    for person in people:
        detail = []
        for monday in weeks:
            found = counts.get((person["person_id"], monday), {})
            facility, hygiene = found.get("facility", 0), found.get("hygiene", 0)
            detail.append(
                {
                    "week_start_date": monday,
                    "facility": facility,
                    "hygiene": hygiene,
                    "met": facility >= quota["facility"] and hygiene >= quota["hygiene"],
                    "complete": ended[monday],
                }
            )
        complete = [w for w in detail if w["complete"]]
        items.append(
            {
                **person,
                "weeks": len(detail),
                "weeks_complete": len(complete),
                "weeks_met": sum(1 for w in complete if w["met"]),
                "quota_met": all(w["met"] for w in complete) if complete else None,
                "weekly": detail,
            }
        )
    return items


INSPECTOR_COLUMNS = [
    Column("person_id", "Person ID", "人员ID"),
    Column("username", "Username", "账号"),
    Column("display_name", "Name", "姓名"),
    Column("inspections", "Inspections", "检查次数"),
    Column("cases_reported", "Cases reported", "上报数"),
    Column("valid_cases", "Valid cases", "有效上报数"),
    Column("weeks", "Weeks", "考核周数"),
    Column("weeks_complete", "Weeks complete", "已结束周数"),
    Column("weeks_met", "Weeks quota met", "达标周数"),
    Column("quota_met", "Quota met", "是否达标"),
]
