"""The coverage report (检查覆盖): per active point its visits, latest result and blind spots."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from reporting.reports.export import Column
from reporting.reports.period import Period
from reporting.reports.sql import fetch, period_params, rate

# Per active point: its latest valid inspection before as-of (one index probe, newest
# first) and its valid inspections in the period (counted as LONG_PERIOD says). The
# score comes as a float (numeric(5,2) → float8 is the same double that Python's
# float(Decimal) gives): 5,000 Decimals cost more to decode and convert.
COVERAGE_SQL = """
WITH open_cases AS (
    SELECT c.sample_point_id, count(*) AS open_cases
    FROM cases c
    WHERE c.region_id = :rid AND c.sample_point_id IS NOT NULL
      AND c.status IN ('reported', 'assigned', 'returned', 'rectified')
    GROUP BY c.sample_point_id
), not_valid AS (
    SELECT i.sample_point_id, count(*) AS inspections
    FROM inspections i
    WHERE i.region_id = :rid AND i.validation <> 'valid' {all_less_not_valid}
      AND i.finished_at >= :s AND i.finished_at < :asof
    GROUP BY i.sample_point_id
), pts AS (
    SELECT sp.id AS sample_point_id, sp.code, sp.name, sp.address,
           sp.unit_id, u.name AS unit_name,
           sp.division_id AS grid_id, d.code AS grid_code, d.name AS grid_name,
           sp.point_type_id, pt.name AS point_type_name, pt.visit_every_days,
           n.inspections - coalesce(not_valid.inspections, 0) AS inspections,
           latest.finished_at AS last_inspected_at,
           latest.finished_at + make_interval(days => pt.visit_every_days) AS next_due_at,
           latest.score::float8 AS latest_score, latest.passed AS latest_passed,
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
    CROSS JOIN LATERAL (
        SELECT count(*) AS inspections
        FROM inspections i
        WHERE i.region_id = sp.region_id AND i.sample_point_id = sp.id {valid_only}
          AND i.finished_at >= :s AND i.finished_at < :asof
    ) AS n
    LEFT JOIN not_valid ON not_valid.sample_point_id = sp.id
    LEFT JOIN open_cases ON open_cases.sample_point_id = sp.id
    WHERE sp.region_id = :rid AND sp.status = 'active' AND sp.deleted_at IS NULL {unit_filter}
)
"""
BLIND = "(next_due_at IS NULL OR next_due_at < :asof)"
# How a point's valid inspections in the period are counted. Short periods: an
# index-only count on the valid-only index, whose leaf pages the latest-inspection probe
# has just read. Long periods: all the point's inspections there, counted on the narrow
# (region, point, finished) index — half the size of the valid-only one, which also
# carries id, score and passed: over three years half the time — less the few not
# valid (pending, rejected; their own partial index, migration 0018). Both exact.
LONG_PERIOD = timedelta(days=62)
VALID_ONLY = {"valid_only": "AND i.validation = 'valid'", "all_less_not_valid": "AND false"}
ALL_LESS_NOT_VALID = {"valid_only": "", "all_less_not_valid": ""}


async def coverage(
    session: AsyncSession,
    region_id: uuid.UUID,
    period: Period,
    now: datetime,
    *,
    unit_id: uuid.UUID | None,
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    params = period_params(region_id, period, now)
    unit_filter = ""
    if unit_id is not None:
        unit_filter, params["unit"] = "AND sp.unit_id = :unit", unit_id
    count = ALL_LESS_NOT_VALID if params["asof"] - params["s"] > LONG_PERIOD else VALID_ONLY
    points = await fetch(
        session,
        COVERAGE_SQL.format(unit_filter=unit_filter, **count)
        + f"SELECT pts.*, {BLIND} AS blind_spot FROM pts ORDER BY code, sample_point_id",
        params,
    )
    # Per grid, from the point rows (one pass over the points, not a second query; a
    # grid's tally is made once, not offered to setdefault by each of its points).
    by_grid: dict[uuid.UUID, dict[str, Any]] = {}
    for point in points:
        grid = by_grid.get(point["grid_id"])
        if grid is None:
            grid = by_grid[point["grid_id"]] = {
                "grid_id": point["grid_id"],
                "grid_code": point["grid_code"],
                "grid_name": point["grid_name"],
                "points": 0,
                "visited_on_time": 0,
                "blind_spots": 0,
            }
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


COVERAGE_COLUMNS = [
    Column("sample_point_id", "Sample point ID", "样本点ID"),
    Column("code", "Code", "样本点编码"),
    Column("name", "Sample point", "样本点"),
    Column("point_type_name", "Point type", "样本点类型"),
    Column("grid_name", "Grid", "网格"),
    Column("unit_name", "Unit", "责任单位"),
    Column("visit_every_days", "Visit every (days)", "检查周期(天)"),
    Column("inspections", "Inspections", "检查次数"),
    Column("last_inspected_at", "Last inspected at", "最近检查时间"),
    Column("next_due_at", "Next visit due at", "下次应检时间"),
    Column("latest_score", "Latest score", "最近得分"),
    Column("latest_passed", "Latest passed", "最近是否合格"),
    Column("open_cases", "Open cases", "未结案件"),
    Column("blind_spot", "Blind spot", "盲区"),
]


async def coverage_report(
    session: AsyncSession,
    region_id: uuid.UUID,
    period: Period,
    now: datetime,
    *,
    unit_id: uuid.UUID | None,
) -> dict[str, Any]:
    points, grids = await coverage(session, region_id, period, now, unit_id=unit_id)
    as_of = period.as_of(now)
    for point in points:
        if point["next_due_at"] is None:
            point["days_overdue"] = None
        else:
            late = (as_of - point["next_due_at"]).total_seconds() / 86400
            point["days_overdue"] = round(late, 1) if late > 0 else 0.0
    blind = [
        {
            k: p[k]
            for k in (
                "sample_point_id",
                "code",
                "name",
                "grid_id",
                "unit_id",
                "last_inspected_at",
                "next_due_at",
                "days_overdue",
            )
        }
        for p in points
        if p["blind_spot"]
    ]
    grid_items = [
        {
            "grid_id": g["grid_id"],
            "grid_code": g["grid_code"],
            "grid_name": g["grid_name"],
            "points": g["points"],
            "blind_spots": g["blind_spots"],
            "visited_on_time": rate(g["visited_on_time"], g["points"]),
        }
        for g in grids
    ]
    return {"items": points, "blind_spots": blind, "grids": grid_items}
