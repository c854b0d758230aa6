"""Accountability runs, notices, acknowledgement, the red/black list and the once-a-day run."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import func, select

from reporting.accountability.daily import run_region_if_due
from shared import clock
from shared.db import create_engine, create_sessionmaker
from shared.models import AccountabilityRun, BlacklistEntry, ChiefCaseMonthRun, Notice, UnitDayRun
from tests.factories import auth, make_world
from tests.reporting.helpers import SHANGHAI, local
from tests.reporting.world import October, build_october


@pytest.fixture
async def oct_world(inspections, registry, db) -> October:
    return await build_october(inspections, registry, db)


async def notices_in(db, region_id) -> list[Notice]:
    rows = await db.scalars(
        select(Notice).where(Notice.region_id == region_id).order_by(Notice.period, Notice.rule)
    )
    return list(rows)


async def run(reporting, admin, period: str):
    return await reporting.post(
        "/v1/accountability/runs", json={"period": period}, headers=auth(admin)
    )


async def test_black_list_notice_then_interview_and_no_duplicates(
    reporting, oct_world: October, db
):
    w = oct_world.w
    # min_cases 1 so September's single due case (a0) counts.
    put = await reporting.put(
        "/v1/reports/score-weights",
        json={"closure": 30, "on_time": 30, "rework": 30, "volume": 10, "min_cases": 1},
        headers=auth(w.admin),
    )
    assert put.status_code == 200

    september = await run(reporting, w.admin, "2026-09")
    assert september.status_code == 201, september.text
    body = september.json()
    assert [r["unit_id"] for r in body["black"]] == [str(w.unit.id)]  # a0: 0/1 on time
    assert body["red"] == [] and body["notices_created"] == 1

    october = await run(reporting, w.admin, "2026-10")
    body = october.json()
    assert october.status_code == 201
    [black] = body["black"]
    assert black["unit_id"] == str(w.unit.id)
    assert black["on_time_rate"] == {"value": 0.4286, "numerator": 3, "denominator": 7}
    # B: on time 2/2, grade A → red list.
    assert [r["unit_id"] for r in body["red"]] == [str(w.other_unit.id)]
    assert body["notices_created"] == 2  # the October notice and the interview
    by_rule = {n["rule"]: n for n in body["notices"]}
    assert set(by_rule) == {"black_list", "escalation_interview"}
    notice = by_rule["black_list"]
    assert (notice["level"], notice["unit_id"], notice["period"]) == (
        "notice",
        str(w.unit.id),
        "2026-10",
    )
    c = oct_world.cases
    # The due cases not closed on time: a0 (open), a2 (closed late), a4 and a6 (open).
    assert sorted(notice["case_ids"]) == sorted(str(c[k]) for k in ("a0", "a2", "a4", "a6"))
    assert "42.9%" in notice["reason"] and "3/7" in notice["reason"]
    assert by_rule["escalation_interview"]["level"] == "interview"
    assert "2026-09" in by_rule["escalation_interview"]["reason"]

    again = await run(reporting, w.admin, "2026-10")
    assert again.status_code == 201 and again.json()["notices_created"] == 0
    stored = await notices_in(db, w.region.id)
    assert [(n.period, n.rule) for n in stored] == [
        ("2026-09", "black_list"),
        ("2026-10", "black_list"),
        ("2026-10", "escalation_interview"),
    ]
    runs = await db.scalar(select(func.count()).where(AccountabilityRun.region_id == w.region.id))
    assert runs == 3
    entries = (
        await db.execute(
            select(BlacklistEntry.period, BlacklistEntry.unit_id, BlacklistEntry.list)
            .where(BlacklistEntry.region_id == w.region.id)
            .order_by(BlacklistEntry.period, BlacklistEntry.list)
        )
    ).all()
    assert entries == [
        ("2026-09", w.unit.id, "black"),
        ("2026-10", w.unit.id, "black"),
        ("2026-10", w.other_unit.id, "red"),
    ]

    # The red/black list shows the same, marked as recorded.
    lists = await reporting.get("/v1/reports/red-black-list?month=2026-10", headers=auth(w.leader))
    assert lists.status_code == 200
    assert [(r["unit_id"], r["recorded"]) for r in lists.json()["black"]] == [
        (str(w.unit.id), True)
    ]
    assert [r["unit_id"] for r in lists.json()["red"]] == [str(w.other_unit.id)]
    mine = await reporting.get(
        "/v1/reports/red-black-list?month=2026-10", headers=auth(w.other_unit_user)
    )
    assert mine.json()["black"] == [] and len(mine.json()["red"]) == 1


async def test_three_times_black_listed_in_three_months_is_accountability(
    reporting, oct_world: October, db
):
    w = oct_world.w
    rules = await reporting.put(
        "/v1/accountability/rules",
        json={
            "black_on_time_rate_below": 0.8,
            "red_on_time_rate_at_least": 0.95,
            "red_grades": ["A"],
            "window_months": 3,
            "escalations": [
                {"times": 2, "level": "interview"},
                {"times": 3, "level": "accountability"},
            ],
        },
        headers=auth(w.admin),
    )
    assert rules.status_code == 200, rules.text
    await reporting.put(
        "/v1/reports/score-weights",
        json={"closure": 30, "on_time": 30, "rework": 30, "volume": 10, "min_cases": 1},
        headers=auth(w.admin),
    )
    for month in ("2026-09", "2026-10", "2026-11"):
        assert (await run(reporting, w.admin, month)).status_code == 201
    levels = [(n.period, n.level) for n in await notices_in(db, w.region.id)]
    assert ("2026-11", "accountability") in levels
    assert ("2026-10", "interview") in levels
    assert ("2026-11", "interview") not in levels  # only the highest escalation


async def test_notices_are_scoped_and_acknowledged_by_their_unit(reporting, oct_world: October, db):
    w = oct_world.w
    assert (await run(reporting, w.admin, "2026-10")).status_code == 201
    mine = await reporting.get("/v1/accountability/notices", headers=auth(w.unit_user))
    assert mine.status_code == 200
    [notice] = mine.json()["items"]
    assert notice["acknowledged_at"] is None and notice["level"] == "notice"
    other = await reporting.get("/v1/accountability/notices", headers=auth(w.other_unit_user))
    assert other.json()["items"] == []
    everyone = await reporting.get(
        "/v1/accountability/notices?period=2026-10&level=notice", headers=auth(w.leader)
    )
    assert [n["id"] for n in everyone.json()["items"]] == [notice["id"]]

    path = f"/v1/accountability/notices/{notice['id']}/acknowledge"
    assert (await reporting.post(path, headers=auth(w.other_unit_user))).status_code == 404
    assert (await reporting.post(path, headers=auth(w.admin))).status_code == 403
    acked = await reporting.post(path, headers=auth(w.unit_user))
    assert acked.status_code == 200 and acked.json()["acknowledged_at"] is not None
    again = await reporting.post(path, headers=auth(w.unit_user))
    assert again.json()["acknowledged_at"] == acked.json()["acknowledged_at"]
    open_ones = await reporting.get(
        "/v1/accountability/notices?acknowledged=false", headers=auth(w.leader)
    )
    assert open_ones.json()["items"] == []

    elsewhere = await make_world(db)
    assert (await reporting.post(path, headers=auth(elsewhere.unit_user))).status_code == 404
    foreign = await reporting.get("/v1/accountability/notices", headers=auth(elsewhere.admin))
    assert foreign.json()["items"] == []


async def test_runs_refuse_bad_input_and_other_roles(reporting, db):
    w = await make_world(db)
    for body in ({"period": "2026-13"}, {"period": "2026-10", "extra": 1}, {}):
        response = await reporting.post("/v1/accountability/runs", json=body, headers=auth(w.admin))
        assert response.status_code == 422, body
        assert response.headers["content-type"].startswith("application/problem+json")
    for period in ("0000-10", "9999-12"):
        out_of_range = await run(reporting, w.admin, period)
        assert out_of_range.status_code == 422, period
    future = await run(reporting, w.admin, "2099-01")
    assert future.status_code == 409
    assert (await run(reporting, w.leader, "2026-10")).status_code == 403
    assert (await run(reporting, w.unit_user, "2026-10")).status_code == 403
    assert (
        await db.scalar(select(func.count()).where(AccountabilityRun.region_id == w.region.id)) == 0
    )
    bad = await reporting.get("/v1/reports/red-black-list?month=2026-1", headers=auth(w.admin))
    assert bad.status_code == 422


async def test_a_month_that_has_not_ended_is_refused(reporting, oct_world: October, db):
    """An hour before November ends its lists would rest on a partial month: 409, nothing kept."""
    w = oct_world.w
    with clock.travel_to(local(11, 30, 23)):
        partial = await run(reporting, w.admin, "2026-11")
        assert partial.status_code == 409, partial.text
        assert partial.headers["content-type"].startswith("application/problem+json")
        assert partial.json()["status"] == 409
        assert (
            await db.scalar(select(func.count()).where(AccountabilityRun.region_id == w.region.id))
            == 0
        )
        ended = await run(reporting, w.admin, "2026-10")
        assert ended.status_code == 201, ended.text


async def test_daily_run_happens_once_when_two_replicas_race(database_url, oct_world: October, db):
    """Two replicas (separate engines and pools) try today's run at the same moment."""
    w = oct_world.w
    now = local(11, 2, 10).astimezone(UTC)  # 2 November, 10:00 local → runs October
    engines = [create_engine(database_url, application_name=f"test.replica{i}") for i in (1, 2)]
    try:
        makers = [create_sessionmaker(e) for e in engines]
        results = await asyncio.gather(
            *(
                run_region_if_due(m, w.region.id, SHANGHAI, run_hour=1, now=now)
                for m in makers
                for _ in range(3)
            )
        )
        assert sum(r is not None for r in results) == 1
        # Later the same day nothing more happens; before the run hour nothing either.
        later = local(11, 2, 23).astimezone(UTC)
        assert (
            await run_region_if_due(makers[0], w.region.id, SHANGHAI, run_hour=1, now=later) is None
        )
        early = local(11, 3, 0, 30).astimezone(UTC)
        assert (
            await run_region_if_due(makers[1], w.region.id, SHANGHAI, run_hour=1, now=early) is None
        )
        # The next day (after the hour) runs again, creating no duplicate notices.
        next_day = local(11, 3, 9).astimezone(UTC)
        assert await run_region_if_due(makers[1], w.region.id, SHANGHAI, run_hour=1, now=next_day)
    finally:
        for engine in engines:
            await engine.dispose()
    runs = (
        await db.execute(
            select(
                AccountabilityRun.period, AccountabilityRun.trigger, AccountabilityRun.started_at
            )
            .where(AccountabilityRun.region_id == w.region.id)
            .order_by(AccountabilityRun.started_at)
        )
    ).all()
    assert [(p, t) for p, t, _ in runs] == [("2026-10", "daily"), ("2026-10", "daily")]
    # The runs also stored the units report's settled days: up to 1 November by the
    # second run (a day is settled once it has ended plus a day), not 2 November.
    stored = set(
        await db.scalars(select(UnitDayRun.day).where(UnitDayRun.region_id == w.region.id))
    )
    assert {date(2026, 10, 1), date(2026, 10, 31), date(2026, 11, 1)} <= stored
    assert date(2026, 11, 2) not in stored
    # And the chiefs report's settled months: October (ended 1 November, settled on the
    # 2nd), not November.
    months = set(
        await db.scalars(
            select(ChiefCaseMonthRun.month).where(ChiefCaseMonthRun.region_id == w.region.id)
        )
    )
    assert date(2026, 10, 1) in months and date(2026, 11, 1) not in months
    assert runs[0][2] == now
    notices = await notices_in(db, w.region.id)
    assert [(n.period, n.rule) for n in notices] == [("2026-10", "black_list")]
    assert notices[0].created_at == now
    assert datetime.now(UTC) > now
