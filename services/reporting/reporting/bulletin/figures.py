"""What the bulletin says, gathered from the reports themselves (one source of truth).

Every figure comes from the same functions that answer ``/v1/reports/*`` for the
month — the units league, the red/black lists, the overview, coverage and overdue
reports — plus the month's stored notices; the bulletin computes nothing of its own
except how to say it. The map reads the points' and open cases' coordinates.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from reporting.accountability.service import classify, notices_of_period
from reporting.report_settings.service import load_settings
from reporting.reports.coverage import coverage_report
from reporting.reports.overdue import overdue_report
from reporting.reports.overview import overview_report
from reporting.reports.period import Period
from reporting.reports.units import units_report
from shared.models import Region, Unit

ISSUER = "创建国家卫生城市工作领导小组办公室"


@dataclass
class Bulletin:
    """Everything one month's bulletin shows."""

    region_name: str
    month: str
    issued_on: date
    provisional: bool  # the month has not ended: figures so far
    league: list[dict[str, Any]]
    black: list[dict[str, Any]]
    red: list[dict[str, Any]]
    notices: list[dict[str, Any]]
    overdue: list[dict[str, Any]]
    blind_spots: list[dict[str, Any]]
    totals: dict[str, Any]
    weekly: list[dict[str, Any]]
    points: list[tuple[float, float, bool]] = field(default_factory=list)  # lat, lon, blind
    open_cases: list[tuple[float, float]] = field(default_factory=list)
    issuer: str = ISSUER


_OPEN_CASE_LOCATIONS = text(
    """
    SELECT c.lat, c.lon FROM cases c
     WHERE c.region_id = :rid AND c.lat IS NOT NULL
       AND c.status IN ('reported', 'assigned', 'returned', 'rectified', 'parked')
     ORDER BY c.id
    """
)
_POINT_LOCATIONS = text(
    "SELECT id, lat, lon FROM sample_points WHERE region_id = :rid AND status = 'active' "
    "ORDER BY id"
)


async def gather(
    session: AsyncSession, region_id: uuid.UUID, period: Period, now: datetime
) -> Bulletin:
    """The month's figures, as the reports give them at ``now``."""
    assert period.month is not None
    tz: ZoneInfo = period.tz
    region = await session.get(Region, region_id)
    settings = await load_settings(session, region_id)
    league = await units_report(session, region_id, period, now, settings)
    black, red = classify(league, settings)
    overview = await overview_report(session, region_id, period, now, unit_id=None)
    coverage = await coverage_report(session, region_id, period, now, unit_id=None)
    overdue = await overdue_report(
        session, region_id, period, now, unit_id=None, due_in_period=False
    )
    units = {
        u.id: u.name for u in await session.scalars(select(Unit).where(Unit.region_id == region_id))
    }
    notices = [
        {
            "level": n.level,
            "unit_name": units.get(n.unit_id, "—"),
            "reason": n.reason,
            "cases": len(n.case_ids or []),
        }
        for n in await notices_of_period(session, region_id, period.month)
    ]
    blind_ids = {b["sample_point_id"] for b in coverage["blind_spots"]}
    points = [
        (float(r.lat), float(r.lon), r.id in blind_ids)
        for r in await session.execute(_POINT_LOCATIONS, {"rid": region_id})
    ]
    open_cases = [
        (float(r.lat), float(r.lon))
        for r in await session.execute(_OPEN_CASE_LOCATIONS, {"rid": region_id})
    ]
    ended = now >= period.end
    # Dated the first day after the month once it has ended, so the same month's data
    # gives the same document whenever it is printed; a month still running says so.
    issued_on = period.end.astimezone(tz).date() if ended else now.astimezone(tz).date()
    return Bulletin(
        region_name=region.name if region else "",
        month=period.month,
        issued_on=issued_on,
        provisional=not ended,
        league=league,
        black=black,
        red=red,
        notices=notices,
        overdue=sorted(overdue, key=lambda r: (r["unit_name"] or "", -r["hours_overdue"])),
        blind_spots=coverage["blind_spots"],
        totals=overview["totals"],
        weekly=overview["weekly"],
        points=points,
        open_cases=open_cases,
    )


def percent(rate: dict[str, Any]) -> str:
    """A rate object ``{value, numerator, denominator}`` as ``87.5%（7/8）``."""
    if rate["value"] is None:
        return f"—（{rate['numerator']}/{rate['denominator']}）"
    return f"{rate['value'] * 100:.1f}%（{rate['numerator']}/{rate['denominator']}）"


def sentences(b: Bulletin) -> list[str]:
    """The month's figures, a sentence each, as an office writes them."""
    t = b.totals
    ranked = [r for r in b.league if r["ranked"]]
    due = sum(r["due"] for r in b.league)
    closed_on_time = sum(r["closed_on_time"] for r in b.league)
    lines = [
        f"本月共开展检查 {t['inspections']} 次，合格 {t['inspections_passed']} 次，"
        f"合格率 {percent(t['pass_rate'])}。",
        f"本月发现问题 {t['cases_reported']} 个，办结 {t['cases_closed']} 个。",
        f"应结案 {due} 件，按期结案 {closed_on_time} 件。",
        f"参与排名的责任单位 {len(ranked)} 个，列入黑榜 {len(b.black)} 个，"
        f"列入红榜 {len(b.red)} 个。",
        f"截至发布时仍有超期未处置问题 {len(b.overdue)} 个，检查盲点 {len(b.blind_spots)} 个。",
    ]
    return lines


def days_overdue(hours: float) -> str:
    return f"{hours / 24:.1f}"


def week_label(day: date) -> str:
    return f"{day.month}/{day.day}"


def month_title(month: str) -> str:
    year, mon = month.split("-")
    return f"{int(year)}年{int(mon)}月"


def next_day(day: date) -> date:
    return day + timedelta(days=1)
