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
# The stored person days per person and week, one row per person with its weeks as
# arrays: over three years 120 inspectors × 156 weeks as rows cost more in Python than in
# SQL (each row is a Python object; an array comes out of the driver in one piece).
STORED_WEEKS_SQL = f"""
SELECT w.person_id, array_agg(w.week_start) AS mondays,
       array_agg(w.facility) AS facility, array_agg(w.hygiene) AS hygiene
FROM ({STORED_PERSON_WEEKS_SQL}) AS w
GROUP BY 1
"""
# The cases cancelled since they were reported (read live: a status that can change), per
# reporter in one pass: those of the period, and per quota week those cancelled and those
# of them that were facility cases, as arrays (``weeks``: 1 for the first quota week…).
# A case's week is found among the weeks' local-midnight bounds (``:bounds``, the first
# Monday's … the end's) by ``width_bucket``'s binary search, and the period by its bounds:
# a time-zone conversion per cancelled case cost four times as much.
# (``status = 'cancelled'`` alone: the planner reads the unclosed cases' index all the same
# and estimates the rows right — with ``<> 'closed'`` too it expected 20 times fewer.)
CANCELLED_SQL = f"""
WITH {FACILITY_CTES}
SELECT w.reporter_id, sum(w.in_period)::bigint AS cancelled,
       array_agg(w.week) FILTER (WHERE w.week BETWEEN 1 AND :weeks) AS weeks,
       array_agg(w.cancelled) FILTER (WHERE w.week BETWEEN 1 AND :weeks) AS weekly,
       array_agg(w.facility) FILTER (WHERE w.week BETWEEN 1 AND :weeks) AS facility
FROM (
    SELECT c.reporter_id, width_bucket(c.reported_at, CAST(:bounds AS timestamptz[])) AS week,
           count(*) FILTER (WHERE c.reported_at >= :ps AND c.reported_at < :pe) AS in_period,
           count(*) AS cancelled,
           count(*) FILTER (WHERE {IS_FACILITY}) AS facility
    FROM cases c
    WHERE c.region_id = :rid AND c.status = 'cancelled'
      AND c.reporter_id IS NOT NULL AND c.reported_at >= :s AND c.reported_at < :e
      {{reporter_filter}}
    GROUP BY 1, 2
) AS w
GROUP BY 1
"""

# (person, Monday) → [facility, hygiene]: the valid cases a person reported in a quota week.
WeekCounts = dict[tuple[uuid.UUID, date], list[int]]


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
) -> tuple[list[dict[str, Any]], WeekCounts]:
    """INSPECTORS_SQL's and WEEKS_SQL's figures from the stored days plus the live rest."""
    tz = period.tz
    plan = await ensure_days(session, region_id, tz, days, now, quota)
    person_filter = "AND p.person_id = :person" if person_id is not None else ""
    start, end = period.start.astimezone(tz).date(), period.end.astimezone(tz).date()
    ws, we = weeks
    totals: dict[uuid.UUID, dict[str, int]] = {}
    by_week: WeekCounts = {}

    def total_of(person: uuid.UUID) -> dict[str, int]:
        return totals.setdefault(person, {"inspections": 0, "cases_reported": 0, "cancelled": 0})

    def week_of(person: uuid.UUID, monday: date) -> list[int]:
        return by_week.setdefault((person, monday), [0, 0])

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
        STORED_WEEKS_SQL.format(person_filter=person_filter),
        {"rid": region_id, "person": person_id, **plan.stored_range(ws, we)},
    ):
        person = row["person_id"]
        for monday, facility, hygiene in zip(
            row["mondays"], row["facility"], row["hygiene"], strict=True
        ):
            week = week_of(person, monday)
            week[0] += facility
            week[1] += hygiene
    for row in await facts(session, PERSON_FACTS_SQL, region_id, tz, plan, quota.params()):
        if person_id is not None and row["person_id"] != person_id:
            continue
        if start <= row["day"] < end:
            acc = total_of(row["person_id"])
            acc["inspections"] += row["inspections"]
            acc["cases_reported"] += row["cases_reported"]
        if ws <= row["day"] < we:
            week = week_of(row["person_id"], row["day"] - timedelta(days=row["day"].weekday()))
            week[0] += row["facility"]
            week[1] += row["hygiene"]
    cancelled_sql = CANCELLED_SQL.format(
        reporter_filter="AND c.reporter_id = :person" if person_id is not None else ""
    )
    lo, hi = min(days), max(days) + timedelta(days=1)
    mondays = [ws + timedelta(days=7 * n) for n in range((we - ws).days // 7)]
    for row in await fetch(
        session,
        cancelled_sql,
        {
            "rid": region_id,
            "s": midnight(lo, tz),
            "e": midnight(hi, tz),
            "ps": midnight(start, tz),
            "pe": midnight(end, tz),
            "bounds": [midnight(monday, tz) for monday in [*mondays, we]],
            "weeks": len(mondays),
            "person": person_id,
            **quota.params(),
        },
    ):
        person = row["reporter_id"]
        total_of(person)["cancelled"] += row["cancelled"]
        for week_number, cancelled, facility in zip(
            row["weeks"] or (), row["weekly"] or (), row["facility"] or (), strict=True
        ):
            week = week_of(person, mondays[week_number - 1])
            week[0] -= facility
            week[1] -= cancelled - facility
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
    return people, by_week


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
) -> tuple[list[dict[str, Any]], WeekCounts]:
    """The people rows and the (reporter, week) facility/hygiene counts of the report: from
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
    return people, {
        (w["reporter_id"], w["week_start"]): [w["facility"], w["hygiene"]] for w in weeks
    }


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
    people, counts = await inspectors(
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
    # Once per week, not per person and week (three years: 156 weeks × every inspector).
    ended = [local_midnight(m + timedelta(days=7), period) <= now for m in weeks]
    need_facility, need_hygiene = quota["facility"], quota["hygiene"]
    none = (0, 0)
    items = []
    for person in people:
        detail = []
        weeks_complete = weeks_met = 0
        for monday, complete in zip(weeks, ended, strict=True):
            facility, hygiene = counts.get((person["person_id"], monday), none)
            met = facility >= need_facility and hygiene >= need_hygiene
            detail.append(
                {
                    "week_start_date": monday,
                    "facility": facility,
                    "hygiene": hygiene,
                    "met": met,
                    "complete": complete,
                }
            )
            if complete:
                weeks_complete += 1
                weeks_met += met
        items.append(
            {
                **person,
                "weeks": len(detail),
                "weeks_complete": weeks_complete,
                "weeks_met": weeks_met,
                "quota_met": weeks_met == weeks_complete if weeks_complete else None,
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
