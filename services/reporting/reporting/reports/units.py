"""The units report (单位考核): per-unit counters, rates, score, grade and rank.

Over whole local days the figures add up the daily rollup (``unit_days``: each settled
day's event counters and closures per unit) and read the rest live; other periods are
live SQL throughout. The red/black lists and the
accountability notices are read from this report.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from reporting.report_settings.service import EffectiveSettings
from reporting.reports.days import day_spans, midnight, settled, whole_days
from reporting.reports.export import Column
from reporting.reports.period import Period
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
from shared.models.reporting import UNIT_EVENT_COUNTERS

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
# settled day's counts never change and can be rolled up, see ``unit_days``):
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
# The event counters, as ``unit_days`` stores them (its model's column list).
COUNTER_NAMES = UNIT_EVENT_COUNTERS

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

# The state figures (open, overdue, due, closed) of every unit, live: the ``st`` CTE
# over the candidate cases ``stc``, and the row of every unit.
STATE_FIGURES = f"""st AS (
    SELECT c.unit_id,
           count(*) FILTER (WHERE {OPEN}) AS open,
           count(*) FILTER (WHERE {OVERDUE}) AS overdue_open,
           count(*) FILTER (WHERE {DUE}) AS due,
           count(*) FILTER (WHERE {CLOSED}) AS closed,
           count(*) FILTER (WHERE {CLOSED_ON_TIME}) AS closed_on_time
    FROM stc c
    GROUP BY 1
)"""
UNIT_ROWS = """
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
), {STATE_FIGURES}{UNIT_ROWS}"""

# --- the daily rollup (unit_days, migration 0016) ----------------------------------------
#
# A settled local day (ended plus SETTLE_MARGIN) is stored once, for every day from the
# region's first case on: per unit its event counters (immutable events, stamped by the
# server) and its closures (``closed`` is a final status: the case's unit, deadline,
# closure and on-time flag never change again). A report over whole local days adds up
# the stored days and counts the rest live; the result is exactly the live one
# (``tests/reporting/test_unit_rollup.py`` compares them after late changes).
#
# The state figures of a case closed at C, dispatched at D, due at U, for a period
# [s, e) with as-of a (s ≤ a ≤ e), from sql.py's definitions:
#   C < s       counts only if s ≤ U < a  (due and closed: an early closure before the
#               period of a deadline inside it);
#   s ≤ C < a   is due and closed exactly when U < e (on time by its flag), never open;
#   C ≥ a       counts only if D < a (open at as-of; overdue, due by its deadline).
# So a stored day inside [s, a) adds its ``closed``/``closed_on_time`` (minus, read live,
# its cases due from e on, when its ``latest_due`` says it has any), and a stored day
# outside adds nothing unless its run's bounds (``earliest_start``, ``latest_due``) say a
# case of it can straddle s or a; those days, the unstored ones and the unclosed cases
# are read case by case with the live definitions.
SETTLE_MARGIN = timedelta(days=1)
# Practical infinities for the open ends of the unstored spans.
BEFORE_ALL = datetime(1900, 1, 1, tzinfo=UTC)
AFTER_ALL = datetime(9999, 1, 1, tzinfo=UTC)

ROLLUP_DAYS_SQL = f"""
INSERT INTO unit_days (region_id, day, unit_id, {", ".join(COUNTER_NAMES)}, closed, closed_on_time)
SELECT :rid, x.day, x.unit_id, {", ".join(f"sum(x.{n})" for n in COUNTER_NAMES)},
       sum(x.closed), sum(x.closed_on_time)
FROM (
    SELECT e.day, e.unit_id, {EVENT_COUNTERS}, 0 AS closed, 0 AS closed_on_time
    FROM (
        SELECT (e.at AT TIME ZONE :tz)::date AS day,
               e.action, e.at, {EVENT_UNIT} AS unit_id, {EVENT_DUE} AS due_at
        FROM case_events e
        WHERE e.region_id = :rid AND e.at >= :s AND e.at < :e AND e.action IN {EVENT_ACTIONS}
    ) AS e
    WHERE e.unit_id IS NOT NULL
    GROUP BY 1, 2
    UNION ALL
    SELECT (c.closed_at AT TIME ZONE :tz)::date, c.unit_id, {", ".join("0" for _ in COUNTER_NAMES)},
           count(*), count(*) FILTER (WHERE c.closed_on_time IS TRUE)
    FROM cases c
    WHERE c.region_id = :rid AND c.status = 'closed' AND c.unit_id IS NOT NULL
      AND c.closed_at >= :s AND c.closed_at < :e
    GROUP BY 1, 2
) AS x
WHERE x.day = ANY(CAST(:days AS date[]))
GROUP BY x.day, x.unit_id
ON CONFLICT DO NOTHING
"""
ROLLUP_RUNS_SQL = """
INSERT INTO unit_day_runs (region_id, day, computed_at, earliest_start, latest_due)
SELECT :rid, d.day, now(), b.earliest_start, b.latest_due
FROM unnest(CAST(:days AS date[])) AS d(day)
LEFT JOIN (
    SELECT (c.closed_at AT TIME ZONE :tz)::date AS day,
           min(least(coalesce(c.dispatched_at, c.reported_at), c.due_at)) AS earliest_start,
           max(c.due_at) AS latest_due
    FROM cases c
    WHERE c.region_id = :rid AND c.status = 'closed' AND c.unit_id IS NOT NULL
      AND c.closed_at >= :s AND c.closed_at < :e
    GROUP BY 1
) AS b ON b.day = d.day
ON CONFLICT DO NOTHING
"""
STORED_DAYS_SQL = """
SELECT r.day, r.earliest_start, r.latest_due FROM unit_day_runs r
WHERE r.region_id = :rid AND r.day >= :d0 AND r.day <= :d1
ORDER BY r.day
"""
# The region's first case (an index probe: no expression on the indexed column).
FIRST_CASE_SQL = "SELECT min(c.reported_at) FROM cases c WHERE c.region_id = :rid"
# One lock per region: concurrent first requests compute a day once.
ROLLUP_LOCK_SQL = "SELECT pg_advisory_xact_lock(hashtextextended('unit_days:' || :rid, 0))"

# The event counters of the stored days of a period.
STORED_EVENTS_SQL = f"""
SELECT d.unit_id, {", ".join(f"sum(d.{n})::bigint AS {n}" for n in COUNTER_NAMES)}
FROM unit_days d
WHERE d.region_id = :rid AND d.day = ANY(CAST(:days AS date[]))
GROUP BY 1
"""
# ... minus, live, the events in those days of the cases cancelled since (a case is
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
      AND (e.at AT TIME ZONE :tz)::date = ANY(CAST(:days AS date[]))
) AS e
WHERE e.unit_id IS NOT NULL
GROUP BY 1
"""
# The stored closures of the days inside [s, as-of), per unit; ``has_state``: the unit
# has a closure stored on a day from s on (a case a live sweep would have found).
STORED_CLOSED_SQL = """
SELECT d.unit_id,
       coalesce(sum(d.closed) FILTER (WHERE d.day = ANY(CAST(:inside AS date[]))), 0)::bigint
           AS closed,
       coalesce(sum(d.closed_on_time) FILTER (WHERE d.day = ANY(CAST(:inside AS date[]))), 0)
           ::bigint AS closed_on_time
FROM unit_days d
WHERE d.region_id = :rid AND d.day >= :s_day AND d.closed > 0
GROUP BY 1
"""
# The stored closures inside [s, as-of) that are not due in the period (deadline from e
# on): subtracted from the stored days' figures.
NOT_DUE_SQL = """
SELECT c.unit_id, count(*) AS closed,
       count(*) FILTER (WHERE c.closed_on_time IS TRUE) AS closed_on_time
FROM unnest(CAST(:lo AS timestamptz[]), CAST(:hi AS timestamptz[])) AS sp(lo, hi)
JOIN LATERAL (
    SELECT c.unit_id, c.closed_on_time FROM cases c
    WHERE c.region_id = :rid AND c.closed_at >= sp.lo AND c.closed_at < sp.hi
      AND c.status = 'closed' AND c.unit_id IS NOT NULL AND c.due_at >= :e
) AS c ON true
GROUP BY 1
"""
# The cases read one by one: unclosed, and closed in the given spans (unstored days, and
# stored days holding a case that may straddle s or as-of), as far as a live sweep
# would take them (STATE_SQL's three sweeps).
STATE_LIVE_SQL = f"""
WITH stc AS (
    SELECT {STATE_COLUMNS} FROM cases c
    WHERE c.region_id = :rid AND c.closed_at IS NULL AND {HELD} AND c.unit_id IS NOT NULL
    UNION ALL
    SELECT {STATE_COLUMNS}
    FROM unnest(CAST(:lo AS timestamptz[]), CAST(:hi AS timestamptz[])) AS sp(lo, hi)
    JOIN LATERAL (
        SELECT {STATE_COLUMNS} FROM cases c
        WHERE c.region_id = :rid AND c.closed_at >= sp.lo AND c.closed_at < sp.hi
          AND {HELD} AND c.unit_id IS NOT NULL
          AND (c.closed_at >= {PERIOD_FLOOR} OR (c.due_at >= :s AND c.due_at < :asof))
    ) AS c ON true
), {STATE_FIGURES}{UNIT_ROWS}"""
ROW_ORDER = (
    "unit_id unit_code unit_name assigned rectified rectified_on_time rectified_late open"
    " overdue_open rework returned extended parked closed closed_on_time due"
).split()


@dataclass(frozen=True)
class StoredDay:
    """A computed day of ``unit_days`` and the bounds of its closed cases."""

    day: date
    earliest_start: datetime | None
    latest_due: datetime | None


def _bounds(spans: list[tuple[datetime, datetime]]) -> dict[str, list[datetime]]:
    return {"lo": [lo for lo, _ in spans], "hi": [hi for _, hi in spans]}


async def ensure_rollup(
    session: AsyncSession, region_id: uuid.UUID, tz: ZoneInfo, now: datetime
) -> list[StoredDay]:
    """Store every settled day not stored yet, from the region's first case on; the stored
    days (oldest first). The daily run calls it, so reports find the days computed."""
    first_case = (await session.execute(text(FIRST_CASE_SQL), {"rid": region_id})).scalar()
    first = first_case.astimezone(tz).date() if first_case is not None else None
    today = now.astimezone(tz).date()
    last = today - timedelta(days=1)
    while last >= (first or today) and not settled(last, tz, now):
        last -= timedelta(days=1)
    if first is None or last < first:
        return []
    bounds = {"rid": region_id, "d0": first, "d1": last}
    rows = (await session.execute(text(STORED_DAYS_SQL), bounds)).all()
    if len(rows) < (last - first).days + 1:
        await session.execute(text(ROLLUP_LOCK_SQL), {"rid": str(region_id)})
        have = {r.day for r in (await session.execute(text(STORED_DAYS_SQL), bounds)).all()}
        missing = [
            first + timedelta(days=n)
            for n in range((last - first).days + 1)
            if first + timedelta(days=n) not in have
        ]
        if missing:
            await session.execute(STATEMENT_SETTINGS)
            params = {
                "rid": region_id,
                "tz": tz.key,
                "s": midnight(missing[0], tz),
                "e": midnight(missing[-1] + timedelta(days=1), tz),
                "days": missing,
            }
            await session.execute(text(ROLLUP_DAYS_SQL), params)
            await session.execute(text(ROLLUP_RUNS_SQL), params)
        rows = (await session.execute(text(STORED_DAYS_SQL), bounds)).all()
    return [StoredDay(r.day, r.earliest_start, r.latest_due) for r in rows]


def _add(totals: dict[uuid.UUID, dict[str, int]], rows: list[dict[str, Any]], names, sign=1):
    for row in rows:
        acc = totals.setdefault(row["unit_id"], dict.fromkeys(names, 0))
        for name in names:
            acc[name] += sign * int(row[name])


async def _live_event_counts(
    session: AsyncSession, region_id: uuid.UUID, spans: list[tuple[datetime, datetime]]
) -> dict[uuid.UUID, dict[str, int]]:
    totals: dict[uuid.UUID, dict[str, int]] = {}
    for start, end in spans:
        rows = await fetch(session, EVENTS_SQL, {"rid": region_id, "s": start, "e": end})
        _add(totals, rows, COUNTER_NAMES)
    return totals


async def _rollup_event_counts(
    session: AsyncSession, region_id: uuid.UUID, period: Period, days: list[date], stored: set
) -> dict[uuid.UUID, dict[str, int]]:
    """The period's event counters: its stored days from the rollup (less the events of
    cases cancelled since), the rest live."""
    tz = period.tz
    kept = [d for d in days if d in stored]
    totals = await _live_event_counts(session, region_id, day_spans(days, tz, stored))
    if kept:
        _add(
            totals,
            await fetch(session, STORED_EVENTS_SQL, {"rid": region_id, "days": kept}),
            COUNTER_NAMES,
        )
        cancelled = {
            "rid": region_id,
            "tz": tz.key,
            "s": midnight(kept[0], tz),
            "e": midnight(kept[-1] + timedelta(days=1), tz),
            "days": kept,
        }
        _add(totals, await fetch(session, CANCELLED_EVENTS_SQL, cancelled), COUNTER_NAMES, -1)
    return totals


async def _rollup_state(
    session: AsyncSession,
    region_id: uuid.UUID,
    period: Period,
    now: datetime,
    stored_days: list[StoredDay],
) -> list[dict[str, Any]]:
    """STATE_SQL's rows from the stored closures plus the cases read one by one."""
    tz, s, e, a = period.tz, period.start, period.end, period.as_of(now)
    inside: list[date] = []
    read: list[date] = []  # stored days whose cases are read one by one
    not_due: list[date] = []  # stored days inside [s, a) with a case due from e on
    for d in stored_days:
        lo, hi = midnight(d.day, tz), midnight(d.day + timedelta(days=1), tz)
        if lo >= s and hi <= a:
            inside.append(d.day)
            if d.latest_due is not None and d.latest_due >= e:
                not_due.append(d.day)
        elif hi <= s:
            if d.latest_due is not None and d.latest_due >= s:
                read.append(d.day)
        elif lo >= a:
            if d.earliest_start is not None and d.earliest_start < a:
                read.append(d.day)
        else:  # a day across s or as-of (periods of whole days have none): read it
            read.append(d.day)
    first, last = stored_days[0].day, stored_days[-1].day
    have = {d.day for d in stored_days}
    gaps = [
        first + timedelta(days=n)
        for n in range((last - first).days + 1)
        if first + timedelta(days=n) not in have
    ]
    spans = sorted(
        [
            (BEFORE_ALL, midnight(first, tz)),
            (midnight(last + timedelta(days=1), tz), AFTER_ALL),
            *day_spans(sorted(read + gaps), tz),
        ]
    )
    params = period_params(region_id, period, now)
    rows = await fetch(session, STATE_LIVE_SQL, {**params, **_bounds(spans)})
    closed = {
        r["unit_id"]: r
        for r in await fetch(
            session,
            STORED_CLOSED_SQL,
            {"rid": region_id, "inside": inside, "s_day": s.astimezone(tz).date()},
        )
    }
    minus = {}
    if not_due:
        minus = {
            r["unit_id"]: r
            for r in await fetch(
                session, NOT_DUE_SQL, {"rid": region_id, "e": e, **_bounds(day_spans(not_due, tz))}
            )
        }
    for row in rows:
        add = closed.get(row["unit_id"])
        if add is None:
            continue
        sub = minus.get(row["unit_id"], {"closed": 0, "closed_on_time": 0})
        count = add["closed"] - sub["closed"]
        on_time = add["closed_on_time"] - sub["closed_on_time"]
        row["due"] += count
        row["closed"] += count
        row["closed_on_time"] += on_time
        row["has_state"] = True
    return rows


async def unit_figures(
    session: AsyncSession,
    region_id: uuid.UUID,
    period: Period,
    now: datetime,
    *,
    rollup: bool = True,
) -> list[dict[str, Any]]:
    """Per unit of the region, the counters of the units report (all units: ranks need them):
    from the daily rollup when the period is whole local days, live otherwise.

    ``rollup=False`` computes every counter live (tests compare both ways)."""
    days = whole_days(period.start, period.end, period.tz) if rollup else None
    stored_days = await ensure_rollup(session, region_id, period.tz, now) if days else []
    if stored_days and period.as_of(now) >= period.start:
        stored = {d.day for d in stored_days}
        events = await _rollup_event_counts(session, region_id, period, days, stored)
        state = await _rollup_state(session, region_id, period, now, stored_days)
    else:
        events = await _live_event_counts(session, region_id, [(period.start, period.end)])
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
