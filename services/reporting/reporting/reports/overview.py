"""The overview report (总览): the period's totals, groups, weeks and epidemic checks."""

from __future__ import annotations

import uuid
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from reporting.report_settings.service import load_settings
from reporting.reports.days import (
    DAY_COLUMNS,
    DAY_FACTS_SQL,
    DIMENSION_KEYS,
    EPIDEMIC_COUNTS,
    GROUP_FACTS_SQL,
    REDISPATCH_FACTS_SQL,
    STORED_DAYS_SQL,
    STORED_GROUPS_SQL,
    STORED_REPEATS_SQL,
    ensure_days,
    facts,
    quota_of,
    whole_days,
)
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
_GROUP_FIGURES = ("reported", "valid", "closed", "open", "overdue")

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

EPIDEMIC_SQL = f"""
SELECT {EPIDEMIC_COUNTS}
FROM inspections i
WHERE i.region_id = :rid AND i.validation = 'valid'
  AND i.finished_at >= :s AND i.finished_at < :e {{insp_filter}}
"""


# --- from the daily rollup (reports/days.py) --------------------------------------------

# The period's cases whose status can still change (all but closed), per dimension key:
# valid = reported − cancelled, closed = reported − not closed.
UNCLOSED_GROUPS_SQL = f"""
SELECT g.dim, g.key, sum(b.cancelled)::bigint AS cancelled, sum(b.unclosed)::bigint AS unclosed,
       sum(b.open)::bigint AS open, sum(b.overdue)::bigint AS overdue
FROM (
    SELECT c.category_id, c.point_type_id, c.source, c.severity,
           count(*) FILTER (WHERE c.status = 'cancelled') AS cancelled,
           count(*) AS unclosed,
           count(*) FILTER (WHERE c.status IN ('reported', 'assigned', 'returned', 'rectified'))
               AS open,
           count(*) FILTER (WHERE c.status = 'assigned' AND c.due_at < :now) AS overdue
    FROM cases c
    WHERE c.region_id = :rid AND c.status <> 'closed'
      AND c.reported_at >= :s AND c.reported_at < :e
    GROUP BY 1, 2, 3, 4
) AS b
{DIMENSION_KEYS}
GROUP BY 1, 2
"""
# Names and order of the dimension rows, as GROUPED_SQL gives them.
NAMED_GROUPS_SQL = f"""
WITH b AS (
    SELECT * FROM unnest(CAST(:dims AS text[]), CAST(:keys AS text[]),
        CAST(:reported AS bigint[]), CAST(:valid AS bigint[]), CAST(:closed AS bigint[]),
        CAST(:open AS bigint[]), CAST(:overdue AS bigint[]))
        AS b(dim, key, reported, valid, closed, open, overdue)
)
SELECT 'category' AS dim, nullif(b.key, '') AS key, cat.name AS name, {_GROUP_SUMS},
       row_number() OVER (ORDER BY cat.ordinal NULLS LAST, nullif(b.key, '')) AS ord
FROM b LEFT JOIN categories cat
     ON cat.region_id = :rid AND cat.id = CAST(nullif(b.key, '') AS uuid)
WHERE b.dim = 'category'
GROUP BY b.key, cat.name, cat.ordinal
UNION ALL
SELECT 'point_type', nullif(b.key, ''), pt.name, {_GROUP_SUMS},
       row_number() OVER (ORDER BY pt.name NULLS LAST, nullif(b.key, ''))
FROM b LEFT JOIN point_types pt
     ON pt.region_id = :rid AND pt.id = CAST(nullif(b.key, '') AS uuid)
WHERE b.dim = 'point_type'
GROUP BY b.key, pt.name
UNION ALL
SELECT b.dim, b.key, b.key, {_GROUP_SUMS}, row_number() OVER (PARTITION BY b.dim ORDER BY b.key)
FROM b WHERE b.dim IN ('source', 'severity') GROUP BY b.dim, b.key
ORDER BY 1, ord
"""
NOW_SQL = """
SELECT (SELECT count(*) FROM cases c WHERE c.region_id = :rid
           AND c.status IN ('reported', 'assigned', 'returned', 'rectified')) AS open_now,
       (SELECT count(*) FROM cases c WHERE c.region_id = :rid AND c.status = 'assigned'
           AND c.due_at < :now) AS overdue_now
"""


def _week_starts(period: Period) -> list[date]:
    """The Mondays (local) of the weeks the period touches, as WEEKLY_SQL lists them."""
    first = period.start.astimezone(period.tz).date()
    last = (period.end - timedelta(microseconds=1)).astimezone(period.tz).date()
    monday, weeks = first - timedelta(days=first.weekday()), []
    while monday <= last:
        weeks.append(monday)
        monday += timedelta(days=7)
    return weeks


async def overview_from_days(
    session: AsyncSession,
    region_id: uuid.UUID,
    period: Period,
    now: datetime,
    days: list[date],
) -> dict[str, Any]:
    """The region's overview from the stored days plus the live rest (same figures)."""
    tz = period.tz
    settings = await load_settings(session, region_id)
    plan = await ensure_days(session, region_id, tz, days, now, quota_of(settings))
    params = period_params(region_id, period, now)
    stored = {"rid": region_id, **plan.stored_range()}
    day_rows = await fetch(session, STORED_DAYS_SQL, stored)
    day_rows += await facts(session, DAY_FACTS_SQL, region_id, tz, plan)
    sums: dict[str, Any] = dict.fromkeys(DAY_COLUMNS, 0)
    weekly = {
        w: {"week_start": w, "cases_reported": 0, "cases_closed": 0, "inspections": 0}
        for w in _week_starts(period)
    }
    for row in day_rows:
        for name in DAY_COLUMNS:
            sums[name] += row[name]
        week = weekly[row["day"] - timedelta(days=row["day"].weekday())]
        for name in ("cases_reported", "cases_closed", "inspections"):
            week[name] += row[name]

    reported: dict[tuple[str, str], int] = {}
    group_rows = await fetch(session, STORED_GROUPS_SQL, stored)
    group_rows += await facts(session, GROUP_FACTS_SQL, region_id, tz, plan)
    for row in group_rows:
        reported[row["dim"], row["key"]] = (
            reported.get((row["dim"], row["key"]), 0) + row["reported"]
        )
    unclosed = {(r["dim"], r["key"]): r for r in await fetch(session, UNCLOSED_GROUPS_SQL, params)}
    groups: dict[str, list[Any]] = {k: [] for k in ("dims", "keys", *_GROUP_FIGURES)}
    for (dim, key), n in reported.items():
        u = unclosed.get((dim, key), {"cancelled": 0, "unclosed": 0, "open": 0, "overdue": 0})
        figures = (n, n - u["cancelled"], n - u["unclosed"], u["open"], u["overdue"])
        groups["dims"].append(dim)
        groups["keys"].append(key)
        for name, value in zip(_GROUP_FIGURES, figures, strict=True):
            groups[name].append(value)
    out: dict[str, Any] = {name: [] for name in DIMENSIONS}
    for row in await fetch(session, NAMED_GROUPS_SQL, {"rid": region_id, **groups}):
        dim = row.pop("dim")
        del row["ord"]
        out[dim].append(row)

    cancelled = sum(u["cancelled"] for (dim, _), u in unclosed.items() if dim == "source")
    first_day = period.start.astimezone(tz).date()
    repeats = (await fetch(session, STORED_REPEATS_SQL, {**stored, "p0": first_day}))[0]["repeats"]
    for row in await facts(session, REDISPATCH_FACTS_SQL, region_id, tz, plan):
        if row["previous_day"] >= first_day:
            repeats += row["redispatches"]
    now_counts = (await fetch(session, NOW_SQL, params))[0]
    average = None
    if sums["score_n"]:
        average = (Decimal(sums["score_sum"]) / sums["score_n"]).quantize(
            Decimal("0.01"), ROUND_HALF_UP
        )
    out["totals"] = {
        "cases_reported": sums["cases_reported"],
        "cases_valid": sums["cases_reported"] - cancelled,
        "cases_cancelled": cancelled,
        "cases_dispatched": sums["dispatches"] - repeats,
        "cases_closed": sums["cases_closed"],
        "cases_closed_on_time": sums["cases_closed_on_time"],
        "open_now": now_counts["open_now"],
        "overdue_now": now_counts["overdue_now"],
        "inspections": sums["inspections"],
        "inspections_passed": sums["inspections_passed"],
        "average_score": average,
    }
    out["weekly"] = list(weekly.values())
    out["epidemic"] = {
        f"{name}_{part}": sums[f"{name}_{part}"]
        for name in ("health_code_checked", "temperature_checked", "masks_worn")
        for part in ("yes", "n")
    }
    return out


async def overview(
    session: AsyncSession,
    region_id: uuid.UUID,
    period: Period,
    now: datetime,
    *,
    unit_id: uuid.UUID | None,
    rollup: bool = True,
) -> dict[str, Any]:
    """The overview's figures: from the daily rollup for the region's view of a period of
    whole local days, live otherwise (a unit's view; ``rollup=False``, as tests compare)."""
    days = whole_days(period.start, period.end, period.tz)
    if rollup and unit_id is None and days:
        return await overview_from_days(session, region_id, period, now, days)
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
    rollup: bool = True,
) -> dict[str, Any]:
    raw = await overview(session, region_id, period, now, unit_id=unit_id, rollup=rollup)
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
