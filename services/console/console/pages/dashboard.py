"""The dashboard: the month's figures, the unit league table, charts, red and black lists."""

from __future__ import annotations

import re
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import RedirectResponse

from console.charts import bar_chart, column_chart
from console.web import CurrentViewer, render

router = APIRouter()

MONTH = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")


def league_order(rows: list[dict]) -> list[dict]:
    """Ranked units by rank first, then the unranked ones by name."""
    return sorted(rows, key=lambda r: (r["rank"] is None, r["rank"] or 0, r["unit_code"]))


@router.get("/")
async def dashboard(
    request: Request,
    viewer: CurrentViewer,
    month: Annotated[str | None, Query(description="YYYY-MM; default this month")] = None,
):
    """The month at a glance for leaders and the office; other roles start at their cases."""
    if viewer.role not in ("admin", "leader"):
        return RedirectResponse("/cases", status_code=303)
    period = {"month": month} if month and MONTH.match(month) else {}
    overview = await viewer.api.get("reporting", "/v1/reports/overview", **period)
    units = await viewer.api.get("reporting", "/v1/reports/units", **period)
    lists = await viewer.api.get("reporting", "/v1/reports/red-black-list", **period)
    rows = league_order(units["items"])
    on_time = bar_chart(
        [
            (r["unit_name"], r["on_time_rate"]["value"])
            for r in rows
            if r["on_time_rate"]["value"] is not None
        ]
    )
    weekly = column_chart(
        [(w["week_start"][5:], w["cases_reported"], w["cases_closed"]) for w in overview["weekly"]]
    )
    return render(
        request,
        "dashboard.html",
        overview=overview,
        units=units,
        rows=rows,
        lists=lists,
        on_time=on_time,
        weekly=weekly,
        month=overview["period"]["month"] or "",
    )
