"""The chiefs report (片长/路长): the cases of each chief's patch, by division or road."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from reporting.reports.export import Column
from reporting.reports.period import Period
from reporting.reports.sql import (
    CLOSED,
    DUE,
    HELD,
    OPEN,
    OVERDUE,
    PERIOD_FLOOR,
    STATE_COLUMNS,
    fetch,
    period_params,
    rate,
)

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
CHIEF_CASE_COLUMNS = f"c.division_id, c.sample_point_id, c.address, {STATE_COLUMNS}"
CHIEFS_SQL = f"""
WITH cand AS (
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
    params = period_params(region_id, period, now)
    person_filter = ""
    if person_id is not None:
        person_filter, params["person"] = "AND ch.person_id = :person", person_id
    return await fetch(session, CHIEFS_SQL.format(person_filter=person_filter), params)


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
) -> list[dict[str, Any]]:
    rows = await chiefs(session, region_id, period, now, person_id=person_id)
    for row in rows:
        row["closure_rate"] = rate(row["closed"], row["due"])
    return rows
