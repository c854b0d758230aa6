"""The units report (单位考核): per-unit counters, rates, score, grade and rank.

The event counters of settled months come from the monthly rollup
(``unit_event_months``); everything else is live SQL. The red/black lists and the
accountability notices are read from this report.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from reporting.report_settings.service import EffectiveSettings
from reporting.reports.export import Column
from reporting.reports.period import Period, month_bounds
from reporting.reports.sql import (
    CLOSED,
    CLOSED_ON_TIME,
    DUE,
    HELD,
    OPEN,
    OVERDUE,
    PERIOD_FLOOR,
    STATE_COLUMNS,
    STATEMENT_SETTINGS,
    fetch,
    period_params,
    rate,
)

# Cases that can count in a unit's state figures (open, overdue, due, closed): unclosed,
# closed at or after the period's start (or as-of, if sooner), or due from the start on.
# Every FILTER of ``st`` implies it; it only spares the cases closed long before.
UNIT_CANDIDATE = (
    "(c.closed_at IS NULL"
    " OR c.closed_at >= least(CAST(:s AS timestamptz), CAST(:asof AS timestamptz))"
    " OR c.due_at >= :s)"
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
    return await fetch(session, EVENTS_SQL, {"rid": region_id, "s": start, "e": end})


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
        await fetch(
            session,
            ROLLUP_SUMS_SQL,
            {"rid": region_id, "m0": first[0], "m1": _following(last, period.tz.key)},
        )
    )
    add(
        await fetch(session, CANCELLED_EVENTS_SQL, {"rid": region_id, "s": first[1], "e": last[2]}),
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
    state = await fetch(session, STATE_SQL, period_params(region_id, period, now))
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
    rows = await fetch(
        session, LATE_CASES_SQL, period_params(region_id, period, now, units=unit_ids)
    )
    return {r["unit_id"]: list(r["case_ids"]) for r in rows}


GRADE_FLOORS = ((90.0, "A"), (75.0, "B"), (60.0, "C"), (40.0, "D"))


def grade_of(score: float | None) -> str | None:
    if score is None:
        return None
    for floor, grade in GRADE_FLOORS:
        if score >= floor:
            return grade
    return "E"


def volume_points(due: int, bands: list[dict[str, Any]]) -> float:
    for band in sorted(bands, key=lambda b: b["min_due"], reverse=True):
        if due >= band["min_due"]:
            return float(band["points"])
    return 0.0


def composite_score(row: dict[str, Any], weights: dict[str, Any]) -> float | None:
    if row["due"] == 0:
        return None
    # Unrounded ratios: the 4-place rate values are for display only.
    rework = 1.0 if not row["rectified"] else 1.0 - min(1.0, row["rework"] / row["rectified"])
    components = {
        "closure": row["closed"] / row["due"],
        "on_time": row["closed_on_time"] / row["due"],
        "rework": rework,
        "volume": row["volume_points"] / 10.0,
    }
    total = sum(float(weights[k]) for k in components)
    if total <= 0:
        return None
    weighted = sum(float(weights[k]) * v for k, v in components.items())
    return round(100.0 * weighted / total, 2)


def rank_units(items: list[dict[str, Any]], min_cases: int) -> list[dict[str, Any]]:
    """Competition ranking (1, 1, 3) of units with ``due ≥ min_cases``; others unranked."""
    ranked = {r["unit_id"] for r in items if r["due"] >= min_cases and r["score"] is not None}
    scores = [r["score"] for r in items if r["unit_id"] in ranked]
    for row in items:
        row["ranked"] = row["unit_id"] in ranked
        row["rank"] = (1 + sum(1 for s in scores if s > row["score"])) if row["ranked"] else None
    return sorted(
        items,
        key=lambda r: (not r["ranked"], r["rank"] or 0, r["unit_code"], str(r["unit_id"])),
    )


async def units_report(
    session: AsyncSession,
    region_id: uuid.UUID,
    period: Period,
    now: datetime,
    settings: EffectiveSettings,
) -> list[dict[str, Any]]:
    """Every unit's row with counters, rates, score, grade and rank."""
    weights = settings.score_weights
    items = []
    for figures in await unit_figures(session, region_id, period, now):
        row = dict(figures)
        row["closure_rate"] = rate(row["closed"], row["due"])
        row["on_time_rate"] = rate(row["closed_on_time"], row["due"])
        row["rework_rate"] = rate(row["rework"], row["rectified"])
        row["volume_points"] = volume_points(row["due"], weights["volume_bands"])
        row["score"] = composite_score(row, weights)
        row["grade"] = grade_of(row["score"])
        items.append(row)
    return rank_units(items, settings.min_cases)


UNIT_COLUMNS = [
    Column("unit_id", "Unit ID", "单位ID"),
    Column("unit_code", "Unit code", "单位编码"),
    Column("unit_name", "Unit", "责任单位"),
    Column("assigned", "Assigned", "派遣数"),
    Column("rectified", "Rectified", "处置数"),
    Column("rectified_on_time", "Rectified on time", "按期处置数"),
    Column("rectified_late", "Rectified late", "超期处置数"),
    Column("open", "Open", "待处置数"),
    Column("overdue_open", "Overdue open", "超期未处置数"),
    Column("rework", "Rework", "返工数"),
    Column("returned", "Returned", "回退数"),
    Column("extended", "Extended", "延期数"),
    Column("parked", "Parked", "挂账数"),
    Column("due", "Due", "应结案数"),
    Column("closed", "Closed", "结案数"),
    Column("closed_on_time", "Closed on time", "按期结案数"),
    Column("closure_rate", "Closure rate", "结案率"),
    Column("on_time_rate", "On-time rate", "按期结案率"),
    Column("rework_rate", "Rework rate", "返工率"),
    Column("volume_points", "Volume points", "案件量分值"),
    Column("score", "Score", "综合得分"),
    Column("grade", "Grade", "等级"),
    Column("rank", "Rank", "排名"),
]
