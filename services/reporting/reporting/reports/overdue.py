"""The overdue report (超期案件): cases past their deadline now, oldest deadline first."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from reporting.reports.export import Column
from reporting.reports.period import Period
from reporting.reports.sql import fetch, period_params

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
    params = period_params(region_id, period, now)
    filters = ""
    if unit_id is not None:
        filters, params["unit"] = "AND c.unit_id = :unit", unit_id
    if due_in_period:
        filters += " AND c.due_at >= :s AND c.due_at < :e"
    return await fetch(session, OVERDUE_SQL.format(filters=filters), params)


OVERDUE_COLUMNS = [
    Column("case_id", "Case ID", "案件ID"),
    Column("description", "Description", "问题描述"),
    Column("severity", "Severity", "紧急程度"),
    Column("source", "Source", "来源"),
    Column("unit_code", "Unit code", "单位编码"),
    Column("unit_name", "Unit", "责任单位"),
    Column("sample_point_code", "Sample point code", "样本点编码"),
    Column("sample_point_name", "Sample point", "样本点"),
    Column("dispatched_at", "Dispatched at", "派遣时间"),
    Column("due_at", "Due at", "处置时限"),
    Column("hours_overdue", "Hours overdue", "超期小时"),
    Column("extension_count", "Extensions", "延期次数"),
    Column("rework_count", "Rework", "返工次数"),
]


async def overdue_report(
    session: AsyncSession,
    region_id: uuid.UUID,
    period: Period,
    now: datetime,
    *,
    unit_id: uuid.UUID | None,
    due_in_period: bool,
) -> list[dict[str, Any]]:
    rows = await overdue(
        session, region_id, period, now, unit_id=unit_id, due_in_period=due_in_period
    )
    for row in rows:
        row["hours_overdue"] = float(row["hours_overdue"])
    return rows
