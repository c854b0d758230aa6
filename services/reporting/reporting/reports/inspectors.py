"""The inspectors report (督查员): inspections, cases reported and the weekly quota."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from reporting.report_settings.service import EffectiveSettings
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

# A case is a facility case when its checklist item carries one of the facility
# tags, or its category is one of the facility categories; otherwise hygiene.
WEEKS_SQL = """
WITH fac_items AS MATERIALIZED (
    -- The facility-tagged items of every checklist version, expanded once per request.
    SELECT ch.point_type_id, ch.version, it ->> 'code' AS code
    FROM checklists ch,
         jsonb_array_elements(
             CASE WHEN jsonb_typeof(ch.items) = 'array' THEN ch.items ELSE '[]'::jsonb END
         ) AS it
    WHERE ch.region_id = :rid
      AND jsonb_typeof(it -> 'tags') = 'array'
      AND jsonb_exists_any(it -> 'tags', CAST(:fac_tags AS text[]))
), fac_cats AS MATERIALIZED (
    SELECT cat.id FROM categories cat
    WHERE cat.region_id = :rid AND cat.code = ANY(CAST(:fac_cats AS text[]))
)
SELECT k.reporter_id,
       (date_trunc('week', k.reported_at AT TIME ZONE :tz))::date AS week_start,
       count(*) FILTER (WHERE k.facility) AS facility,
       count(*) FILTER (WHERE NOT k.facility) AS hygiene
FROM (
    SELECT c.reporter_id, c.reported_at,
           (coalesce(c.category_id IN (SELECT id FROM fac_cats), false)
            OR (coalesce(c.item_code IN (SELECT code FROM fac_items), false) AND EXISTS (
                SELECT 1
                FROM inspections i
                JOIN fac_items f ON f.point_type_id = coalesce(i.point_type_id, c.point_type_id)
                     AND f.version = i.checklist_version
                WHERE i.region_id = c.region_id AND i.id = c.inspection_id
                  AND f.code = c.item_code
            ))) AS facility
    FROM cases c
    WHERE c.region_id = :rid AND c.reporter_id IS NOT NULL AND c.status <> 'cancelled'
      AND c.reported_at >= :ws AND c.reported_at < :we {reporter_filter}
) AS k
GROUP BY 1, 2
ORDER BY 1, 2
"""


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
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
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
    )
    counts = {(r["reporter_id"], r["week_start"]): r for r in week_rows}
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
                    "complete": local_midnight(monday + timedelta(days=7), period) <= now,
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
