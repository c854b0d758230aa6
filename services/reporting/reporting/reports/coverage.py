"""The coverage report (检查覆盖): per active point its visits, latest result and blind spots."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

import orjson
from fastapi import Response
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from reporting.reports.export import Column, json_response
from reporting.reports.period import Period
from reporting.reports.sql import fetch, period_params, rate, run_report

# Per active point: its valid inspections in the period (``n.inspections``) and its
# latest valid inspection before as-of (``latest``), read as LONG_PERIOD says
# (``not_valid`` is read only by the long periods' way).
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
    WHERE i.region_id = :rid AND i.validation <> 'valid'
      AND i.finished_at >= :s AND i.finished_at < :asof
    GROUP BY i.sample_point_id
), pts AS (
    SELECT sp.id AS sample_point_id, sp.code, sp.name, sp.address,
           sp.unit_id, u.name AS unit_name,
           sp.division_id AS grid_id, d.code AS grid_code, d.name AS grid_name,
           sp.point_type_id, pt.name AS point_type_name, pt.visit_every_days,
           n.inspections,
           latest.finished_at AS last_inspected_at,
           latest.finished_at + make_interval(days => pt.visit_every_days) AS next_due_at,
           latest.score AS latest_score, latest.passed AS latest_passed,
           coalesce(open_cases.open_cases, 0) AS open_cases
    FROM sample_points sp
    JOIN point_types pt ON pt.region_id = sp.region_id AND pt.id = sp.point_type_id
    JOIN divisions d ON d.region_id = sp.region_id AND d.id = sp.division_id
    LEFT JOIN units u ON u.region_id = sp.region_id AND u.id = sp.unit_id
    {point_inspections}
    LEFT JOIN open_cases ON open_cases.sample_point_id = sp.id
    WHERE sp.region_id = :rid AND sp.status = 'active' AND sp.deleted_at IS NULL {unit_filter}
)
"""
BLIND = "(next_due_at IS NULL OR next_due_at < :asof)"
# How ``n`` and ``latest`` are read, both exact. Short periods: one backward index-only
# scan of the point's valid inspections in the period on the valid-only index counts them
# and gives the newest; only a point without any there is probed again before the
# period (``earlier``, skipped for the others) — one index descent per point, not two.
SHORT_PERIOD_INSPECTIONS = """
    LEFT JOIN LATERAL (
        SELECT count(*) AS inspections,
               (array_agg(i.finished_at ORDER BY i.finished_at DESC, i.id DESC))[1] AS finished_at,
               (array_agg(i.score ORDER BY i.finished_at DESC, i.id DESC))[1] AS score,
               (array_agg(i.passed ORDER BY i.finished_at DESC, i.id DESC))[1] AS passed
        FROM inspections i
        WHERE i.region_id = sp.region_id AND i.sample_point_id = sp.id
          AND i.validation = 'valid' AND i.finished_at >= :s AND i.finished_at < :asof
    ) AS n ON true
    LEFT JOIN LATERAL (
        SELECT i.finished_at, i.score, i.passed
        FROM inspections i
        WHERE n.inspections = 0 AND i.region_id = sp.region_id AND i.sample_point_id = sp.id
          AND i.validation = 'valid' AND i.finished_at < :s
        ORDER BY i.finished_at DESC, i.id DESC
        LIMIT 1
    ) AS earlier ON true
    CROSS JOIN LATERAL (
        SELECT CASE WHEN n.inspections > 0 THEN n.finished_at ELSE earlier.finished_at END
                   AS finished_at,
               CASE WHEN n.inspections > 0 THEN n.score ELSE earlier.score END AS score,
               CASE WHEN n.inspections > 0 THEN n.passed ELSE earlier.passed END AS passed
    ) AS latest"""
# Long periods: the newest by one probe before as-of, and all the point's inspections in
# the period counted on the narrow (region, point, finished) index — half the size of the
# valid-only one, which also carries id, score and passed: over three years half the
# time — less the few not valid (pending, rejected; their own partial index, migration
# 0018).
LONG_PERIOD_INSPECTIONS = """
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
        WHERE i.region_id = sp.region_id AND i.sample_point_id = sp.id
          AND i.finished_at >= :s AND i.finished_at < :asof
    ) AS counted
    LEFT JOIN not_valid ON not_valid.sample_point_id = sp.id
    CROSS JOIN LATERAL (
        SELECT counted.inspections - coalesce(not_valid.inspections, 0) AS inspections
    ) AS n"""
LONG_PERIOD = timedelta(days=62)


# A point row's fields in the order of the answer's keys, each with its kind (how it is
# selected for the rows and written as JSON); ``blind_spot`` and ``days_overdue`` follow.
POINT_FIELDS = (
    ("sample_point_id", "uuid"),
    ("code", "text"),
    ("name", "text"),
    ("address", "text"),
    ("unit_id", "uuid"),
    ("unit_name", "text"),
    ("grid_id", "uuid"),
    ("grid_code", "text"),
    ("grid_name", "text"),
    ("point_type_id", "uuid"),
    ("point_type_name", "text"),
    ("visit_every_days", "number"),
    ("inspections", "number"),
    ("last_inspected_at", "instant"),
    ("next_due_at", "instant"),
    ("latest_score", "score"),
    ("latest_passed", "boolean"),
    ("open_cases", "number"),
)
BLIND_SPOT_FIELDS = (
    "sample_point_id",
    "code",
    "name",
    "grid_id",
    "unit_id",
    "last_inspected_at",
    "next_due_at",
)
GRID_FIELDS = (
    ("grid_id", "uuid"),
    ("grid_code", "text"),
    ("grid_name", "text"),
    ("points", "number"),
    ("blind_spots", "number"),
)
KINDS = {
    **dict(POINT_FIELDS),
    **dict(GRID_FIELDS),
    "blind_spot": "boolean",
    "days_overdue": "tenths",
}
# The score is numeric(5,2); the rows carry it as a float (numeric → float8 is the
# double that Python's float(Decimal) gives; 5,000 Decimals cost more to decode).
ROW_VALUES = {"score": "{c}::float8"}
# Each kind as JSON text, byte for byte what ``export.json_response`` writes for the
# value the rows carry: a UUID as its text; text escaped as orjson escapes it (``"``,
# backslash and control characters, those in the same lower-case ``\u00xx`` form — what
# PostgreSQL's ``to_json`` does); an instant in UTC with ``Z`` and microseconds only when
# it has some; the score as Python writes its float: two decimals less a trailing zero
# (90.00 → 90.0, 87.50 → 87.5, 87.55 → 87.55); a count of tenths as Python writes the
# float it rounds to (195 → 19.5, 0 → 0.0); NULL as null.
JSON_VALUES = {
    "uuid": """'"' || {c}::text || '"'""",
    "text": "to_json({c})::text",
    "number": "{c}::text",
    "boolean": "{c}::text",
    "instant": (
        """'"' || replace(to_char({c} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US'),"""
        """ '.000000', '') || 'Z"'"""
    ),
    "score": "regexp_replace({c}::text, '0$', '')",
    "tenths": "({c} / 10)::text || '.' || ({c} % 10)::text",
}


def written(fields: list[str] | tuple[str, ...]) -> str:
    """SQL select items: each of ``fields`` (columns of the select they are in) as its JSON
    text, under its own name."""
    return ", ".join(
        f"coalesce({JSON_VALUES[KINDS[name]].format(c=name)}, 'null') AS {name}" for name in fields
    )


def json_object(fields: list[str] | tuple[str, ...], *, open_key: str | None = None) -> str:
    """A SQL expression: the JSON text of an object of ``fields`` (columns holding their JSON
    text) — or, with ``open_key``, the text up to that last key, whose value Python writes."""
    pairs = [f"""'{"," if n else "{"}"{name}":' || {name}""" for n, name in enumerate(fields)]
    return " || ".join([*pairs, f"""',"{open_key}":'""" if open_key else "'}'"])


# ``days_overdue()`` — Python's round(µs / 10**6 / 86400, 1) of a lateness in µs, as tenths
# of a day, exactly, in integers (0.1 day = 8,640,000,000 µs). The double Python rounds
# is two roundings away from the exact quotient, far less than the 1 µs that separates
# a lateness that is not a tie from the nearest tie (for lateness under a century), so it
# rounds as the exact quotient — to the nearest tenth — unless that is a tie, an odd
# multiple j of 0.05 day. Then Python's double of j/20 (the double of j/5 divided by 4)
# decides: j/5 exact (j a multiple of 5) → ties to even; otherwise the double is j/5
# rounded to 53 bits, up when the bits cut off — a fifth, (j mod 5)·2^p mod 5, p the
# fraction bits kept, 52 − ⌊log₂(j/5)⌋ — are over a half.
# ``tests/reporting/test_other_reports.py`` compares it with Python over every tie.
DAYS_OVERDUE_TENTHS = """CASE
    WHEN {c} IS NULL THEN NULL
    WHEN {c} <= 0 THEN 0
    WHEN {c} % 8640000000 <> 4320000000 THEN ({c} + 4320000000) / 8640000000
    WHEN {c} / 4320000000 % 5 = 0
        THEN ({c} - 4320000000) / 8640000000 + ({c} - 4320000000) / 8640000000 % 2
    ELSE ({c} - 4320000000) / 8640000000
        + CASE WHEN {c} / 4320000000 % 5 * (ARRAY[1, 2, 4, 3])[(52 - (CASE
                WHEN {c} / 4320000000 >= 5
                    THEN length(ltrim(({c} / 4320000000 / 5)::bit(64)::text, '0')) - 1
                WHEN {c} / 4320000000 = 3 THEN -1
                ELSE -3 END)) % 4 + 1] % 5 >= 3 THEN 1 ELSE 0 END
END"""

POINT_NAMES = [name for name, _ in POINT_FIELDS]
ROWS_SELECT = (
    "SELECT "
    + ", ".join(
        f"{ROW_VALUES.get(kind, '{c}').format(c=name)} AS {name}" for name, kind in POINT_FIELDS
    )
    + f", {BLIND} AS blind_spot FROM pts ORDER BY code, sample_point_id"
)
# The JSON answer's statement, one row: the items and the blind spots as JSON arrays
# (UTF-8), and per grid (by code) its entry up to ``visited_on_time`` with the points
# visited on time and all its points (Python writes the rate: it rounds a float).
# (OFFSET 0 keeps the lateness a column: its expression is not copied into each of the
# tenths' uses.)
JSON_SELECT = f""", marked AS (
    SELECT late.*, {DAYS_OVERDUE_TENTHS.format(c="late")} AS days_overdue
    FROM (
        SELECT pts.*, {BLIND} AS blind_spot,
               (extract(epoch FROM CAST(:asof AS timestamptz) - next_due_at) * 1000000)::bigint
                   AS late
        FROM pts
        OFFSET 0
    ) AS late
), grids AS (
    SELECT grid_id, grid_code, grid_name, count(*) AS points,
           count(*) FILTER (WHERE blind_spot) AS blind_spots
    FROM marked
    GROUP BY grid_id, grid_code, grid_name
), points AS (
    SELECT code AS sort_code, sample_point_id AS sort_id, blind_spot AS blind,
           {written([*POINT_NAMES, "blind_spot", "days_overdue"])}
    FROM marked
)
SELECT convert_to('[' || coalesce(string_agg(
           {json_object([*POINT_NAMES, "blind_spot", "days_overdue"])}, ','
           ORDER BY sort_code, sort_id), '') || ']', 'UTF8') AS items,
       convert_to('[' || coalesce(string_agg(
           {json_object([*BLIND_SPOT_FIELDS, "days_overdue"])}, ','
           ORDER BY sort_code, sort_id) FILTER (WHERE blind), '') || ']', 'UTF8')
           AS blind_spots,
       (SELECT array_agg({json_object([n for n, _ in GRID_FIELDS], open_key="visited_on_time")}
                         ORDER BY sort_code, sort_id)
        FROM (
            SELECT grid_code AS sort_code, grid_id AS sort_id,
                   {written([n for n, _ in GRID_FIELDS])}
            FROM grids
        ) AS g)
           AS grids_written,
       (SELECT array_agg(points - blind_spots ORDER BY grid_code, grid_id) FROM grids)
           AS grids_visited,
       (SELECT array_agg(points ORDER BY grid_code, grid_id) FROM grids) AS grids_points
FROM points
"""


def _statement(
    tail: str, region_id: uuid.UUID, period: Period, now: datetime, unit_id: uuid.UUID | None
) -> tuple[str, dict[str, Any]]:
    params = period_params(region_id, period, now)
    unit_filter = ""
    if unit_id is not None:
        unit_filter, params["unit"] = "AND sp.unit_id = :unit", unit_id
    long = params["asof"] - params["s"] > LONG_PERIOD
    point_inspections = LONG_PERIOD_INSPECTIONS if long else SHORT_PERIOD_INSPECTIONS
    sql = COVERAGE_SQL.format(unit_filter=unit_filter, point_inspections=point_inspections)
    return sql + tail, params


def days_overdue(late: timedelta | None) -> float | None:
    """Days past the next visit's due time at as-of (0.0 when not yet due, None when never
    inspected), to one decimal."""
    if late is None:
        return None
    days = late.total_seconds() / 86400
    return round(days, 1) if days > 0 else 0.0


async def coverage(
    session: AsyncSession,
    region_id: uuid.UUID,
    period: Period,
    now: datetime,
    *,
    unit_id: uuid.UUID | None,
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    points = await fetch(session, *_statement(ROWS_SELECT, region_id, period, now, unit_id))
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
    """The report as Python values (exports, the bulletin); its JSON answer is
    :func:`coverage_json`, with the same bytes as these values written."""
    points, grids = await coverage(session, region_id, period, now, unit_id=unit_id)
    as_of = period.as_of(now)
    for point in points:
        due = point["next_due_at"]
        point["days_overdue"] = days_overdue(None if due is None else as_of - due)
    blind = [
        {k: p[k] for k in (*BLIND_SPOT_FIELDS, "days_overdue")} for p in points if p["blind_spot"]
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


async def coverage_json(
    session: AsyncSession,
    region_id: uuid.UUID,
    period: Period,
    now: datetime,
    *,
    unit_id: uuid.UUID | None,
    head: dict[str, Any],
) -> Response:
    """The report's JSON answer (``head`` first): what ``json_response`` writes for
    ``{**head, **coverage_report(...)}``, byte for byte, with the rows written as JSON by
    PostgreSQL — on 5,000 points, decoding their values and building their dicts is most
    of the report's time in Python. Only the two figures Python rounds are written here."""
    sql, params = _statement(JSON_SELECT, region_id, period, now, unit_id)
    answer = (await run_report(session, sql, params)).one()
    grids = [
        orjson.Fragment(written + orjson.dumps(rate(visited, points)).decode() + "}")
        for written, visited, points in zip(
            answer.grids_written or [],
            answer.grids_visited or [],
            answer.grids_points or [],
            strict=True,
        )
    ]
    return json_response(
        {
            **head,
            "items": orjson.Fragment(answer.items),
            "blind_spots": orjson.Fragment(answer.blind_spots),
            "grids": grids,
        }
    )
