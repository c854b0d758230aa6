"""Coverage, inspectors, chiefs, overview and overdue reports, and the settings endpoints."""

from __future__ import annotations

import io
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import openpyxl
import orjson
from fastapi import FastAPI
from sqlalchemy import text

from reporting.report_settings.service import load_settings
from reporting.reports import coverage
from reporting.reports.coverage import coverage_report
from reporting.reports.inspectors import inspectors_report
from reporting.reports.period import resolve_period
from shared import clock
from tests.factories import (
    auth,
    inspection_body,
    make_chief,
    make_division,
    make_person,
    make_sample_point,
    make_world,
    report_case,
)
from tests.reporting.helpers import SHANGHAI, act, drive_case, local, set_world_policy


def at(value: str) -> datetime:
    return datetime.fromisoformat(value)


async def inspect(inspections, w, point, finished: datetime, **overrides) -> dict:
    """POST /v1/inspections two minutes after a visit that finished at ``finished``."""
    body = inspection_body(
        w,
        sample_point_id=str(point.id),
        started_at=(finished - timedelta(minutes=20)).isoformat(),
        finished_at=finished.isoformat(),
        **overrides,
    )
    with clock.travel_to(finished + timedelta(minutes=2)):
        response = await inspections.post("/v1/inspections", json=body, headers=auth(w.inspector))
    assert response.status_code == 201, response.text
    return response.json()


async def test_coverage_blind_spots_grids_and_unit_scope(inspections, reporting, db):
    w = await make_world(db)
    p2 = await make_sample_point(
        db, region=w.region, point_type=w.point_type, division=w.grid, unit=w.other_unit
    )
    grid2 = await make_division(db, region=w.region, level="grid", parent=w.community)
    p5 = await make_sample_point(
        db, region=w.region, point_type=w.point_type, division=grid2, unit=w.unit
    )
    await make_sample_point(
        db,
        region=w.region,
        point_type=w.point_type,
        division=w.grid,
        unit=w.unit,
        status="retired",
    )
    await inspect(inspections, w, w.point, local(10, 10))
    low = [
        {"item_code": i["code"], "outcome": "pass", "grade": 5 if i["code"] == "M-01" else 10}
        for i in w.checklist.items
    ]
    await inspect(inspections, w, w.point, local(10, 28), results=low)
    await inspect(
        inspections,
        w,
        p5,
        local(10, 5),
        epidemic={"health_code_checked": True, "temperature_checked": True, "masks_worn": False},
    )
    await report_case(inspections, w.inspector, sample_point_id=str(w.point.id))

    response = await reporting.get("/v1/reports/coverage?month=2026-10", headers=auth(w.leader))
    assert response.status_code == 200, response.text
    body = response.json()
    points = {r["sample_point_id"]: r for r in body["items"]}
    assert set(points) == {str(w.point.id), str(p2.id), str(p5.id)}  # retired point left out
    market = points[str(w.point.id)]
    assert market["inspections"] == 2
    assert at(market["last_inspected_at"]) == local(10, 28)
    assert at(market["next_due_at"]) == local(11, 4)  # + visit_every_days 7
    assert (market["latest_score"], market["latest_passed"]) == (90.0, True)  # 45 of 50
    assert (market["open_cases"], market["blind_spot"]) == (1, False)
    never = points[str(p2.id)]
    assert (never["inspections"], never["next_due_at"], never["blind_spot"]) == (0, None, True)
    late = points[str(p5.id)]
    assert at(late["next_due_at"]) == local(10, 12) and late["blind_spot"] is True
    # From 10-12 12:00 to the end of the month (11-01 00:00 local): 19.5 days.
    assert late["days_overdue"] == 19.5
    assert {b["sample_point_id"] for b in body["blind_spots"]} == {str(p2.id), str(p5.id)}
    grids = {g["grid_id"]: g for g in body["grids"]}
    assert grids[str(w.grid.id)]["visited_on_time"] == {
        "value": 0.5,
        "numerator": 1,
        "denominator": 2,
    }
    assert grids[str(grid2.id)]["visited_on_time"] == {
        "value": 0.0,
        "numerator": 0,
        "denominator": 1,
    }

    mine = await reporting.get("/v1/reports/coverage?month=2026-10", headers=auth(w.unit_user))
    assert {r["sample_point_id"] for r in mine.json()["items"]} == {str(w.point.id), str(p5.id)}

    xlsx = await reporting.get(
        "/v1/reports/coverage?month=2026-10&format=xlsx", headers=auth(w.inspector)
    )
    table = list(
        openpyxl.load_workbook(io.BytesIO(xlsx.content)).active.iter_rows(values_only=True)
    )
    assert table[1][0] == "Sample point ID"  # under the title row
    assert [(r[0], r[7], r[13]) for r in table[2:]] == [
        (p["sample_point_id"], p["inspections"], p["blind_spot"]) for p in body["items"]
    ]

    overview = await reporting.get("/v1/reports/overview?month=2026-10", headers=auth(w.admin))
    epidemic = overview.json()["epidemic"]
    assert epidemic["health_code_checked"] == {"value": 1.0, "numerator": 3, "denominator": 3}
    assert epidemic["masks_worn"] == {"value": 0.6667, "numerator": 2, "denominator": 3}
    totals = overview.json()["totals"]
    assert (totals["inspections"], totals["inspections_passed"]) == (3, 3)
    assert totals["pass_rate"]["value"] == 1.0


async def test_inspectors_quota_by_week_with_facility_tags(inspections, reporting, db):
    w = await make_world(db)
    idle = await make_person(db, region=w.region, role="inspector")
    quota = await reporting.put(
        "/v1/reports/inspector-quota",
        # The default checklist tags M-03 "epidemic"; here that tag makes a facility case.
        json={"facility": 1, "hygiene": 3, "facility_tags": ["epidemic"]},
        headers=auth(w.admin),
    )
    assert quota.status_code == 200, quota.text

    def cases(facility: int, hygiene: int) -> list[dict]:
        codes = ["M-03"] * facility + ["M-01"] * hygiene
        return [{"id": str(uuid.uuid4()), "item_code": c, "description": "问题"} for c in codes]

    await inspect(inspections, w, w.point, local(10, 6), cases=cases(1, 3))  # week of 10-05
    await inspect(inspections, w, w.point, local(10, 13), cases=cases(1, 2))  # week of 10-12
    with clock.travel_to(local(10, 14)):
        invalid = await report_case(inspections, w.inspector, description="重复上报")
        await act(inspections, w.admin, invalid["id"], "cancel", note="无效")

    response = await reporting.get("/v1/reports/inspectors?month=2026-10", headers=auth(w.leader))
    assert response.status_code == 200, response.text
    rows = {r["person_id"]: r for r in response.json()["items"]}
    assert set(rows) == {str(w.inspector.id), str(idle.id)}
    me = rows[str(w.inspector.id)]
    assert (me["inspections"], me["cases_reported"], me["valid_cases"]) == (2, 8, 7)
    # October 2026 starts on a Thursday: the weeks of 10-05, 10-12, 10-19 and 10-26 count.
    assert [w_["week_start_date"] for w_ in me["weekly"]] == [
        "2026-10-05",
        "2026-10-12",
        "2026-10-19",
        "2026-10-26",
    ]
    assert [(x["facility"], x["hygiene"], x["met"]) for x in me["weekly"]] == [
        (1, 3, True),
        (1, 2, False),
        (0, 0, False),
        (0, 0, False),
    ]
    assert (me["weeks_complete"], me["weeks_met"], me["quota_met"]) == (4, 1, False)
    nobody = rows[str(idle.id)]
    assert (nobody["inspections"], nobody["valid_cases"], nobody["weeks_met"]) == (0, 0, 0)

    own = await reporting.get("/v1/reports/inspectors?month=2026-10", headers=auth(w.inspector))
    assert [r["person_id"] for r in own.json()["items"]] == [str(w.inspector.id)]
    assert (
        await reporting.get("/v1/reports/inspectors", headers=auth(w.unit_user))
    ).status_code == 403
    csv_rows = await reporting.get(
        "/v1/reports/inspectors?month=2026-10&format=csv",
        headers={**auth(w.leader), "Accept-Language": "zh"},
    )
    lines = csv_rows.content.decode("utf-8-sig").splitlines()
    assert lines[0].startswith("巡查员考核 — ")  # the title row
    assert lines[1].startswith("人员ID,账号,姓名,检查次数") and len(lines) == 4


async def test_coverage_counts_only_valid_inspections_over_short_and_long_periods(
    inspections, reporting, db, monkeypatch
):
    """A long period counts a point's inspections as all of them less those not valid
    (reports/coverage.LONG_PERIOD); a pending and a rejected inspection in the period —
    the latest of them dated after the valid one — count in neither way and are never the
    latest, and both ways give the same rows; a point without inspections in the period
    has its latest from before it."""
    w = await make_world(db)
    september_only = await make_sample_point(
        db, region=w.region, point_type=w.point_type, division=w.grid, unit=w.unit
    )
    await inspect(inspections, w, september_only, local(9, 20))
    await inspect(inspections, w, w.point, local(10, 10))
    for finished, validation in ((local(10, 12), "pending"), (local(10, 20), "rejected")):
        made = await inspect(inspections, w, w.point, finished)
        await db.execute(
            text("UPDATE inspections SET validation = :v WHERE region_id = :rid AND id = :id"),
            {"v": validation, "rid": w.region.id, "id": uuid.UUID(made["id"])},
        )
    await db.commit()
    now = clock.now()
    month = resolve_period(from_=None, to=None, month="2026-10", tz=SHANGHAI, now=now)
    long = resolve_period(from_="2026-06-01", to="2026-11-30", month=None, tz=SHANGHAI, now=now)

    async def rows(period) -> list[dict]:
        report = await coverage_report(db, w.region.id, period, now, unit_id=None)
        return report["items"]

    for period in (month, long):
        both_ways = []
        for threshold in (timedelta(days=10_000), timedelta(0)):  # short way, then long way
            with monkeypatch.context() as patch:
                patch.setattr(coverage, "LONG_PERIOD", threshold)
                both_ways.append(await rows(period))
        assert both_ways[0] == both_ways[1]
        [point] = [r for r in both_ways[0] if r["sample_point_id"] == w.point.id]
        assert (point["inspections"], point["last_inspected_at"]) == (1, local(10, 10))
    # A point not inspected in the month: its latest inspection is read before the month.
    [earlier] = [r for r in both_ways[0] if r["sample_point_id"] == september_only.id]
    [earlier_in_month] = [r for r in await rows(month) if r["sample_point_id"] == september_only.id]
    assert (earlier["inspections"], earlier["last_inspected_at"]) == (1, local(9, 20))
    assert (earlier_in_month["inspections"], earlier_in_month["last_inspected_at"]) == (
        0,
        local(9, 20),
    )


async def test_coverage_days_overdue_written_by_postgresql_as_python_rounds_it(db):
    """The JSON answer's ``days_overdue`` is written by PostgreSQL in integers
    (coverage.DAYS_OVERDUE_TENTHS): the same text as Python's round of its float, for every
    tie (an odd multiple of 0.05 day) over a century, a microsecond either side of each
    in the first years, and lateness that is none, zero or negative."""
    day_us = 86_400 * 10**6
    ties = [j * day_us // 20 for j in range(1, 20 * 36_525, 2)]
    near = [t + d for t in ties[:20_000] for d in (-1, 1)]
    other = [None, 0, -1, -day_us, 1, day_us, 7 * day_us + 123_456, 999 * day_us + 1]
    lateness = ties + near + other
    sql = (
        "SELECT "
        + coverage.JSON_VALUES["tenths"].format(
            c=f"({coverage.DAYS_OVERDUE_TENTHS.format(c='late')})"
        )
        + " FROM unnest(CAST(:lateness AS bigint[])) WITH ORDINALITY AS l(late, n) ORDER BY n"
    )
    written = (await db.execute(text(sql), {"lateness": lateness})).scalars().all()
    expected = [
        None
        if late is None
        else orjson.dumps(coverage.days_overdue(timedelta(microseconds=late))).decode()
        for late in lateness
    ]
    assert written == expected
    # 0.05, 0.15, 0.25, 0.35, 0.45 day: up, down, to even, down, up.
    assert written[:5] == ["0.1", "0.1", "0.2", "0.3", "0.5"]


async def fastapi_default_rendering(body: dict) -> bytes:
    """The bytes FastAPI writes for a route that returns ``body`` annotated ``Any``."""
    app = FastAPI()

    @app.get("/")
    async def answer() -> Any:
        return body

    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://local") as client:
        return (await client.get("/")).content


async def test_coverage_and_inspectors_answer_the_bytes_fastapi_would_write(
    inspections, reporting, db
):
    """These two reports write their JSON with orjson (reports/export.json_response; the
    coverage report's point rows are written by PostgreSQL, coverage.coverage_json): the
    answer is byte for byte what FastAPI's default path writes for a route returning the
    same report (as these routes did) — UUIDs, instants with microseconds, local dates,
    rounded floats (ties included), text that needs escaping (control characters
    included), Chinese as UTF-8, and nulls."""
    w = await make_world(db)
    quoted = await make_sample_point(
        db,
        region=w.region,
        point_type=w.point_type,
        division=w.grid,
        unit=w.other_unit,
        name='西街 "老字号" 小吃\\店\t',
    )
    await make_sample_point(
        db, region=w.region, point_type=w.point_type, division=w.grid, unit=w.unit, name="\x01铃"
    )
    await make_person(db, region=w.region, role="inspector", display_name='巡查员 "乙"\n')
    # Due 31 October 18:00 and 22:48 (+ 7 days): at as-of, 1 November 00:00, 0.25 and
    # 0.05 day overdue — ties, which Python rounds as its doubles say (0.2 and 0.1).
    for finished in (local(10, 24, 18), local(10, 24, 22, 48)):
        tie = await make_sample_point(
            db, region=w.region, point_type=w.point_type, division=w.grid, unit=w.unit
        )
        await inspect(inspections, w, tie, finished)
    await inspect(inspections, w, w.point, local(10, 9, 8, 15) + timedelta(microseconds=123456))
    low = [
        {"item_code": i["code"], "outcome": "pass", "grade": 3 if i["code"] == "M-04" else 7}
        for i in w.checklist.items
    ]
    await inspect(inspections, w, quoted, local(10, 20, 17, 40), results=low)
    with clock.travel_to(local(10, 21)):
        invalid = await report_case(inspections, w.inspector, description="重复")
        await act(inspections, w.admin, invalid["id"], "cancel", note="无效")

    moment = (local(11, 3, 9, 30) + timedelta(microseconds=654321)).astimezone(UTC)  # as now()
    period = resolve_period(from_=None, to=None, month="2026-10", tz=SHANGHAI, now=moment)
    head = {"period": period.describe(), "generated_at": moment.isoformat()}
    settings = await load_settings(db, w.region.id)
    expected = {
        "coverage": {
            **head,
            **await coverage_report(db, w.region.id, period, moment, unit_id=None),
        },
        "inspectors": {
            **head,
            "quota": {k: settings.inspector_quota[k] for k in ("facility", "hygiene")},
            "items": await inspectors_report(
                db, w.region.id, period, moment, settings, person_id=None
            ),
        },
    }
    await db.commit()
    answers = {}
    for name, body in expected.items():
        with clock.travel_to(moment):
            response = await reporting.get(
                f"/v1/reports/{name}?month=2026-10", headers=auth(w.leader)
            )
        assert response.status_code == 200, response.text
        assert response.headers["content-type"] == "application/json"
        assert response.content == await fastapi_default_rendering(body), name
        answers[name] = response.json()
    # What the bytes carry (so the comparison above is over a report that has them).
    points = {p["sample_point_id"]: p for p in answers["coverage"]["items"]}
    assert points[str(quoted.id)]["name"] == '西街 "老字号" 小吃\\店\t'
    assert isinstance(points[str(quoted.id)]["latest_score"], float)
    # Due 27 October 17:40 (+ 7 days), as-of 1 November 00:00: 4 days 6 h 20 min overdue.
    assert points[str(quoted.id)]["days_overdue"] == 4.3
    assert points[str(w.point.id)]["last_inspected_at"].endswith(".123456Z")
    assert [p["days_overdue"] for p in answers["coverage"]["blind_spots"]].count(None) == 1
    assert {0.2, 0.1} <= {p["days_overdue"] for p in answers["coverage"]["blind_spots"]}
    people = {p["person_id"]: p for p in answers["inspectors"]["items"]}
    me = people[str(w.inspector.id)]
    assert (me["cases_reported"], me["valid_cases"], me["quota_met"]) == (1, 0, False)
    assert me["weekly"][0] == {
        "week_start_date": "2026-10-05",
        "facility": 0,
        "hygiene": 0,
        "met": False,
        "complete": True,
    }


async def test_chiefs_overview_and_overdue(inspections, registry, reporting, db):
    w = await make_world(db)
    road_point = await make_sample_point(
        db,
        region=w.region,
        point_type=w.point_type,
        division=w.grid,
        unit=w.other_unit,
        address="解放路 8 号",
    )
    grid2 = await make_division(db, region=w.region, level="grid", parent=w.community)
    area = await make_chief(db, region=w.region, person=w.leader, kind="area", division=w.street)
    empty = await make_chief(db, region=w.region, person=w.leader, kind="grid", division=grid2)
    road = await make_chief(
        db, region=w.region, person=w.inspector, kind="road", road_name="解放路"
    )
    await set_world_policy(registry, w)
    closed = await drive_case(
        inspections,
        w,
        point=w.point,
        unit_user=w.unit_user,
        dispatched_at=local(10, 3),
        due_at=local(10, 6),
        steps=[("rectify", local(10, 5)), ("verify", local(10, 6, 10))],
    )
    overdue = await drive_case(
        inspections,
        w,
        point=road_point,
        unit_user=w.other_unit_user,
        dispatched_at=local(10, 6, 18),
        due_at=local(10, 9, 18),
        steps=[],
    )

    chiefs = await reporting.get("/v1/reports/chiefs?month=2026-10", headers=auth(w.admin))
    assert chiefs.status_code == 200, chiefs.text
    rows = {r["chief_id"]: r for r in chiefs.json()["items"]}
    keys = ("cases", "open", "overdue", "due", "closed", "closure_rate")
    assert {k: rows[str(area.id)][k] for k in keys} == {
        "cases": 2,
        "open": 1,
        "overdue": 1,
        "due": 2,
        "closed": 1,
        "closure_rate": {"value": 0.5, "numerator": 1, "denominator": 2},
    }
    assert {k: rows[str(empty.id)][k] for k in keys} == {
        "cases": 0,
        "open": 0,
        "overdue": 0,
        "due": 0,
        "closed": 0,
        "closure_rate": {"value": None, "numerator": 0, "denominator": 0},
    }
    assert {k: rows[str(road.id)][k] for k in keys} == {
        "cases": 1,
        "open": 1,
        "overdue": 1,
        "due": 1,
        "closed": 0,
        "closure_rate": {"value": 0.0, "numerator": 0, "denominator": 1},
    }
    own = await reporting.get("/v1/reports/chiefs?month=2026-10", headers=auth(w.inspector))
    assert [r["chief_id"] for r in own.json()["items"]] == [str(road.id)]
    assert (await reporting.get("/v1/reports/chiefs", headers=auth(w.unit_user))).status_code == 403

    overview = await reporting.get("/v1/reports/overview?month=2026-10", headers=auth(w.leader))
    body = overview.json()
    totals = body["totals"]
    assert {
        k: totals[k]
        for k in (
            "cases_reported",
            "cases_valid",
            "cases_cancelled",
            "cases_dispatched",
            "cases_closed",
            "cases_closed_on_time",
            "open_now",
            "overdue_now",
            "inspections",
        )
    } == {
        "cases_reported": 2,
        "cases_valid": 2,
        "cases_cancelled": 0,
        "cases_dispatched": 2,
        "cases_closed": 1,
        "cases_closed_on_time": 1,
        "open_now": 1,
        "overdue_now": 1,
        "inspections": 0,
    }
    assert [(g["key"], g["reported"], g["closed"], g["open"]) for g in body["by_source"]] == [
        ("woodpecker", 2, 1, 1)
    ]
    assert [(g["name"], g["reported"]) for g in body["by_point_type"]] == [("农贸市场", 2)]
    assert [g["reported"] for g in body["by_category"]] == [2]
    assert [(g["key"], g["reported"]) for g in body["by_severity"]] == [("normal", 2)]
    # October 2026 begins on a Thursday: its weeks start 09-28 … 10-26.
    weekly = [(x["week_start"], x["cases_reported"], x["cases_closed"]) for x in body["weekly"]]
    assert weekly == [
        ("2026-09-28", 1, 0),  # reported 10-03
        ("2026-10-05", 1, 1),  # reported 10-06, closed 10-06
        ("2026-10-12", 0, 0),
        ("2026-10-19", 0, 0),
        ("2026-10-26", 0, 0),
    ]
    assert body["epidemic"]["masks_worn"] == {"value": None, "numerator": 0, "denominator": 0}
    mine = await reporting.get("/v1/reports/overview?month=2026-10", headers=auth(w.unit_user))
    assert mine.json()["totals"]["cases_reported"] == 1
    flat = await reporting.get(
        "/v1/reports/overview?month=2026-10&format=xlsx", headers=auth(w.leader)
    )
    table = list(
        openpyxl.load_workbook(io.BytesIO(flat.content)).active.iter_rows(values_only=True)
    )
    assert ("by_source", "woodpecker", "woodpecker", 2, 2, 1, 1, 1, None, None, None) in table

    with clock.travel_to(local(10, 20, 6)):  # 10 days and 12 hours after 10-09 18:00
        listed = await reporting.get("/v1/reports/overdue", headers=auth(w.leader))
    [row] = listed.json()["items"]
    assert (row["case_id"], row["unit_id"]) == (str(overdue), str(w.other_unit.id))
    assert row["hours_overdue"] == 252.0
    assert (await reporting.get("/v1/reports/overdue", headers=auth(w.unit_user))).json()[
        "items"
    ] == []
    other = await reporting.get("/v1/reports/overdue", headers=auth(w.other_unit_user))
    assert [r["case_id"] for r in other.json()["items"]] == [str(overdue)]
    september = await reporting.get("/v1/reports/overdue?month=2026-09", headers=auth(w.leader))
    assert september.json()["items"] == []  # filtered by due_at when a period is given
    assert str(closed) not in listed.text


async def test_score_weights_are_data_and_refuse_bad_input(reporting, db):
    w = await make_world(db)
    default = await reporting.get("/v1/reports/score-weights", headers=auth(w.unit_user))
    assert default.status_code == 200
    assert {k: default.json()[k] for k in ("closure", "on_time", "rework", "volume")} == {
        "closure": 30,
        "on_time": 30,
        "rework": 30,
        "volume": 10,
    }
    assert default.json()["min_cases"] == 5 and default.json()["version"] == 0
    good = {"closure": 40, "on_time": 40, "rework": 10, "volume": 10, "min_cases": 3}
    for body, status in (
        ({**good, "volume_weight": 5}, 422),
        ({**good, "closure": -1}, 422),
        ({"closure": 0, "on_time": 0, "rework": 0, "volume": 0}, 422),
        ({**good, "volume_bands": [{"min_due": 1, "points": 11}]}, 422),
    ):
        response = await reporting.put(
            "/v1/reports/score-weights", json=body, headers=auth(w.admin)
        )
        assert response.status_code == status, body
        assert response.headers["content-type"].startswith("application/problem+json")
    unknown = await reporting.put(
        "/v1/reports/score-weights", json={**good, "volume_weight": 5}, headers=auth(w.admin)
    )
    assert unknown.json()["errors"][0]["loc"] == ["body", "volume_weight"]
    assert (
        await reporting.put("/v1/reports/score-weights", json=good, headers=auth(w.leader))
    ).status_code == 403
    unchanged = await reporting.get("/v1/reports/score-weights", headers=auth(w.admin))
    assert unchanged.json() == default.json()

    saved = await reporting.put(
        "/v1/reports/score-weights", json=good, headers={**auth(w.admin), "If-Match": '"0"'}
    )
    assert saved.status_code == 200 and saved.json()["version"] == 1
    stale = await reporting.put(
        "/v1/reports/score-weights", json=good, headers={**auth(w.admin), "If-Match": '"0"'}
    )
    assert stale.status_code == 412
    assert (await reporting.get("/v1/reports/score-weights", headers=auth(w.admin))).json()[
        "min_cases"
    ] == 3

    rules = await reporting.put(
        "/v1/accountability/rules",
        json={
            "black_on_time_rate_below": 0.8,
            "red_on_time_rate_at_least": 0.95,
            "window_months": 2,
            "escalations": [{"times": 3, "level": "accountability"}],
        },
        headers=auth(w.admin),
    )
    assert rules.status_code == 422
    quota = await reporting.get("/v1/reports/inspector-quota", headers=auth(w.inspector))
    assert (quota.json()["facility"], quota.json()["hygiene"]) == (1, 3)
