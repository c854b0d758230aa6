"""Read-only SQL over the registry and inspections tables; every figure is a GROUP BY / FILTER.

Every statement is confined to one region by ``:rid``; unit accounts add a
unit condition. No statement here writes.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from reporting.reports.period import Period
from reporting.reports.sql import CLOSED, CLOSED_ON_TIME, DUE, OPEN, OVERDUE

OPEN_STATUSES = "('reported', 'assigned', 'returned', 'rectified')"


def _params(region_id: uuid.UUID, period: Period, now: datetime, **extra: Any) -> dict[str, Any]:
    return {
        "rid": region_id,
        "s": period.start,
        "e": period.end,
        "asof": period.as_of(now),
        "now": now,
        "tz": period.tz.key,
        **extra,
    }


async def _rows(session: AsyncSession, sql: str, params: dict[str, Any]) -> list[dict[str, Any]]:
    result = await session.execute(text(sql), params)
    return [dict(row) for row in result.mappings()]


# --- units -----------------------------------------------------------------------------

# Cases that can count in a unit's state figures (open, overdue, due, closed): unclosed,
# closed at or after the period's start (or as-of, if sooner), or due from the start on.
# Every FILTER of ``st`` implies it; it only spares the cases closed long before.
UNIT_CANDIDATE = (
    "(c.closed_at IS NULL"
    " OR c.closed_at >= least(CAST(:s AS timestamptz), CAST(:asof AS timestamptz))"
    " OR c.due_at >= :s)"
)

UNITS_SQL = f"""
WITH ev AS (
    SELECT coalesce(e.unit_id, c.unit_id) AS unit_id,
           count(DISTINCT e.case_id) FILTER (WHERE e.action = 'dispatch') AS assigned,
           count(*) FILTER (WHERE e.action = 'rectify') AS rectified,
           count(*) FILTER (WHERE e.action = 'rectify' AND e.at <= c.due_at) AS rectified_on_time,
           count(*) FILTER (WHERE e.action = 'rectify' AND (c.due_at IS NULL OR e.at > c.due_at))
               AS rectified_late,
           count(*) FILTER (WHERE e.action = 'reject') AS rework,
           count(*) FILTER (WHERE e.action = 'return') AS returned,
           count(*) FILTER (WHERE e.action = 'extend') AS extended,
           count(*) FILTER (WHERE e.action = 'park') AS parked
    FROM case_events e
    JOIN cases c ON c.region_id = e.region_id AND c.id = e.case_id
    WHERE e.region_id = :rid AND e.at >= :s AND e.at < :e
      AND e.action IN ('dispatch', 'rectify', 'reject', 'return', 'extend', 'park')
      AND c.status <> 'cancelled'
    GROUP BY 1
), st AS (
    SELECT c.unit_id,
           count(*) FILTER (WHERE {OPEN}) AS open,
           count(*) FILTER (WHERE {OVERDUE}) AS overdue_open,
           count(*) FILTER (WHERE {DUE}) AS due,
           count(*) FILTER (WHERE {CLOSED}) AS closed,
           count(*) FILTER (WHERE {CLOSED_ON_TIME}) AS closed_on_time,
           coalesce(array_agg(c.id ORDER BY c.due_at, c.id)
               FILTER (WHERE {DUE} AND NOT {CLOSED_ON_TIME}), '{{}}') AS late_case_ids
    FROM cases c
    WHERE c.region_id = :rid AND c.unit_id IS NOT NULL AND c.status <> 'cancelled'
      AND {UNIT_CANDIDATE}
    GROUP BY 1
)
SELECT u.id AS unit_id, u.code AS unit_code, u.name AS unit_name,
       coalesce(ev.assigned, 0) AS assigned,
       coalesce(ev.rectified, 0) AS rectified,
       coalesce(ev.rectified_on_time, 0) AS rectified_on_time,
       coalesce(ev.rectified_late, 0) AS rectified_late,
       coalesce(st.open, 0) AS open,
       coalesce(st.overdue_open, 0) AS overdue_open,
       coalesce(ev.rework, 0) AS rework,
       coalesce(ev.returned, 0) AS returned,
       coalesce(ev.extended, 0) AS extended,
       coalesce(ev.parked, 0) AS parked,
       coalesce(st.closed, 0) AS closed,
       coalesce(st.closed_on_time, 0) AS closed_on_time,
       coalesce(st.due, 0) AS due,
       coalesce(st.late_case_ids, '{{}}') AS late_case_ids
FROM units u
LEFT JOIN ev ON ev.unit_id = u.id
LEFT JOIN st ON st.unit_id = u.id
WHERE u.region_id = :rid
  AND (u.deleted_at IS NULL OR ev.unit_id IS NOT NULL OR st.unit_id IS NOT NULL)
ORDER BY u.code, u.id
"""


async def unit_figures(
    session: AsyncSession, region_id: uuid.UUID, period: Period, now: datetime
) -> list[dict[str, Any]]:
    """Per unit of the region, the counters of the units report (all units: ranks need them)."""
    return await _rows(session, UNITS_SQL, _params(region_id, period, now))


# --- coverage --------------------------------------------------------------------------

COVERAGE_CTE = """
WITH insp AS (
    SELECT i.sample_point_id,
           count(*) FILTER (WHERE i.finished_at >= :s) AS inspections,
           max(i.finished_at) AS last_inspected_at
    FROM inspections i
    WHERE i.region_id = :rid AND i.validation = 'valid' AND i.finished_at < :asof
    GROUP BY i.sample_point_id
), latest AS (
    SELECT DISTINCT ON (i.sample_point_id) i.sample_point_id, i.score, i.passed
    FROM inspections i
    WHERE i.region_id = :rid AND i.validation = 'valid' AND i.finished_at < :asof
    ORDER BY i.sample_point_id, i.finished_at DESC, i.id DESC
), open_cases AS (
    SELECT c.sample_point_id, count(*) AS open_cases
    FROM cases c
    WHERE c.region_id = :rid AND c.sample_point_id IS NOT NULL
      AND c.status IN ('reported', 'assigned', 'returned', 'rectified')
    GROUP BY c.sample_point_id
), pts AS (
    SELECT sp.id AS sample_point_id, sp.code, sp.name, sp.address,
           sp.unit_id, u.name AS unit_name,
           sp.division_id AS grid_id, d.code AS grid_code, d.name AS grid_name,
           sp.point_type_id, pt.name AS point_type_name, pt.visit_every_days,
           coalesce(insp.inspections, 0) AS inspections,
           insp.last_inspected_at,
           insp.last_inspected_at + make_interval(days => pt.visit_every_days) AS next_due_at,
           latest.score AS latest_score, latest.passed AS latest_passed,
           coalesce(open_cases.open_cases, 0) AS open_cases
    FROM sample_points sp
    JOIN point_types pt ON pt.region_id = sp.region_id AND pt.id = sp.point_type_id
    JOIN divisions d ON d.region_id = sp.region_id AND d.id = sp.division_id
    LEFT JOIN units u ON u.region_id = sp.region_id AND u.id = sp.unit_id
    LEFT JOIN insp ON insp.sample_point_id = sp.id
    LEFT JOIN latest ON latest.sample_point_id = sp.id
    LEFT JOIN open_cases ON open_cases.sample_point_id = sp.id
    WHERE sp.region_id = :rid AND sp.status = 'active' AND sp.deleted_at IS NULL {unit_filter}
)
"""
BLIND = "(next_due_at IS NULL OR next_due_at < :asof)"


async def coverage(
    session: AsyncSession,
    region_id: uuid.UUID,
    period: Period,
    now: datetime,
    *,
    unit_id: uuid.UUID | None,
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    params = _params(region_id, period, now)
    unit_filter = ""
    if unit_id is not None:
        unit_filter, params["unit"] = "AND sp.unit_id = :unit", unit_id
    cte = COVERAGE_CTE.format(unit_filter=unit_filter)
    points = await _rows(
        session,
        cte + f"SELECT pts.*, {BLIND} AS blind_spot FROM pts ORDER BY code, sample_point_id",
        params,
    )
    grids = await _rows(
        session,
        cte
        + f"""SELECT grid_id, grid_code, grid_name, count(*) AS points,
                     count(*) FILTER (WHERE NOT {BLIND}) AS visited_on_time,
                     count(*) FILTER (WHERE {BLIND}) AS blind_spots
              FROM pts GROUP BY grid_id, grid_code, grid_name ORDER BY grid_code, grid_id""",
        params,
    )
    return points, grids


# --- inspectors ------------------------------------------------------------------------

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
SELECT k.reporter_id,
       (date_trunc('week', k.reported_at AT TIME ZONE :tz))::date AS week_start,
       count(*) FILTER (WHERE k.facility) AS facility,
       count(*) FILTER (WHERE NOT k.facility) AS hygiene
FROM (
    SELECT c.reporter_id, c.reported_at,
           (coalesce(cat.code = ANY(CAST(:fac_cats AS text[])), false)
            OR EXISTS (
                SELECT 1 FROM jsonb_array_elements(
                    CASE WHEN jsonb_typeof(ch.items) = 'array' THEN ch.items ELSE '[]'::jsonb END
                ) AS it
                WHERE it ->> 'code' = c.item_code
                  AND jsonb_typeof(it -> 'tags') = 'array'
                  AND jsonb_exists_any(it -> 'tags', CAST(:fac_tags AS text[]))
            )) AS facility
    FROM cases c
    LEFT JOIN inspections i ON i.region_id = c.region_id AND i.id = c.inspection_id
    LEFT JOIN checklists ch ON ch.region_id = c.region_id
         AND ch.point_type_id = coalesce(i.point_type_id, c.point_type_id)
         AND ch.version = i.checklist_version
    LEFT JOIN categories cat ON cat.region_id = c.region_id AND cat.id = c.category_id
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
    params = _params(
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
    people = await _rows(session, INSPECTORS_SQL.format(person_filter=person_filter), params)
    weeks = await _rows(session, WEEKS_SQL.format(reporter_filter=reporter_filter), params)
    return people, weeks


# --- chiefs ----------------------------------------------------------------------------

# Cases that can count in a chief's figures for the period: reported in it, still
# unclosed, closed at or after its start (or as-of, if sooner) or due from its start on.
# Every FILTER below implies this, so it only trims rows (the whole range keeps them all).
CHIEF_CANDIDATE = (
    "((c.reported_at >= :s AND c.reported_at < :e) OR c.closed_at IS NULL"
    " OR c.closed_at >= least(CAST(:s AS timestamptz), CAST(:asof AS timestamptz))"
    " OR c.due_at >= :s)"
)

# The cases are counted once per patch (division path; road address) and the chiefs
# then add up the patches they cover: a chief × patch join instead of chief × case.
_CHIEF_SUMS = (
    "sum(f_cases) AS cases, sum(f_open) AS open, sum(f_overdue) AS overdue,"
    " sum(f_due) AS due, sum(f_closed) AS closed"
)
CHIEFS_SQL = f"""
WITH cc AS MATERIALIZED (
    SELECT coalesce(nullif(c.address, ''), sp.address, '') AS patch_address,
           cd.path AS patch_path,
           (c.reported_at >= :s AND c.reported_at < :e)::int AS f_cases,
           ({OPEN})::int AS f_open,
           ({OVERDUE})::int AS f_overdue,
           ({DUE})::int AS f_due,
           ({CLOSED})::int AS f_closed
    FROM cases c
    LEFT JOIN sample_points sp ON sp.region_id = c.region_id AND sp.id = c.sample_point_id
    LEFT JOIN divisions cd ON cd.region_id = c.region_id
         AND cd.id = coalesce(c.division_id, sp.division_id)
    WHERE c.region_id = :rid AND c.status <> 'cancelled' AND {CHIEF_CANDIDATE}
), by_path AS MATERIALIZED (
    SELECT patch_path, {_CHIEF_SUMS} FROM cc WHERE patch_path IS NOT NULL GROUP BY patch_path
), by_address AS MATERIALIZED (
    SELECT patch_address, {_CHIEF_SUMS} FROM cc GROUP BY patch_address
)
SELECT ch.id AS chief_id, ch.kind, ch.person_id, p.display_name AS person_name,
       ch.division_id, d.name AS division_name, ch.road_name,
       coalesce(sum(x.cases), 0)::bigint AS cases,
       coalesce(sum(x.open), 0)::bigint AS open,
       coalesce(sum(x.overdue), 0)::bigint AS overdue,
       coalesce(sum(x.due), 0)::bigint AS due,
       coalesce(sum(x.closed), 0)::bigint AS closed
FROM chiefs ch
JOIN people p ON p.region_id = ch.region_id AND p.id = ch.person_id
LEFT JOIN divisions d ON d.region_id = ch.region_id AND d.id = ch.division_id
LEFT JOIN LATERAL (
    SELECT bp.cases, bp.open, bp.overdue, bp.due, bp.closed
    FROM by_path bp
    WHERE ch.kind <> 'road' AND bp.patch_path LIKE d.path || '%'
    UNION ALL
    SELECT ba.cases, ba.open, ba.overdue, ba.due, ba.closed
    FROM by_address ba
    WHERE ch.kind = 'road' AND ch.road_name <> '' AND strpos(ba.patch_address, ch.road_name) > 0
) AS x ON true
WHERE ch.region_id = :rid {{person_filter}}
GROUP BY ch.id, ch.kind, ch.person_id, p.display_name, ch.division_id, d.name, ch.road_name
ORDER BY ch.kind, p.display_name, ch.id
"""


async def chiefs(
    session: AsyncSession,
    region_id: uuid.UUID,
    period: Period,
    now: datetime,
    *,
    person_id: uuid.UUID | None,
) -> list[dict[str, Any]]:
    params = _params(region_id, period, now)
    person_filter = ""
    if person_id is not None:
        person_filter, params["person"] = "AND ch.person_id = :person", person_id
    return await _rows(session, CHIEFS_SQL.format(person_filter=person_filter), params)


# --- overview --------------------------------------------------------------------------

GROUPED_SQL = """
SELECT {key} AS key, {label} AS name,
       count(*) AS reported,
       count(*) FILTER (WHERE c.status <> 'cancelled') AS valid,
       count(*) FILTER (WHERE c.status = 'closed') AS closed,
       count(*) FILTER (WHERE c.status IN ('reported', 'assigned', 'returned', 'rectified')) AS open,
       count(*) FILTER (WHERE c.status = 'assigned' AND c.due_at < :now) AS overdue
FROM cases c {join}
WHERE c.region_id = :rid AND c.reported_at >= :s AND c.reported_at < :e {unit_filter}
GROUP BY 1, 2 {order_extra}
ORDER BY {order}
"""

DIMENSIONS: dict[str, dict[str, str]] = {
    "category": {
        "key": "c.category_id::text",
        "label": "cat.name",
        "join": "LEFT JOIN categories cat ON cat.region_id = c.region_id AND cat.id = c.category_id",
        "order_extra": ", cat.ordinal",
        "order": "cat.ordinal NULLS LAST, 1",
    },
    "point_type": {
        "key": "c.point_type_id::text",
        "label": "pt.name",
        "join": "LEFT JOIN point_types pt ON pt.region_id = c.region_id AND pt.id = c.point_type_id",
        "order_extra": "",
        "order": "2 NULLS LAST, 1",
    },
    "source": {"key": "c.source", "label": "c.source", "join": "", "order_extra": "", "order": "1"},
    "severity": {
        "key": "c.severity",
        "label": "c.severity",
        "join": "",
        "order_extra": "",
        "order": "1",
    },
}

TOTALS_SQL = """
SELECT
  (SELECT count(*) FROM cases c WHERE c.region_id = :rid
      AND c.reported_at >= :s AND c.reported_at < :e {unit_filter}) AS cases_reported,
  (SELECT count(*) FROM cases c WHERE c.region_id = :rid AND c.status <> 'cancelled'
      AND c.reported_at >= :s AND c.reported_at < :e {unit_filter}) AS cases_valid,
  (SELECT count(*) FROM cases c WHERE c.region_id = :rid AND c.status = 'cancelled'
      AND c.reported_at >= :s AND c.reported_at < :e {unit_filter}) AS cases_cancelled,
  (SELECT count(DISTINCT e.case_id) FROM case_events e
      JOIN cases c ON c.region_id = e.region_id AND c.id = e.case_id
      WHERE e.region_id = :rid AND e.action = 'dispatch'
      AND e.at >= :s AND e.at < :e {unit_filter}) AS cases_dispatched,
  (SELECT count(*) FROM cases c WHERE c.region_id = :rid AND c.status = 'closed'
      AND c.closed_at >= :s AND c.closed_at < :e {unit_filter}) AS cases_closed,
  (SELECT count(*) FROM cases c WHERE c.region_id = :rid AND c.status = 'closed'
      AND c.closed_on_time IS TRUE
      AND c.closed_at >= :s AND c.closed_at < :e {unit_filter}) AS cases_closed_on_time,
  (SELECT count(*) FROM cases c WHERE c.region_id = :rid
      AND c.status IN ('reported', 'assigned', 'returned', 'rectified') {unit_filter}) AS open_now,
  (SELECT count(*) FROM cases c WHERE c.region_id = :rid AND c.status = 'assigned'
      AND c.due_at < :now {unit_filter}) AS overdue_now,
  (SELECT count(*) FROM inspections i WHERE i.region_id = :rid AND i.validation = 'valid'
      AND i.finished_at >= :s AND i.finished_at < :e {insp_filter}) AS inspections,
  (SELECT count(*) FROM inspections i WHERE i.region_id = :rid AND i.validation = 'valid'
      AND i.passed IS TRUE
      AND i.finished_at >= :s AND i.finished_at < :e {insp_filter}) AS inspections_passed,
  (SELECT round(avg(i.score), 2) FROM inspections i WHERE i.region_id = :rid
      AND i.validation = 'valid'
      AND i.finished_at >= :s AND i.finished_at < :e {insp_filter}) AS average_score
"""

WEEKLY_SQL = """
WITH weeks AS (
    SELECT generate_series(
        date_trunc('week', CAST(:s AS timestamptz) AT TIME ZONE :tz),
        CAST(:e AS timestamptz) AT TIME ZONE :tz - interval '1 microsecond',
        interval '1 week') AS w
), rep AS (
    SELECT date_trunc('week', c.reported_at AT TIME ZONE :tz) AS w, count(*) AS n
    FROM cases c WHERE c.region_id = :rid AND c.reported_at >= :s AND c.reported_at < :e
      {unit_filter}
    GROUP BY 1
), clo AS (
    SELECT date_trunc('week', c.closed_at AT TIME ZONE :tz) AS w, count(*) AS n
    FROM cases c WHERE c.region_id = :rid AND c.status = 'closed'
      AND c.closed_at >= :s AND c.closed_at < :e {unit_filter}
    GROUP BY 1
), ins AS (
    SELECT date_trunc('week', i.finished_at AT TIME ZONE :tz) AS w, count(*) AS n
    FROM inspections i WHERE i.region_id = :rid AND i.validation = 'valid'
      AND i.finished_at >= :s AND i.finished_at < :e {insp_filter}
    GROUP BY 1
)
SELECT weeks.w::date AS week_start,
       coalesce(rep.n, 0) AS cases_reported,
       coalesce(clo.n, 0) AS cases_closed,
       coalesce(ins.n, 0) AS inspections
FROM weeks
LEFT JOIN rep ON rep.w = weeks.w
LEFT JOIN clo ON clo.w = weeks.w
LEFT JOIN ins ON ins.w = weeks.w
ORDER BY weeks.w
"""

EPIDEMIC_SQL = """
SELECT count(*) FILTER (WHERE i.health_code_checked) AS health_code_checked_yes,
       count(i.health_code_checked) AS health_code_checked_n,
       count(*) FILTER (WHERE i.temperature_checked) AS temperature_checked_yes,
       count(i.temperature_checked) AS temperature_checked_n,
       count(*) FILTER (WHERE i.masks_worn) AS masks_worn_yes,
       count(i.masks_worn) AS masks_worn_n
FROM inspections i
WHERE i.region_id = :rid AND i.validation = 'valid'
  AND i.finished_at >= :s AND i.finished_at < :e {insp_filter}
"""


async def overview(
    session: AsyncSession,
    region_id: uuid.UUID,
    period: Period,
    now: datetime,
    *,
    unit_id: uuid.UUID | None,
) -> dict[str, Any]:
    params = _params(region_id, period, now)
    unit_filter = insp_filter = ""
    if unit_id is not None:
        params["unit"] = unit_id
        unit_filter, insp_filter = "AND c.unit_id = :unit", "AND i.unit_id = :unit"
    fmt = {"unit_filter": unit_filter, "insp_filter": insp_filter}
    out: dict[str, Any] = {
        "totals": (await _rows(session, TOTALS_SQL.format(**fmt), params))[0],
        "weekly": await _rows(session, WEEKLY_SQL.format(**fmt), params),
        "epidemic": (await _rows(session, EPIDEMIC_SQL.format(**fmt), params))[0],
    }
    for name, dim in DIMENSIONS.items():
        out[name] = await _rows(session, GROUPED_SQL.format(unit_filter=unit_filter, **dim), params)
    return out


# --- overdue ---------------------------------------------------------------------------

OVERDUE_SQL = """
SELECT c.id AS case_id, c.description, c.severity, c.source, c.status,
       c.unit_id, u.code AS unit_code, u.name AS unit_name,
       c.sample_point_id, sp.code AS sample_point_code, sp.name AS sample_point_name,
       c.reported_at, c.dispatched_at, c.due_at,
       round(extract(epoch FROM (CAST(:now AS timestamptz) - c.due_at)) / 3600.0, 1)
           AS hours_overdue,
       c.extension_count, c.rework_count
FROM cases c
LEFT JOIN units u ON u.region_id = c.region_id AND u.id = c.unit_id
LEFT JOIN sample_points sp ON sp.region_id = c.region_id AND sp.id = c.sample_point_id
WHERE c.region_id = :rid AND c.status = 'assigned' AND c.due_at < :now {filters}
ORDER BY c.due_at, c.id
"""


async def overdue(
    session: AsyncSession,
    region_id: uuid.UUID,
    period: Period,
    now: datetime,
    *,
    unit_id: uuid.UUID | None,
    due_in_period: bool,
) -> list[dict[str, Any]]:
    params = _params(region_id, period, now)
    filters = ""
    if unit_id is not None:
        filters, params["unit"] = "AND c.unit_id = :unit", unit_id
    if due_in_period:
        filters += " AND c.due_at >= :s AND c.due_at < :e"
    return await _rows(session, OVERDUE_SQL.format(filters=filters), params)
