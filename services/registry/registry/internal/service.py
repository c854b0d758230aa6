"""What the inspections service needs to ingest a visit, each in one SQL round trip.

The context is called on every inspection ingest, so one statement gathers the
point, its type, category, unit, grid, checklist, the chiefs of the grid and
its ancestors, the region's deadline policies and the working calendar.
"""

from __future__ import annotations

import uuid
from typing import Any

import orjson
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from registry.regions.seed import DEFAULT_DEADLINE_POLICIES
from shared import clock
from shared.errors import NotFound

# 120 days back: a case dispatched up to four months ago still gets its holidays right
# (the demo's 90-day history is opened "at" its past moments through ingest).
CALENDAR_DAYS_BACK = 120
CALENDAR_DAYS_AHEAD = 400

_REGION_PARTS = """
    (SELECT coalesce(json_object_agg(dp.severity, json_build_object('amount', dp.amount, 'unit', dp.unit)), '{}')
       FROM deadline_policies dp WHERE dp.region_id = r.id) AS policies,
    (SELECT json_build_object(
              'holidays', coalesce(json_agg(to_char(cd.day, 'YYYY-MM-DD') ORDER BY cd.day)
                                   FILTER (WHERE cd.kind = 'holiday'), '[]'),
              'workdays', coalesce(json_agg(to_char(cd.day, 'YYYY-MM-DD') ORDER BY cd.day)
                                   FILTER (WHERE cd.kind = 'workday'), '[]'))
       FROM calendar_days cd
      WHERE cd.region_id = r.id
        AND cd.day BETWEEN (CAST(:now AS timestamptz) AT TIME ZONE r.timezone)::date
                           - CAST(:days_back AS integer)
                       AND (CAST(:now AS timestamptz) AT TIME ZONE r.timezone)::date
                           + CAST(:days_ahead AS integer)) AS calendar
"""

_POINT_CONTEXT = text(
    f"""
SELECT
    r.id AS r_id, r.code AS r_code, r.name AS r_name, r.timezone AS r_timezone,
    sp.id, sp.code, sp.name, sp.status, sp.lat, sp.lon, sp.address,
    sp.point_type_id, sp.division_id, sp.unit_id,
    pt.code AS pt_code, pt.name AS pt_name, pt.category_id, pt.pass_mark, pt.visit_every_days,
    pt.deadline_policy::text AS pt_policy,
    c.code AS c_code, c.name AS c_name,
    u.code AS u_code, u.name AS u_name,
    d.code AS d_code, d.name AS d_name, d.level AS d_level, d.path AS d_path,
    cur.version AS current_version,
    (SELECT json_build_object('version', cl.version, 'max_points', cl.max_points, 'items', cl.items)
       FROM checklists cl
      WHERE cl.region_id = sp.region_id AND cl.point_type_id = sp.point_type_id
        AND cl.version = coalesce(CAST(:checklist_version AS integer), cur.version)) AS checklist,
    (SELECT coalesce(json_agg(json_build_object(
                'id', ch.id, 'person_id', ch.person_id, 'kind', ch.kind,
                'division_id', ch.division_id, 'road_name', ch.road_name)
              ORDER BY array_position(anc.ids, ch.division_id), ch.kind, ch.id), '[]')
       FROM chiefs ch
      WHERE ch.region_id = sp.region_id AND ch.division_id = ANY(anc.ids)) AS chiefs,
    {_REGION_PARTS}
FROM sample_points sp
JOIN regions r ON r.id = sp.region_id
JOIN point_types pt ON pt.region_id = sp.region_id AND pt.id = sp.point_type_id
JOIN categories c ON c.region_id = pt.region_id AND c.id = pt.category_id
JOIN units u ON u.region_id = sp.region_id AND u.id = sp.unit_id
JOIN divisions d ON d.region_id = sp.region_id AND d.id = sp.division_id
CROSS JOIN LATERAL (
    SELECT max(version) AS version FROM checklists
     WHERE region_id = sp.region_id AND point_type_id = sp.point_type_id) cur
CROSS JOIN LATERAL (
    SELECT CAST(string_to_array(trim(BOTH '/' FROM d.path), '/') AS uuid[]) AS ids) anc
WHERE sp.region_id = :region_id AND sp.id = :point_id AND sp.deleted_at IS NULL
"""
)

_DEADLINE_CONTEXT = text(
    f"""
SELECT r.id AS r_id, r.code AS r_code, r.name AS r_name, r.timezone AS r_timezone,
    {_REGION_PARTS}
FROM regions r WHERE r.id = :region_id
"""
)


def _json(value: Any) -> Any:
    if value is None or isinstance(value, dict | list):
        return value
    return orjson.loads(value)


def _region(row: Any) -> dict[str, Any]:
    return {"id": row.r_id, "code": row.r_code, "name": row.r_name, "timezone": row.r_timezone}


def _policy(region_rows: dict[str, Any], override: dict[str, Any] | None) -> dict[str, Any]:
    """Seeded defaults, overlaid by the region's rows, overlaid by the point type's override."""
    policy = {
        severity: {"amount": amount, "unit": unit}
        for severity, amount, unit in DEFAULT_DEADLINE_POLICIES
    }
    for layer in (region_rows, override or {}):
        for severity, limit in layer.items():
            if severity in policy and isinstance(limit, dict):
                policy[severity] = {"amount": int(limit["amount"]), "unit": limit["unit"]}
    return policy


def _calendar(value: Any) -> dict[str, list[str]]:
    calendar = _json(value) or {}
    return {"holidays": calendar.get("holidays", []), "workdays": calendar.get("workdays", [])}


def _checklist(value: Any) -> dict[str, Any] | None:
    checklist = _json(value)
    if checklist is None:
        return None
    return {
        "version": checklist["version"],
        "max_points": float(checklist["max_points"]),
        "items": [
            {
                "code": item["code"],
                "text": item.get("text", ""),
                "points": float(item["points"]),
                "veto_below": item.get("veto_below"),
                "tags": item.get("tags") or [],
            }
            for item in checklist["items"]
        ],
    }


async def point_context(
    session: AsyncSession,
    region_id: uuid.UUID,
    point_id: uuid.UUID,
    checklist_version: int | None,
) -> dict[str, Any]:
    row = (
        await session.execute(
            _POINT_CONTEXT,
            {
                "region_id": region_id,
                "point_id": point_id,
                "checklist_version": checklist_version,
                "days_back": CALENDAR_DAYS_BACK,
                "days_ahead": CALENDAR_DAYS_AHEAD,
                "now": clock.now(),  # the one clock, so a test that travels sees its calendar
            },
        )
    ).first()
    if row is None:
        raise NotFound("No such sample point in this region.")
    return {
        "region": _region(row),
        "sample_point": {
            "id": row.id,
            "code": row.code,
            "name": row.name,
            "status": row.status,
            "lat": row.lat,
            "lon": row.lon,
            "address": row.address,
            "point_type_id": row.point_type_id,
            "division_id": row.division_id,
            "unit_id": row.unit_id,
        },
        "point_type": {
            "id": row.point_type_id,
            "code": row.pt_code,
            "name": row.pt_name,
            "category_id": row.category_id,
            "pass_mark": row.pass_mark,
            "visit_every_days": row.visit_every_days,
        },
        "category": {"id": row.category_id, "code": row.c_code, "name": row.c_name},
        "checklist": _checklist(row.checklist),
        "current_checklist_version": row.current_version,
        "unit": {"id": row.unit_id, "code": row.u_code, "name": row.u_name},
        "grid": {
            "id": row.division_id,
            "code": row.d_code,
            "name": row.d_name,
            "level": row.d_level,
            "path": row.d_path,
        },
        "chiefs": _json(row.chiefs) or [],
        "deadline_policy": _policy(_json(row.policies) or {}, _json(row.pt_policy)),
        "calendar": _calendar(row.calendar),
    }


async def deadline_context(session: AsyncSession, region_id: uuid.UUID) -> dict[str, Any]:
    row = (
        await session.execute(
            _DEADLINE_CONTEXT,
            {
                "region_id": region_id,
                "days_back": CALENDAR_DAYS_BACK,
                "days_ahead": CALENDAR_DAYS_AHEAD,
                "now": clock.now(),  # the one clock, so a test that travels sees its calendar
            },
        )
    ).first()
    if row is None:
        raise NotFound("No such region.")
    return {
        "region": _region(row),
        "deadline_policy": _policy(_json(row.policies) or {}, None),
        "calendar": _calendar(row.calendar),
    }
