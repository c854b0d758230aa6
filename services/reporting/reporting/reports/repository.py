"""Read-only SQL over the registry and inspections tables; every figure is a GROUP BY / FILTER.

Every statement is confined to one region by ``:rid``; unit accounts add a
unit condition. No statement here writes.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from reporting.reports.period import Period, month_bounds
from reporting.reports.sql import CLOSED, CLOSED_ON_TIME, DUE, HELD, OPEN, OVERDUE

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


# Every report statement runs with these, local to the transaction: JIT compilation
# costs more than it saves on these one-off aggregations; the hash tables of a period's
# events and cases fit in memory instead of spilling to disk; and each execution is
# planned for its own period (a cached generic plan cannot tell a month from years).
STATEMENT_SETTINGS = text(
    "SELECT set_config('jit', 'off', true), set_config('work_mem', '64MB', true),"
    " set_config('plan_cache_mode', 'force_custom_plan', true)"
)


async def _rows(session: AsyncSession, sql: str, params: dict[str, Any]) -> list[dict[str, Any]]:
    await session.execute(STATEMENT_SETTINGS)
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
PERIOD_FLOOR = "least(CAST(:s AS timestamptz), CAST(:asof AS timestamptz))"
STATE_COLUMNS = (
    "c.unit_id, c.status, c.due_at, c.closed_at, c.dispatched_at, c.reported_at,"
    " c.last_rectified_at, c.closed_on_time"
)

# How far before a range's start the cases its events belong to are looked for in one
# time-local sweep (a case's actions follow its report within weeks); the events of
# older cases (parked and resumed, long disputes) fetch their case one by one. Only
# speed depends on it, never the figures.
EVENT_CASE_WINDOW = "interval '62 days'"

# The event-derived counters are pure functions of immutable ``case_events`` rows (so a
# settled month's counts never change and can be rolled up, see ``unit_event_months``):
# an event counts for the unit it records (``case_events.unit_id``: the case's unit after
# the action) and a rectification is judged against the deadline it records
# (``case_events.due_at``: the deadline in force). An event that records none (rows
# written before events carried them) takes them from the case's latest earlier event
# that does — again only immutable rows; the API records both on every event.
EVENT_ACTIONS = "('dispatch', 'rectify', 'reject', 'return', 'extend', 'park')"
_EARLIER = (
    "FROM case_events p WHERE p.region_id = e.region_id AND p.case_id = e.case_id"
    " AND p.{col} IS NOT NULL AND p.at <= e.at AND p.id <> e.id"
    " ORDER BY p.at DESC, p.id DESC LIMIT 1"
)
EVENT_UNIT = f"coalesce(e.unit_id, (SELECT p.unit_id {_EARLIER.format(col='unit_id')}))"
EVENT_DUE = (
    "CASE WHEN e.action = 'rectify' THEN"
    f" coalesce(e.due_at, (SELECT p.due_at {_EARLIER.format(col='due_at')})) END"
)
EVENT_COUNTERS = """
           count(*) FILTER (WHERE e.action = 'dispatch') AS assigned,
           count(*) FILTER (WHERE e.action = 'rectify') AS rectified,
           count(*) FILTER (WHERE e.action = 'rectify' AND e.at <= e.due_at) AS rectified_on_time,
           count(*) FILTER (WHERE e.action = 'rectify' AND (e.due_at IS NULL OR e.at > e.due_at))
               AS rectified_late,
           count(*) FILTER (WHERE e.action = 'reject') AS rework,
           count(*) FILTER (WHERE e.action = 'return') AS returned,
           count(*) FILTER (WHERE e.action = 'extend') AS extended,
           count(*) FILTER (WHERE e.action = 'park') AS parked"""
COUNTER_NAMES = (
    "assigned",
    "rectified",
    "rectified_on_time",
    "rectified_late",
    "rework",
    "returned",
    "extended",
    "parked",
)

# Live: the range's events of cases not cancelled (now), per unit.
EVENTS_SQL = f"""
WITH win AS (
    SELECT c.id, c.status
    FROM cases c
    WHERE c.region_id = :rid AND c.reported_at < :e
      AND c.reported_at >= CAST(:s AS timestamptz) - {EVENT_CASE_WINDOW}
), evs AS (
    SELECT e.action, e.at, {EVENT_UNIT} AS unit_id, {EVENT_DUE} AS due_at,
           coalesce(w.status, old.status) AS status
    FROM case_events e
    LEFT JOIN win w ON w.id = e.case_id
    LEFT JOIN LATERAL (
        SELECT c.status FROM cases c
        WHERE w.id IS NULL AND c.region_id = e.region_id AND c.id = e.case_id
        LIMIT 1
    ) AS old ON true
    WHERE e.region_id = :rid AND e.at >= :s AND e.at < :e AND e.action IN {EVENT_ACTIONS}
)
SELECT e.unit_id, {EVENT_COUNTERS}
FROM evs e
WHERE e.status <> 'cancelled' AND e.unit_id IS NOT NULL
GROUP BY 1
"""

# Rollup: the stored months' counters (every case's events) ...
ROLLUP_SUMS_SQL = f"""
SELECT m.unit_id, {", ".join(f"sum(m.{n})::bigint AS {n}" for n in COUNTER_NAMES)}
FROM unit_event_months m
WHERE m.region_id = :rid AND m.month >= :m0 AND m.month < :m1
GROUP BY 1
"""
# ... minus, live, the events in those months of the cases cancelled since (a case is
# only cancelled after a dispatch by ``mark_duplicate`` or ``cancel`` after a return;
# a case never dispatched has none of the counted events).
CANCELLED_EVENTS_SQL = f"""
SELECT e.unit_id, {EVENT_COUNTERS}
FROM (
    SELECT e.action, e.at, {EVENT_UNIT} AS unit_id, {EVENT_DUE} AS due_at
    FROM cases c
    JOIN case_events e ON e.region_id = c.region_id AND e.case_id = c.id
    WHERE c.region_id = :rid AND c.status = 'cancelled' AND c.dispatched_at IS NOT NULL
      AND e.at >= :s AND e.at < :e AND e.action IN {EVENT_ACTIONS}
) AS e
WHERE e.unit_id IS NOT NULL
GROUP BY 1
"""
# Computing the missing settled months of a region in one grouped pass (months are
# calendar months in the region's time zone).
ROLLUP_MONTHS_SQL = f"""
INSERT INTO unit_event_months (region_id, month, unit_id, {", ".join(COUNTER_NAMES)}, computed_at)
SELECT :rid, e.month, e.unit_id, {EVENT_COUNTERS}, now()
FROM (
    SELECT (date_trunc('month', e.at AT TIME ZONE :tz))::date AS month,
           e.action, e.at, {EVENT_UNIT} AS unit_id, {EVENT_DUE} AS due_at
    FROM case_events e
    WHERE e.region_id = :rid AND e.at >= :s AND e.at < :e AND e.action IN {EVENT_ACTIONS}
) AS e
WHERE e.unit_id IS NOT NULL AND e.month = ANY(CAST(:months AS date[]))
GROUP BY e.month, e.unit_id
ON CONFLICT DO NOTHING
"""
ROLLUP_RUNS_SQL = """
INSERT INTO unit_event_month_runs (region_id, month, computed_at)
SELECT :rid, m, now() FROM unnest(CAST(:months AS date[])) AS m
ON CONFLICT DO NOTHING
"""
COMPUTED_MONTHS_SQL = """
SELECT r.month FROM unit_event_month_runs r
WHERE r.region_id = :rid AND r.month >= :m0 AND r.month < :m1
"""
# One lock per region: concurrent first requests compute a month once.
ROLLUP_LOCK_SQL = "SELECT pg_advisory_xact_lock(hashtextextended('unit_event_months:' || :rid, 0))"

# The state figures (open, overdue, due, closed) of every unit, live.
STATE_SQL = f"""
WITH stc AS (
    -- The UNIT_CANDIDATE cases a figure can count (each figure implies HELD), in three
    -- disjoint index-only sweeps: unclosed; closed from the period's start (or as-of)
    -- on; closed before that but due inside the period (only ``due``/``closed`` then).
    SELECT {STATE_COLUMNS} FROM cases c
    WHERE c.region_id = :rid AND c.closed_at IS NULL AND {HELD} AND c.unit_id IS NOT NULL
    UNION ALL
    SELECT {STATE_COLUMNS} FROM cases c
    WHERE c.region_id = :rid AND c.closed_at >= {PERIOD_FLOOR} AND {HELD}
      AND c.unit_id IS NOT NULL
    UNION ALL
    SELECT {STATE_COLUMNS} FROM cases c
    WHERE c.region_id = :rid AND c.due_at >= :s AND c.due_at < :asof
      AND c.closed_at < {PERIOD_FLOOR} AND {HELD} AND c.unit_id IS NOT NULL
), st AS (
    SELECT c.unit_id,
           count(*) FILTER (WHERE {OPEN}) AS open,
           count(*) FILTER (WHERE {OVERDUE}) AS overdue_open,
           count(*) FILTER (WHERE {DUE}) AS due,
           count(*) FILTER (WHERE {CLOSED}) AS closed,
           count(*) FILTER (WHERE {CLOSED_ON_TIME}) AS closed_on_time
    FROM stc c
    GROUP BY 1
)
SELECT u.id AS unit_id, u.code AS unit_code, u.name AS unit_name,
       u.deleted_at IS NOT NULL AS deleted, st.unit_id IS NOT NULL AS has_state,
       coalesce(st.open, 0) AS open,
       coalesce(st.overdue_open, 0) AS overdue_open,
       coalesce(st.closed, 0) AS closed,
       coalesce(st.closed_on_time, 0) AS closed_on_time,
       coalesce(st.due, 0) AS due
FROM units u
LEFT JOIN st ON st.unit_id = u.id
WHERE u.region_id = :rid
ORDER BY u.code, u.id
"""

# A month is settled once it has ended plus this margin (clock skew between the
# services): no event can land in it any more, so its counts never change.
SETTLE_MARGIN = timedelta(days=1)
# Periods with fewer settled whole months than this are computed live throughout (a
# month's live counts are fast; its report never writes).
ROLLUP_MIN_MONTHS = 2
ROW_ORDER = (
    "unit_id unit_code unit_name assigned rectified rectified_on_time rectified_late open"
    " overdue_open rework returned extended parked closed closed_on_time due"
).split()


def settled_months(period: Period, now: datetime) -> list[tuple[date, datetime, datetime]]:
    """The whole calendar months (local) inside the period that are settled at ``now``:
    ``(first day, start, end)``, contiguous, oldest first."""
    local = period.start.astimezone(period.tz)
    year, month = local.year, local.month
    start, end = month_bounds(year, month, period.tz)
    if start < period.start:
        year, month = year + (month == 12), month % 12 + 1
        start, end = month_bounds(year, month, period.tz)
    months = []
    while end <= period.end and end + SETTLE_MARGIN <= now:
        months.append((date(year, month, 1), start, end))
        year, month = year + (month == 12), month % 12 + 1
        start, end = month_bounds(year, month, period.tz)
    return months


def _following(month: tuple[date, datetime, datetime], tz: str) -> date:
    """The first day of the month after ``month``."""
    return month[2].astimezone(ZoneInfo(tz)).date()


async def _event_counts(
    session: AsyncSession, region_id: uuid.UUID, start: datetime, end: datetime
) -> list[dict[str, Any]]:
    return await _rows(session, EVENTS_SQL, {"rid": region_id, "s": start, "e": end})


async def ensure_rollup(
    session: AsyncSession,
    region_id: uuid.UUID,
    tz: str,
    months: list[tuple[date, datetime, datetime]],
) -> list[date]:
    """Compute and store the given settled months not stored yet; the months computed."""
    if not months:
        return []
    bounds = {"rid": region_id, "m0": months[0][0], "m1": _following(months[-1], tz)}
    stored = set((await session.execute(text(COMPUTED_MONTHS_SQL), bounds)).scalars())
    if all(m in stored for m, _, _ in months):
        return []
    await session.execute(text(ROLLUP_LOCK_SQL), {"rid": str(region_id)})
    stored = set((await session.execute(text(COMPUTED_MONTHS_SQL), bounds)).scalars())
    missing = [(m, s, e) for m, s, e in months if m not in stored]
    if not missing:
        return []
    await session.execute(STATEMENT_SETTINGS)
    await session.execute(
        text(ROLLUP_MONTHS_SQL),
        {
            "rid": region_id,
            "tz": tz,
            "s": missing[0][1],
            "e": missing[-1][2],
            "months": [m for m, _, _ in missing],
        },
    )
    await session.execute(
        text(ROLLUP_RUNS_SQL), {"rid": region_id, "months": [m for m, _, _ in missing]}
    )
    return [m for m, _, _ in missing]


async def unit_event_figures(
    session: AsyncSession,
    region_id: uuid.UUID,
    period: Period,
    now: datetime,
    *,
    rollup: bool = True,
) -> dict[uuid.UUID, dict[str, int]]:
    """Per unit, the event-derived counters of the period: stored months for its settled
    whole months (when it has at least ``ROLLUP_MIN_MONTHS``), live SQL for the rest."""
    months = settled_months(period, now) if rollup else []
    if len(months) < ROLLUP_MIN_MONTHS:
        months = []
    totals: dict[uuid.UUID, dict[str, int]] = {}

    def add(rows: list[dict[str, Any]], sign: int = 1) -> None:
        for row in rows:
            acc = totals.setdefault(row["unit_id"], dict.fromkeys(COUNTER_NAMES, 0))
            for name in COUNTER_NAMES:
                acc[name] += sign * int(row[name])

    if not months:
        add(await _event_counts(session, region_id, period.start, period.end))
        return totals
    first, last = months[0], months[-1]
    await ensure_rollup(session, region_id, period.tz.key, months)
    add(
        await _rows(
            session,
            ROLLUP_SUMS_SQL,
            {"rid": region_id, "m0": first[0], "m1": _following(last, period.tz.key)},
        )
    )
    add(
        await _rows(session, CANCELLED_EVENTS_SQL, {"rid": region_id, "s": first[1], "e": last[2]}),
        -1,
    )
    if period.start < first[1]:
        add(await _event_counts(session, region_id, period.start, first[1]))
    if last[2] < period.end:
        add(await _event_counts(session, region_id, last[2], period.end))
    return totals


async def unit_figures(
    session: AsyncSession,
    region_id: uuid.UUID,
    period: Period,
    now: datetime,
    *,
    rollup: bool = True,
) -> list[dict[str, Any]]:
    """Per unit of the region, the counters of the units report (all units: ranks need them).

    ``rollup=False`` computes every counter live (tests compare both ways)."""
    events = await unit_event_figures(session, region_id, period, now, rollup=rollup)
    state = await _rows(session, STATE_SQL, _params(region_id, period, now))
    out = []
    zero = dict.fromkeys(COUNTER_NAMES, 0)
    for row in state:
        counts = events.get(row["unit_id"], zero)
        if row["deleted"] and not row["has_state"] and not any(counts.values()):
            continue
        merged = {**row, **counts}
        out.append({k: merged[k] for k in ROW_ORDER})
    return out


LATE_CASES_SQL = f"""
SELECT c.unit_id, array_agg(c.id ORDER BY c.due_at, c.id) AS case_ids
FROM cases c
WHERE c.region_id = :rid AND c.unit_id = ANY(CAST(:units AS uuid[])) AND c.status <> 'cancelled'
  AND {UNIT_CANDIDATE} AND {DUE} AND NOT {CLOSED_ON_TIME}
GROUP BY c.unit_id
"""


async def late_case_ids(
    session: AsyncSession,
    region_id: uuid.UUID,
    period: Period,
    now: datetime,
    unit_ids: list[uuid.UUID],
) -> dict[uuid.UUID, list[uuid.UUID]]:
    """Per unit, the due cases not closed on time (a notice's ``case_ids``), by deadline."""
    if not unit_ids:
        return {}
    rows = await _rows(session, LATE_CASES_SQL, _params(region_id, period, now, units=unit_ids))
    return {r["unit_id"]: list(r["case_ids"]) for r in rows}


# --- coverage --------------------------------------------------------------------------

# Per active point: its latest valid inspection before as-of (one index probe, newest
# first) and its valid inspections in the period (an index-only count per point).
COVERAGE_SQL = """
WITH open_cases AS (
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
           coalesce(n.inspections, 0) AS inspections,
           latest.finished_at AS last_inspected_at,
           latest.finished_at + make_interval(days => pt.visit_every_days) AS next_due_at,
           latest.score AS latest_score, latest.passed AS latest_passed,
           coalesce(open_cases.open_cases, 0) AS open_cases
    FROM sample_points sp
    JOIN point_types pt ON pt.region_id = sp.region_id AND pt.id = sp.point_type_id
    JOIN divisions d ON d.region_id = sp.region_id AND d.id = sp.division_id
    LEFT JOIN units u ON u.region_id = sp.region_id AND u.id = sp.unit_id
    LEFT JOIN LATERAL (
        SELECT i.finished_at, i.score, i.passed
        FROM inspections i
        WHERE i.region_id = sp.region_id AND i.sample_point_id = sp.id
          AND i.validation = 'valid' AND i.finished_at < :asof
        ORDER BY i.finished_at DESC, i.id DESC
        LIMIT 1
    ) AS latest ON true
    LEFT JOIN LATERAL (
        SELECT count(*) AS inspections
        FROM inspections i
        WHERE i.region_id = sp.region_id AND i.sample_point_id = sp.id
          AND i.validation = 'valid' AND i.finished_at >= :s AND i.finished_at < :asof
    ) AS n ON true
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
    points = await _rows(
        session,
        COVERAGE_SQL.format(unit_filter=unit_filter)
        + f"SELECT pts.*, {BLIND} AS blind_spot FROM pts ORDER BY code, sample_point_id",
        params,
    )
    # Per grid, from the point rows (one pass over the points, not a second query).
    by_grid: dict[uuid.UUID, dict[str, Any]] = {}
    for point in points:
        grid = by_grid.setdefault(
            point["grid_id"],
            {
                "grid_id": point["grid_id"],
                "grid_code": point["grid_code"],
                "grid_name": point["grid_name"],
                "points": 0,
                "visited_on_time": 0,
                "blind_spots": 0,
            },
        )
        grid["points"] += 1
        grid["blind_spots" if point["blind_spot"] else "visited_on_time"] += 1
    order = await session.execute(
        text(
            "SELECT d.id FROM divisions d WHERE d.region_id = :rid"
            " AND d.id = ANY(CAST(:ids AS uuid[])) ORDER BY d.code, d.id"
        ),
        {"rid": region_id, "ids": list(by_grid)},
    )
    grids = [by_grid[grid_id] for grid_id in order.scalars()]
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
IN_PERIOD = "(c.reported_at >= :s AND c.reported_at < :e)"
NOT_IN_PERIOD = "(c.reported_at < :s OR c.reported_at >= :e)"
CHIEF_COLUMNS = f"c.division_id, c.sample_point_id, c.address, {STATE_COLUMNS}"
CHIEFS_SQL = f"""
WITH cand AS (
    -- CHIEF_CANDIDATE in disjoint sweeps: the cases reported in the period; of the
    -- others only held ones can count (open, overdue, due, closed), found as in the
    -- units report: unclosed, closed from the period's start on, or due inside it.
    SELECT {CHIEF_COLUMNS} FROM cases c
    WHERE c.region_id = :rid AND {IN_PERIOD} AND c.status <> 'cancelled'
    UNION ALL
    SELECT {CHIEF_COLUMNS} FROM cases c
    WHERE c.region_id = :rid AND c.closed_at IS NULL AND {HELD} AND {NOT_IN_PERIOD}
    UNION ALL
    SELECT {CHIEF_COLUMNS} FROM cases c
    WHERE c.region_id = :rid AND c.closed_at >= {PERIOD_FLOOR} AND {HELD} AND {NOT_IN_PERIOD}
    UNION ALL
    SELECT {CHIEF_COLUMNS} FROM cases c
    WHERE c.region_id = :rid AND c.due_at >= :s AND c.due_at < :asof
      AND c.closed_at < {PERIOD_FLOOR} AND {HELD} AND {NOT_IN_PERIOD}
), g AS (
    -- Counted once per (division, point, address) before the patches are resolved.
    SELECT c.division_id, c.sample_point_id, c.address,
           count(*) FILTER (WHERE {IN_PERIOD}) AS f_cases,
           count(*) FILTER (WHERE {OPEN}) AS f_open,
           count(*) FILTER (WHERE {OVERDUE}) AS f_overdue,
           count(*) FILTER (WHERE {DUE}) AS f_due,
           count(*) FILTER (WHERE {CLOSED}) AS f_closed
    FROM cand c
    GROUP BY 1, 2, 3
), cc AS MATERIALIZED (
    SELECT coalesce(nullif(g.address, ''), sp.address, '') AS patch_address,
           cd.path AS patch_path,
           g.f_cases, g.f_open, g.f_overdue, g.f_due, g.f_closed
    FROM g
    LEFT JOIN sample_points sp ON sp.region_id = :rid AND sp.id = g.sample_point_id
    LEFT JOIN divisions cd ON cd.region_id = :rid
         AND cd.id = coalesce(g.division_id, sp.division_id)
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

# The period's cases counted once per (category, point type, source, severity), then
# rolled up per dimension (each dimension's rows in its own order, ``ord``).
_GROUP_SUMS = (
    "sum(b.reported)::bigint AS reported, sum(b.valid)::bigint AS valid,"
    " sum(b.closed)::bigint AS closed, sum(b.open)::bigint AS open,"
    " sum(b.overdue)::bigint AS overdue"
)
GROUPED_SQL = f"""
WITH base AS MATERIALIZED (
    SELECT c.category_id, c.point_type_id, c.source, c.severity,
           count(*) AS reported,
           count(*) FILTER (WHERE c.status <> 'cancelled') AS valid,
           count(*) FILTER (WHERE c.status = 'closed') AS closed,
           count(*) FILTER (WHERE c.status IN ('reported', 'assigned', 'returned', 'rectified'))
               AS open,
           count(*) FILTER (WHERE c.status = 'assigned' AND c.due_at < :now) AS overdue
    FROM cases c
    WHERE c.region_id = :rid AND c.reported_at >= :s AND c.reported_at < :e {{unit_filter}}
    GROUP BY 1, 2, 3, 4
)
SELECT 'category' AS dim, b.category_id::text AS key, cat.name AS name, {_GROUP_SUMS},
       row_number() OVER (ORDER BY cat.ordinal NULLS LAST, b.category_id::text) AS ord
FROM base b LEFT JOIN categories cat ON cat.region_id = :rid AND cat.id = b.category_id
GROUP BY b.category_id, cat.name, cat.ordinal
UNION ALL
SELECT 'point_type', b.point_type_id::text, pt.name, {_GROUP_SUMS},
       row_number() OVER (ORDER BY pt.name NULLS LAST, b.point_type_id::text)
FROM base b LEFT JOIN point_types pt ON pt.region_id = :rid AND pt.id = b.point_type_id
GROUP BY b.point_type_id, pt.name
UNION ALL
SELECT 'source', b.source, b.source, {_GROUP_SUMS}, row_number() OVER (ORDER BY b.source)
FROM base b GROUP BY b.source
UNION ALL
SELECT 'severity', b.severity, b.severity, {_GROUP_SUMS}, row_number() OVER (ORDER BY b.severity)
FROM base b GROUP BY b.severity
ORDER BY 1, ord
"""
DIMENSIONS = ("category", "point_type", "source", "severity")

# One sweep each over the period's reported cases, its closures and its inspections.
TOTALS_SQL = """
WITH rep AS (
    SELECT count(*) AS cases_reported,
           count(*) FILTER (WHERE c.status <> 'cancelled') AS cases_valid,
           count(*) FILTER (WHERE c.status = 'cancelled') AS cases_cancelled
    FROM cases c
    WHERE c.region_id = :rid AND c.reported_at >= :s AND c.reported_at < :e {unit_filter}
), clo AS (
    SELECT count(*) AS cases_closed,
           count(*) FILTER (WHERE c.closed_on_time IS TRUE) AS cases_closed_on_time
    FROM cases c
    WHERE c.region_id = :rid AND c.status = 'closed'
      AND c.closed_at >= :s AND c.closed_at < :e {unit_filter}
), ins AS (
    SELECT count(*) AS inspections,
           count(*) FILTER (WHERE i.passed IS TRUE) AS inspections_passed,
           round(avg(i.score), 2) AS average_score
    FROM inspections i
    WHERE i.region_id = :rid AND i.validation = 'valid'
      AND i.finished_at >= :s AND i.finished_at < :e {insp_filter}
)
SELECT rep.cases_reported, rep.cases_valid, rep.cases_cancelled,
  ({dispatched}) AS cases_dispatched,
  clo.cases_closed, clo.cases_closed_on_time,
  (SELECT count(*) FROM cases c WHERE c.region_id = :rid
      AND c.status IN ('reported', 'assigned', 'returned', 'rectified') {unit_filter}) AS open_now,
  (SELECT count(*) FROM cases c WHERE c.region_id = :rid AND c.status = 'assigned'
      AND c.due_at < :now {unit_filter}) AS overdue_now,
  ins.inspections, ins.inspections_passed, ins.average_score
FROM rep, clo, ins
"""
# Every event has its case (foreign key): only a unit's view needs the cases joined.
DISPATCHED_SQL = """SELECT count(DISTINCT e.case_id) FROM case_events e
      WHERE e.region_id = :rid AND e.action = 'dispatch' AND e.at >= :s AND e.at < :e"""
DISPATCHED_UNIT_SQL = """SELECT count(DISTINCT e.case_id) FROM case_events e
      JOIN cases c ON c.region_id = e.region_id AND c.id = e.case_id
      WHERE e.region_id = :rid AND e.action = 'dispatch'
      AND e.at >= :s AND e.at < :e {unit_filter}"""

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
    dispatched = DISPATCHED_UNIT_SQL if unit_id is not None else DISPATCHED_SQL
    totals_sql = TOTALS_SQL.format(dispatched=dispatched.format(**fmt), **fmt)
    out: dict[str, Any] = {
        "totals": (await _rows(session, totals_sql, params))[0],
        "weekly": await _rows(session, WEEKLY_SQL.format(**fmt), params),
        "epidemic": (await _rows(session, EPIDEMIC_SQL.format(**fmt), params))[0],
    }
    for name in DIMENSIONS:
        out[name] = []
    for row in await _rows(session, GROUPED_SQL.format(unit_filter=unit_filter), params):
        dim = row.pop("dim")
        del row["ord"]
        out[dim].append(row)
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
