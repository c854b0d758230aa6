"""Report assembly: scores, grades and ranks over the per-unit SQL figures, and report shapes.

The SQL in :mod:`reporting.reports.repository` does every aggregation; this
module only turns aggregated rows into rates, scores and the response shape.
"""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from reporting.report_settings.service import EffectiveSettings
from reporting.reports import repository
from reporting.reports.export import Column
from reporting.reports.period import Period

GRADE_FLOORS = ((90.0, "A"), (75.0, "B"), (60.0, "C"), (40.0, "D"))


def rate(numerator: int, denominator: int) -> dict[str, Any]:
    value = round(numerator / denominator, 4) if denominator else None
    return {"value": value, "numerator": numerator, "denominator": denominator}


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
    for figures in await repository.unit_figures(session, region_id, period, now):
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


def flat(row: dict[str, Any]) -> dict[str, Any]:
    """A JSON row as an export row: each rate object becomes its value."""
    return {
        k: (v["value"] if isinstance(v, dict) and "numerator" in v else v) for k, v in row.items()
    }


# --- inspectors ------------------------------------------------------------------------


def quota_weeks(period: Period, now: datetime) -> list[date]:
    """Mondays (local) of the weeks counted for the quota: those starting inside the period."""
    first = period.start.astimezone(period.tz).date()
    last = (period.end - timedelta(microseconds=1)).astimezone(period.tz).date()
    monday = first + timedelta(days=(7 - first.weekday()) % 7)
    weeks = []
    while monday <= last:
        weeks.append(monday)
        monday += timedelta(days=7)
    return weeks


def local_midnight(day: date, period: Period) -> datetime:
    return datetime.combine(day, time(0), tzinfo=period.tz).astimezone(UTC)


async def inspectors_report(
    session: AsyncSession,
    region_id: uuid.UUID,
    period: Period,
    now: datetime,
    settings: EffectiveSettings,
    *,
    person_id: uuid.UUID | None,
) -> list[dict[str, Any]]:
    quota = settings.inspector_quota
    weeks = quota_weeks(period, now)
    start = local_midnight(weeks[0], period) if weeks else period.start
    end = local_midnight(weeks[-1] + timedelta(days=7), period) if weeks else period.start
    people, week_rows = await repository.inspectors(
        session,
        region_id,
        period,
        now,
        person_id=person_id,
        weeks_start=start,
        weeks_end=end,
        facility_tags=quota["facility_tags"],
        facility_category_codes=quota["facility_category_codes"],
    )
    counts = {(r["reporter_id"], r["week_start"]): r for r in week_rows}
    items = []
    for person in people:
        detail = []
        for monday in weeks:
            found = counts.get((person["person_id"], monday), {})
            facility, hygiene = found.get("facility", 0), found.get("hygiene", 0)
            detail.append(
                {
                    "week_start_date": monday,
                    "facility": facility,
                    "hygiene": hygiene,
                    "met": facility >= quota["facility"] and hygiene >= quota["hygiene"],
                    "complete": local_midnight(monday + timedelta(days=7), period) <= now,
                }
            )
        complete = [w for w in detail if w["complete"]]
        items.append(
            {
                **person,
                "weeks": len(detail),
                "weeks_complete": len(complete),
                "weeks_met": sum(1 for w in complete if w["met"]),
                "quota_met": all(w["met"] for w in complete) if complete else None,
                "weekly": detail,
            }
        )
    return items


INSPECTOR_COLUMNS = [
    Column("person_id", "Person ID", "人员ID"),
    Column("username", "Username", "账号"),
    Column("display_name", "Name", "姓名"),
    Column("inspections", "Inspections", "检查次数"),
    Column("cases_reported", "Cases reported", "上报数"),
    Column("valid_cases", "Valid cases", "有效上报数"),
    Column("weeks", "Weeks", "考核周数"),
    Column("weeks_complete", "Weeks complete", "已结束周数"),
    Column("weeks_met", "Weeks quota met", "达标周数"),
    Column("quota_met", "Quota met", "是否达标"),
]


# --- coverage --------------------------------------------------------------------------

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
    points, grids = await repository.coverage(session, region_id, period, now, unit_id=unit_id)
    as_of = period.as_of(now)
    for point in points:
        if point["latest_score"] is not None:
            point["latest_score"] = float(point["latest_score"])
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


# --- chiefs ----------------------------------------------------------------------------

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
    rows = await repository.chiefs(session, region_id, period, now, person_id=person_id)
    for row in rows:
        row["closure_rate"] = rate(row["closed"], row["due"])
    return rows


# --- overview --------------------------------------------------------------------------

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
    raw = await repository.overview(session, region_id, period, now, unit_id=unit_id)
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


# --- overdue ---------------------------------------------------------------------------

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
    rows = await repository.overdue(
        session, region_id, period, now, unit_id=unit_id, due_in_period=due_in_period
    )
    for row in rows:
        row["hours_overdue"] = float(row["hours_overdue"])
    return rows
