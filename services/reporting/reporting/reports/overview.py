"""The overview report (总览): the period's totals, groups, weeks and epidemic checks."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from reporting.reports.export import Column
from reporting.reports.period import Period
from reporting.reports.sql import fetch, period_params, rate

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
    params = period_params(region_id, period, now)
    unit_filter = insp_filter = ""
    if unit_id is not None:
        params["unit"] = unit_id
        unit_filter, insp_filter = "AND c.unit_id = :unit", "AND i.unit_id = :unit"
    fmt = {"unit_filter": unit_filter, "insp_filter": insp_filter}
    dispatched = DISPATCHED_UNIT_SQL if unit_id is not None else DISPATCHED_SQL
    totals_sql = TOTALS_SQL.format(dispatched=dispatched.format(**fmt), **fmt)
    out: dict[str, Any] = {
        "totals": (await fetch(session, totals_sql, params))[0],
        "weekly": await fetch(session, WEEKLY_SQL.format(**fmt), params),
        "epidemic": (await fetch(session, EPIDEMIC_SQL.format(**fmt), params))[0],
    }
    for name in DIMENSIONS:
        out[name] = []
    for row in await fetch(session, GROUPED_SQL.format(unit_filter=unit_filter), params):
        dim = row.pop("dim")
        del row["ord"]
        out[dim].append(row)
    return out


OVERVIEW_COLUMNS = [
    Column("section", "Section", "分组"),
    Column("key", "Key", "键"),
    Column("name", "Name", "名称"),
    Column("reported", "Reported", "上报数"),
    Column("valid", "Valid", "有效数"),
    Column("closed", "Closed", "结案数"),
    Column("open", "Open", "未结案件"),
    Column("overdue", "Overdue", "超期案件"),
    Column("value", "Value", "数值"),
    Column("numerator", "Numerator", "分子"),
    Column("denominator", "Denominator", "分母"),
]


async def overview_report(
    session: AsyncSession,
    region_id: uuid.UUID,
    period: Period,
    now: datetime,
    *,
    unit_id: uuid.UUID | None,
) -> dict[str, Any]:
    raw = await overview(session, region_id, period, now, unit_id=unit_id)
    totals = dict(raw["totals"])
    if totals["average_score"] is not None:
        totals["average_score"] = float(totals["average_score"])
    totals["pass_rate"] = rate(totals["inspections_passed"], totals["inspections"])
    epidemic = raw["epidemic"]
    return {
        "totals": totals,
        "by_category": raw["category"],
        "by_point_type": raw["point_type"],
        "by_source": raw["source"],
        "by_severity": raw["severity"],
        "weekly": raw["weekly"],
        "epidemic": {
            name: rate(epidemic[f"{name}_yes"], epidemic[f"{name}_n"])
            for name in ("health_code_checked", "temperature_checked", "masks_worn")
        },
    }


def overview_rows(report: dict[str, Any]) -> list[dict[str, Any]]:
    """The overview as one long table: a row per total, group, week and epidemic check."""
    rows: list[dict[str, Any]] = []
    for key, value in report["totals"].items():
        if isinstance(value, dict):
            rows.append({"section": "totals", "key": key, "name": key, **value})
        else:
            rows.append({"section": "totals", "key": key, "name": key, "value": value})
    for section in ("by_category", "by_point_type", "by_source", "by_severity"):
        for group in report[section]:
            rows.append({"section": section, **group})
    for week in report["weekly"]:
        rows.append(
            {
                "section": "weekly",
                "key": week["week_start"].isoformat(),
                "name": week["week_start"].isoformat(),
                "reported": week["cases_reported"],
                "closed": week["cases_closed"],
                "value": week["inspections"],
            }
        )
    for key, value in report["epidemic"].items():
        rows.append({"section": "epidemic", "key": key, "name": key, **value})
    return rows
