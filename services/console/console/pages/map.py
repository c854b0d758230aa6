"""The map: sample points coloured by latest score, blind spots and open cases marked."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Request

from console.web import CurrentViewer, render

router = APIRouter()

OPEN_STATUSES = ("reported", "assigned", "returned", "rectified")


def score_band(score: float | None, pass_mark: float) -> str:
    """The colour class of a point: not inspected, failing, fair or passed."""
    if score is None:
        return "none"
    if score >= pass_mark:
        return "good"
    return "mid" if score >= 60 else "bad"


@router.get("/map")
async def map_page(
    request: Request,
    viewer: CurrentViewer,
    point_type: Annotated[uuid.UUID | None, Query(alias="type")] = None,
    division: uuid.UUID | None = None,
):
    """Every sample point the viewer may see on a map, filtered by type and division."""
    api = viewer.api
    types = await api.all_items("registry", "/v1/point-types")
    streets = [
        d
        for d in await api.all_items("registry", "/v1/divisions")
        if d["level"] in ("street", "community")
    ]
    points = await api.all_items(
        "registry", "/v1/sample-points", type=point_type, division=division, status="active"
    )
    # Every role may read coverage (a unit: its own points); scores and blind spots come from it.
    report = await api.get("reporting", "/v1/reports/coverage")
    coverage = {row["sample_point_id"]: row for row in report["items"]}
    pass_marks = {t["id"]: t["pass_mark"] for t in types}
    markers = []
    for p in points:
        seen = coverage.get(p["id"], {})
        score = seen.get("latest_score")
        markers.append(
            {
                "id": p["id"],
                "code": p["code"],
                "name": p["name"],
                "lat": p["lat"],
                "lon": p["lon"],
                "score": score,
                "band": score_band(score, pass_marks.get(p["point_type_id"], 85.0)),
                "blind_spot": bool(seen.get("blind_spot")),
                "open_cases": seen.get("open_cases", 0),
            }
        )
    cases = []
    for status in OPEN_STATUSES:
        for case in await api.all_items(
            "inspections", "/v1/cases", status=status, division=division
        ):
            if case["location"]:
                cases.append(
                    {
                        "id": case["id"],
                        "lat": case["location"]["lat"],
                        "lon": case["location"]["lon"],
                        "description": case["description"][:80],
                        "status": case["status"],
                    }
                )
    settings = request.app.state.settings
    return render(
        request,
        "map.html",
        types=types,
        divisions=streets,
        selected_type=str(point_type or ""),
        selected_division=str(division or ""),
        map_data={
            "points": markers,
            "cases": cases,
            "tile_url": settings.tile_url,
            "tile_attribution": settings.tile_attribution,
        },
    )
