"""The chiefs report (片长/路长): the cases of each chief's patch, by division or road.

Each figure is counted once per (division, sample point, address) of the cases — the
key a patch is resolved from — and the chiefs then add up the patches they cover.

**Monthly rollup of closed cases.** Over years nearly every case is closed, and a closed
case is final (its unit, deadline, closure, dispatch and rectification never change
again), as is a cancelled one (which never counts). So the cases are split by whether
their status can still change:

- *neither closed nor cancelled* (held, parked, returned … a few thousand): always live,
  every figure (``ix_cases_region_reported_changing``, ``ix_cases_region_unclosed_held``);
- *closed*: for each settled month (local, ended plus a day, ``settled_months``) of the
  period, ``chief_case_months`` stores per key the closed cases *reported* in it (the
  ``cases`` figure) and those *closed* in it (the state figures); rows created after the
  month's run (its ``cutoff``: the run's time minus ``CREATED_MARGIN``), and for
  ``reported`` the cases closed after it, are counted live instead — never twice.

Whether a closed case counts in ``due``/``closed``/``open``/``overdue`` (``sql.py``)
depends on where its closure ``c`` lies against the period's start ``s``, as-of ``a``
and end ``e``. Stored months lie inside ``[s, a)``, and for ``s <= c < a``: ``OPEN`` and
``OVERDUE`` are false (closed before as-of), ``DUE`` reduces to ``due_at < e`` and
``CLOSED`` to ``DUE``. So a stored closure counts as due and closed, less the few closed
ahead of a deadline from ``e`` on (found live: ``ix_cases_region_closed_early``). The
closed cases that straddle an edge are counted live with the full definitions, each by
a bounded index range: closed at or after as-of (open/overdue/due at as-of), closed in
the period's partial or unsettled months, closed before ``s`` ahead of a deadline in
``[s, a)``. The live statement (``CHIEFS_SQL``; ``rollup=False``) is the reference:
``tests/reporting/test_chief_rollup.py`` compares both as JSON after late changes.

The daily run computes the months of the last three years and recomputes a month once
its run is ``CHIEF_REFRESH_AGE`` old, which bounds the live sweep of cases closed since
the earliest run. Periods with no settled whole month are computed live.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from reporting.reports.days import CREATED_MARGIN, SETTLE_MARGIN, day_spans, midnight
from reporting.reports.export import Column
from reporting.reports.period import Period, month_bounds
from reporting.reports.sql import (
    CLOSED,
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
from reporting.reports.units import AFTER_ALL, STORED_DAYS_SQL, StoredDay

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
# Each step adds up int4 counts (a sum of int4 adds up in an int8): a sum of bigints is
# a numeric, and adding up thousands of those cost 10-15 % of the month's statement.
_PATCH_SUMS = ", ".join(
    f"sum(f_{name}::int)::int AS f_{name}" for name in ("cases", "open", "overdue", "due", "closed")
)
IN_PERIOD = "(c.reported_at >= :s AND c.reported_at < :e)"
NOT_IN_PERIOD = "(c.reported_at < :s OR c.reported_at >= :e)"
CHIEF_CASE_COLUMNS = f"c.division_id, c.sample_point_id, c.address, {STATE_COLUMNS}"
LIVE_COUNTS = f"""
cand AS (
    -- CHIEF_CANDIDATE in disjoint sweeps: the cases reported in the period; of the
    -- others only held ones can count (open, overdue, due, closed), found as in the
    -- units report: unclosed, closed from the period's start on, or due inside it.
    SELECT {CHIEF_CASE_COLUMNS} FROM cases c
    WHERE c.region_id = :rid AND {IN_PERIOD} AND c.status <> 'cancelled'
    UNION ALL
    SELECT {CHIEF_CASE_COLUMNS} FROM cases c
    WHERE c.region_id = :rid AND c.closed_at IS NULL AND {HELD} AND {NOT_IN_PERIOD}
    UNION ALL
    SELECT {CHIEF_CASE_COLUMNS} FROM cases c
    WHERE c.region_id = :rid AND c.closed_at >= {PERIOD_FLOOR} AND {HELD} AND {NOT_IN_PERIOD}
    UNION ALL
    SELECT {CHIEF_CASE_COLUMNS} FROM cases c
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
)
"""
# The patches and the chiefs: ``g`` holds (part of) the figures of a (division, point,
# address) key, possibly in several rows; they are added up once per patch pair (a
# key's division — its own, else its point's — and address, its own else its point's),
# then per division subtree and per road: each area or grid chief joins its one row by
# hash (not 250 chiefs × 250 paths prefix-matched with LIKE).
PATCHES_AND_CHIEFS = f"""
cc AS MATERIALIZED (
    SELECT coalesce(g.division_id, sp.division_id) AS patch_division,
           coalesce(nullif(g.address, ''), sp.address, '') AS patch_address,
           {_PATCH_SUMS}
    FROM g
    LEFT JOIN sample_points sp ON sp.region_id = :rid AND sp.id = g.sample_point_id
    GROUP BY 1, 2
), by_division AS MATERIALIZED (
    -- Each division's subtree: a patch counts for every division on its path (the
    -- ancestors' ids and its own, as the registry resolves a point's chiefs).
    SELECT anc.id AS division_id, {_PATCH_SUMS}
    FROM cc
    JOIN divisions cd ON cd.region_id = :rid AND cd.id = cc.patch_division
    CROSS JOIN unnest(CAST(string_to_array(trim(BOTH '/' FROM cd.path), '/') AS uuid[])) AS anc(id)
    GROUP BY anc.id
), by_road AS MATERIALIZED (
    -- A road chief's patches: the addresses naming the road.
    SELECT ch.id AS chief_id, {_PATCH_SUMS}
    FROM chiefs ch
    JOIN (SELECT patch_address, {_PATCH_SUMS} FROM cc GROUP BY patch_address) AS ba
      ON strpos(ba.patch_address, ch.road_name) > 0
    WHERE ch.region_id = :rid AND ch.kind = 'road' AND ch.road_name <> '' {{person_filter}}
    GROUP BY ch.id
)
SELECT ch.id AS chief_id, ch.kind, ch.person_id, p.display_name AS person_name,
       ch.division_id, d.name AS division_name, ch.road_name,
       coalesce(bd.f_cases, br.f_cases, 0) AS cases,
       coalesce(bd.f_open, br.f_open, 0) AS open,
       coalesce(bd.f_overdue, br.f_overdue, 0) AS overdue,
       coalesce(bd.f_due, br.f_due, 0) AS due,
       coalesce(bd.f_closed, br.f_closed, 0) AS closed
FROM chiefs ch
JOIN people p ON p.region_id = ch.region_id AND p.id = ch.person_id
LEFT JOIN divisions d ON d.region_id = ch.region_id AND d.id = ch.division_id
LEFT JOIN by_division bd ON ch.kind <> 'road' AND bd.division_id = ch.division_id
LEFT JOIN by_road br ON br.chief_id = ch.id
WHERE ch.region_id = :rid {{person_filter}}
ORDER BY ch.kind, p.display_name, ch.id
"""
CHIEFS_SQL = f"WITH {LIVE_COUNTS}, {PATCHES_AND_CHIEFS}"

# --- the monthly rollup of closed cases (see the module's docstring) ---------------------

# The daily run recomputes a stored month once its run is older than this: the report
# reads the cases closed since the earliest run live, so this bounds that sweep.
CHIEF_REFRESH_AGE = timedelta(days=31)
LOCAL_MONTH = "(date_trunc('month', {col} AT TIME ZONE :tz))::date"
NO_ID = "'00000000-0000-0000-0000-000000000000'::uuid"  # a key column's "none"
# Stored: per settled month, the closed cases reported in it and the cases closed in it,
# of the cases created (and, for ``reported``, closed) before the run's cutoff.
STORE_MONTHS_SQL = f"""
INSERT INTO chief_case_months
    (region_id, month, division_id, sample_point_id, address, reported, closed)
SELECT :rid, k.month, coalesce(k.division_id, {NO_ID}), coalesce(k.sample_point_id, {NO_ID}),
       coalesce(k.address, ''), sum(k.reported), sum(k.closed)
FROM (
    SELECT {LOCAL_MONTH.format(col="c.reported_at")} AS month,
           c.division_id, c.sample_point_id, c.address, 1 AS reported, 0 AS closed
    FROM cases c
    WHERE c.region_id = :rid AND c.status = 'closed'
      AND c.reported_at >= :s AND c.reported_at < :e
      AND c.closed_at < :cutoff AND c.created_at < :cutoff
    UNION ALL
    SELECT {LOCAL_MONTH.format(col="c.closed_at")} AS month,
           c.division_id, c.sample_point_id, c.address, 0 AS reported, 1 AS closed
    FROM cases c
    WHERE c.region_id = :rid AND c.closed_at >= :s AND c.closed_at < :e
      AND c.created_at < :cutoff
) AS k
WHERE k.month = ANY(CAST(:months AS date[]))
GROUP BY 2, 3, 4, 5
"""
STORE_RUNS_SQL = """
INSERT INTO chief_case_month_runs (region_id, month, cutoff, computed_at)
SELECT :rid, m, :cutoff, now() FROM unnest(CAST(:months AS date[])) AS m
"""
RUNS_SQL = """
SELECT r.month, r.cutoff FROM chief_case_month_runs r
WHERE r.region_id = :rid AND r.month >= :m0 AND r.month < :m1
"""
DROP_MONTHS_SQL = [
    f"DELETE FROM {table} WHERE region_id = :rid AND month = ANY(CAST(:months AS date[]))"
    for table in ("chief_case_months", "chief_case_month_runs")
]
LOCK_SQL = "SELECT pg_advisory_xact_lock(hashtextextended('chief_case_months:' || :rid, 0))"

# The figures of a period whose settled months [:ms, :me) (dates :m0, :m1) are stored:
# every row of ``live`` is a case counted live for the ``cases`` figure (``for_cases``),
# the state figures (``for_state``) or both; ``g`` adds the stored months and the
# closures across the period's edges to them. Sweeps (each an index range; together,
# with the stored months, every case exactly once per figure — see the module's
# docstring). The closures ahead of their deadline across the period's start or end
# count +1 or −1 in ``due`` and ``closed`` whatever else they hold, so they are added up
# per key from ``ix_cases_region_closed_early`` alone (it carries the key, migration
# 0019: no case is fetched; a month of deadlines holds tens of thousands of them, a few
# thousand qualify).
ROLLUP_COUNTS = f"""
runs AS MATERIALIZED (
    SELECT r.month, r.cutoff FROM chief_case_month_runs r
    WHERE r.region_id = :rid AND r.month >= :m0 AND r.month < :m1
), late AS MATERIALIZED (
    -- Closed cases closed or created after the earliest run (the stored months'
    -- late rows are among them).
    SELECT {CHIEF_CASE_COLUMNS}, c.created_at FROM cases c
    WHERE c.region_id = :rid AND c.closed_at >= :min_cutoff
    UNION ALL
    SELECT {CHIEF_CASE_COLUMNS}, c.created_at FROM cases c
    WHERE c.region_id = :rid AND c.created_at >= :min_cutoff AND c.closed_at < :min_cutoff
), edge_closures AS (
    -- Closed before the period ahead of a deadline inside it (before as-of): due and
    -- closed in it (+1); stored closures ahead of a deadline from the period's end on:
    -- not due in it (−1). Keys from ``ix_cases_region_closed_early`` alone.
    SELECT k.division_id, k.sample_point_id, k.address, 1 AS sign FROM cases k
    WHERE k.region_id = :rid AND k.status = 'closed' AND k.closed_at < k.due_at
      AND k.due_at >= :s AND k.due_at < :asof AND k.closed_at < :s
    UNION ALL
    SELECT k.division_id, k.sample_point_id, k.address, -1 FROM cases k
    JOIN runs r ON r.month = {LOCAL_MONTH.format(col="k.closed_at")}
    WHERE k.region_id = :rid AND k.status = 'closed' AND k.closed_at < k.due_at
      AND k.due_at >= :e AND k.closed_at >= :ms AND k.closed_at < :me
      AND k.created_at < r.cutoff
), live AS (
    -- Cases whose status can still change (neither closed nor cancelled): every figure.
    SELECT true AS for_cases, true AS for_state, {CHIEF_CASE_COLUMNS} FROM cases c
    WHERE c.region_id = :rid AND {IN_PERIOD} AND c.status NOT IN ('closed', 'cancelled')
    UNION ALL
    SELECT true, true, {CHIEF_CASE_COLUMNS} FROM cases c
    WHERE c.region_id = :rid AND c.closed_at IS NULL AND {HELD} AND {NOT_IN_PERIOD}
    -- Closed cases reported in the period outside the stored months: ``cases``.
    UNION ALL
    SELECT true, false, {CHIEF_CASE_COLUMNS} FROM cases c
    WHERE c.region_id = :rid AND c.status = 'closed' AND c.reported_at >= :s AND c.reported_at < :ms
    UNION ALL
    SELECT true, false, {CHIEF_CASE_COLUMNS} FROM cases c
    WHERE c.region_id = :rid AND c.status = 'closed' AND c.reported_at >= :me AND c.reported_at < :e
    -- Closed from the period's start on outside the stored months (as-of and after
    -- included): the state figures. Closed from :me on, a case counts only if dispatched
    -- or due before as-of (always so when closed before it).
    UNION ALL
    SELECT false, true, {CHIEF_CASE_COLUMNS} FROM cases c
    WHERE c.region_id = :rid AND c.closed_at >= :s AND c.closed_at < :ms
    -- Only on the days that can hold such a case (:alo/:ahi, from the units report's
    -- day bounds: see ``straddle_spans``).
    UNION ALL
    SELECT false, true, {CHIEF_CASE_COLUMNS}
    FROM unnest(CAST(:alo AS timestamptz[]), CAST(:ahi AS timestamptz[])) AS sp(lo, hi)
    JOIN LATERAL (
        SELECT {CHIEF_CASE_COLUMNS} FROM cases c
        WHERE c.region_id = :rid AND c.closed_at >= sp.lo AND c.closed_at < sp.hi
          AND (coalesce(c.dispatched_at, c.reported_at) < :asof OR c.due_at < :asof)
    ) AS c ON true
    -- The stored months' late rows: reported in one and closed or created after its
    -- run (``cases``); closed in one and created after its run (the state figures).
    UNION ALL
    SELECT true, false, {CHIEF_CASE_COLUMNS} FROM late c
    JOIN runs r ON r.month = {LOCAL_MONTH.format(col="c.reported_at")}
    WHERE c.reported_at >= :ms AND c.reported_at < :me
      AND (c.closed_at >= r.cutoff OR c.created_at >= r.cutoff)
    UNION ALL
    SELECT false, true, {CHIEF_CASE_COLUMNS} FROM late c
    JOIN runs r ON r.month = {LOCAL_MONTH.format(col="c.closed_at")}
    WHERE c.closed_at >= :ms AND c.closed_at < :me AND c.created_at >= r.cutoff
), g AS (
    SELECT c.division_id, c.sample_point_id, c.address,
           count(*) FILTER (WHERE c.for_cases AND {IN_PERIOD}) AS f_cases,
           count(*) FILTER (WHERE c.for_state AND {OPEN}) AS f_open,
           count(*) FILTER (WHERE c.for_state AND {OVERDUE}) AS f_overdue,
           count(*) FILTER (WHERE c.for_state AND {DUE}) AS f_due,
           count(*) FILTER (WHERE c.for_state AND {CLOSED}) AS f_closed
    FROM live c
    GROUP BY 1, 2, 3
    UNION ALL
    -- A stored closure (closed in [:ms, :me), inside [:s, as-of)) is due and closed in
    -- the period unless its deadline is from the period's end on (``edge_closures``,
    -- −1), and never open or overdue at as-of.
    SELECT nullif(m.division_id, {NO_ID}), nullif(m.sample_point_id, {NO_ID}), m.address,
           sum(m.reported), 0, 0, sum(m.closed), sum(m.closed)
    FROM chief_case_months m
    WHERE m.region_id = :rid AND m.month >= :m0 AND m.month < :m1
    GROUP BY 1, 2, 3
    UNION ALL
    -- Closed before the period ahead of a deadline in it: due and closed, never open
    -- (closed before as-of); the stored ones due from the period's end on: neither.
    SELECT k.division_id, k.sample_point_id, k.address, 0, 0, 0, sum(k.sign), sum(k.sign)
    FROM edge_closures k
    GROUP BY 1, 2, 3
)
"""
CHIEFS_ROLLUP_SQL = f"WITH {ROLLUP_COUNTS}, {PATCHES_AND_CHIEFS}"


def settled_months(period: Period, now: datetime) -> list[tuple[date, datetime, datetime]]:
    """The whole calendar months (local) inside the period that are settled at ``now``
    (ended plus ``SETTLE_MARGIN``): ``(first day, start, end)``, contiguous, oldest first."""
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
    """The first day of the month after ``month`` (a ``settled_months`` item)."""
    return month[2].astimezone(ZoneInfo(tz)).date()


async def ensure_chief_months(
    session: AsyncSession,
    region_id: uuid.UUID,
    tz: str,
    months: list[tuple[date, datetime, datetime]],
    *,
    refresh_before: datetime | None = None,
) -> list[date]:
    """Store the given settled months not stored yet — and those whose run's cutoff is
    before ``refresh_before`` (the daily run: keeps the live sweep of cases closed since
    a run short); the months computed."""
    if not months:
        return []
    bounds = {"rid": region_id, "m0": months[0][0], "m1": _following(months[-1], tz)}

    async def missing_months() -> list[tuple[date, datetime, datetime]]:
        runs = dict((await session.execute(text(RUNS_SQL), bounds)).all())
        return [
            m
            for m in months
            if m[0] not in runs or (refresh_before is not None and runs[m[0]] < refresh_before)
        ]

    if not await missing_months():
        return []
    await session.execute(text(LOCK_SQL), {"rid": str(region_id)})
    missing = await missing_months()
    if not missing:
        return []
    firsts = [m for m, _, _ in missing]
    for sql in DROP_MONTHS_SQL:
        await session.execute(text(sql), {"rid": region_id, "months": firsts})
    cutoff = await session.scalar(
        text("SELECT now() - CAST(:margin AS interval)"), {"margin": CREATED_MARGIN}
    )
    await session.execute(STATEMENT_SETTINGS)
    # One month per statement: each stays short (statement timeout) however far back.
    for first, start, end in missing:
        await session.execute(
            text(STORE_MONTHS_SQL),
            {"rid": region_id, "tz": tz, "s": start, "e": end, "months": [first], "cutoff": cutoff},
        )
    await session.execute(
        text(STORE_RUNS_SQL), {"rid": region_id, "months": firsts, "cutoff": cutoff}
    )
    return firsts


async def stored_unit_days(
    session: AsyncSession, region_id: uuid.UUID, first: date
) -> list[StoredDay]:
    """The days from ``first`` on that the units report has stored (``unit_day_runs``,
    computed by the daily run), oldest first. Only these are needed: not the three years
    ``ensure_rollup`` reads (1,100 rows, 5 ms of Python per request); a day not stored
    is read live (``straddle_spans``)."""
    bounds = {"rid": region_id, "d0": first, "d1": date.max}
    rows = (await session.execute(text(STORED_DAYS_SQL), bounds)).all()
    return [StoredDay(r.day, r.earliest_start, r.latest_due) for r in rows]


def straddle_spans(
    stored_days: list[StoredDay], start: datetime, as_of: datetime, tz: ZoneInfo
) -> list[tuple[datetime, datetime]]:
    """The spans from ``start`` on whose closed cases may have been dispatched or due before
    ``as_of``: every day the units report has not stored, and the stored days whose
    earliest dispatch or deadline (``unit_day_runs.earliest_start``, over the day's closed
    cases — a case is only closed after a dispatch to a unit) is before it."""
    first = start.astimezone(tz).date()
    kept = [
        d.day
        for d in stored_days
        if d.day >= first and (d.earliest_start is None or d.earliest_start >= as_of)
    ]
    after = max((d.day for d in stored_days), default=first - timedelta(days=1))
    days = [first + timedelta(days=n) for n in range((after - first).days + 1)]
    spans = day_spans(days, tz, set(kept))
    spans.append((max(start, midnight(after + timedelta(days=1), tz)), AFTER_ALL))
    return [(max(lo, start), hi) for lo, hi in spans]


async def chiefs(
    session: AsyncSession,
    region_id: uuid.UUID,
    period: Period,
    now: datetime,
    *,
    person_id: uuid.UUID | None,
    rollup: bool = True,
) -> list[dict[str, Any]]:
    """Per chief, the figures of the period: the settled whole months' closed cases from
    the rollup, everything else live (``rollup=False``: all live, as tests compare)."""
    params = period_params(region_id, period, now)
    person_filter = ""
    if person_id is not None:
        person_filter, params["person"] = "AND ch.person_id = :person", person_id
    months = settled_months(period, now) if rollup else []
    if not months:
        return await fetch(session, CHIEFS_SQL.format(person_filter=person_filter), params)
    tz = period.tz.key
    await ensure_chief_months(session, region_id, tz, months)
    m0, m1 = months[0][0], _following(months[-1], tz)
    min_cutoff = await session.scalar(
        text(
            "SELECT min(r.cutoff) FROM chief_case_month_runs r"
            " WHERE r.region_id = :rid AND r.month >= :m0 AND r.month < :m1"
        ),
        {"rid": region_id, "m0": m0, "m1": m1},
    )
    after_months = months[-1][2]
    spans = straddle_spans(
        await stored_unit_days(session, region_id, after_months.astimezone(period.tz).date()),
        after_months,
        period.as_of(now),
        period.tz,
    )
    params |= {
        "m0": m0,
        "m1": m1,
        "ms": months[0][1],
        "me": months[-1][2],
        "min_cutoff": min_cutoff,
        "alo": [lo for lo, _ in spans],
        "ahi": [hi for _, hi in spans],
    }
    return await fetch(session, CHIEFS_ROLLUP_SQL.format(person_filter=person_filter), params)


CHIEF_COLUMNS = [
    Column("chief_id", "Chief ID", "片长ID"),
    Column("kind", "Kind", "类型"),
    Column("person_name", "Person", "姓名"),
    Column("division_name", "Division", "片区/网格"),
    Column("road_name", "Road", "道路"),
    Column("cases", "Cases reported", "案件数"),
    Column("open", "Open", "未结案件"),
    Column("overdue", "Overdue", "超期案件"),
    Column("due", "Due", "应结案数"),
    Column("closed", "Closed", "结案数"),
    Column("closure_rate", "Closure rate", "结案率"),
]


async def chiefs_report(
    session: AsyncSession,
    region_id: uuid.UUID,
    period: Period,
    now: datetime,
    *,
    person_id: uuid.UUID | None,
    rollup: bool = True,
) -> list[dict[str, Any]]:
    rows = await chiefs(session, region_id, period, now, person_id=person_id, rollup=rollup)
    for row in rows:
        row["closure_rate"] = rate(row["closed"], row["due"])
    return rows
