"""The working calendar: holidays and make-up working days (调休)."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from sqlalchemy import select

from shared.models import CalendarDay
from tests.factories import auth, make_world
from tests.paging import all_pages

# National Day 2026: 1–7 October off, Saturday 10 October worked.
NATIONAL_DAY = [
    *({"date": f"2026-10-0{d}", "kind": "holiday", "name": "国庆节"} for d in range(1, 8)),
    {"date": "2026-10-10", "kind": "workday", "name": "国庆调休"},
]


async def _stored(db, region_id) -> list[tuple[dt.date, str, str]]:
    rows = await db.execute(
        select(CalendarDay.day, CalendarDay.kind, CalendarDay.name)
        .where(CalendarDay.region_id == region_id)
        .order_by(CalendarDay.day)
    )
    return [tuple(r) for r in rows]


async def test_admin_loads_a_holiday_notice_and_everyone_reads_it(registry, db):
    world = await make_world(db)
    response = await registry.post(
        "/v1/calendar/bulk", json={"days": NATIONAL_DAY}, headers=auth(world.admin)
    )
    assert response.status_code == 200, response.text
    assert [d["date"] for d in response.json()["items"]] == [d["date"] for d in NATIONAL_DAY]
    for reader in (world.inspector, world.leader, world.unit_user):
        listed = await registry.get(
            "/v1/calendar",
            params={"from": "2026-10-01", "to": "2026-10-31", "limit": 500},
            headers=auth(reader),
        )
        assert listed.status_code == 200
        items = listed.json()["items"]
        assert [(d["date"], d["kind"]) for d in items] == [
            (d["date"], d["kind"]) for d in NATIONAL_DAY
        ]
    first_week = await registry.get(
        "/v1/calendar", params={"from": "2026-10-03", "to": "2026-10-04"}, headers=auth(world.admin)
    )
    assert [d["date"] for d in first_week.json()["items"]] == ["2026-10-03", "2026-10-04"]


async def test_put_upserts_one_day_and_delete_unlists_it(registry, db):
    world = await make_world(db)
    created = await registry.put(
        "/v1/calendar/2026-05-01",
        json={"kind": "holiday", "name": "劳动节"},
        headers=auth(world.admin),
    )
    assert created.status_code == 200, created.text
    assert created.json()["date"] == "2026-05-01" and created.json()["name"] == "劳动节"
    renamed = await registry.put(
        "/v1/calendar/2026-05-01",
        json={"kind": "holiday", "name": "五一"},
        headers=auth(world.admin),
    )
    assert renamed.json()["name"] == "五一"
    assert await _stored(db, world.region.id) == [(dt.date(2026, 5, 1), "holiday", "五一")]
    gone = await registry.delete("/v1/calendar/2026-05-01", headers=auth(world.admin))
    assert gone.status_code == 204
    assert await _stored(db, world.region.id) == []
    again = await registry.delete("/v1/calendar/2026-05-01", headers=auth(world.admin))
    assert again.status_code == 404


async def test_bad_days_are_refused_and_the_bulk_is_all_or_nothing(registry, db):
    world = await make_world(db)
    await registry.put(
        "/v1/calendar/2026-01-01",
        json={"kind": "holiday", "name": "元旦"},
        headers=auth(world.admin),
    )
    before = await _stored(db, world.region.id)
    bad_bulk = await registry.post(
        "/v1/calendar/bulk",
        json={
            "days": [
                {"date": "2026-02-16", "kind": "holiday", "name": "春节"},
                {"date": "2026-02-18", "kind": "workday"},  # a Wednesday
                {"date": "2026-02-16", "kind": "holiday"},  # twice
            ]
        },
        headers=auth(world.admin),
    )
    assert bad_bulk.status_code == 422
    locs = [e["loc"] for e in bad_bulk.json()["errors"]]
    assert ["body", "days", "1", "kind"] in locs or ["body", "days", 1, "kind"] in locs
    assert ["body", "days", "2", "date"] in locs or ["body", "days", 2, "date"] in locs
    typed_wrong = await registry.post(
        "/v1/calendar/bulk",
        json={"days": [{"date": "2026-02-30", "kind": "holiday"}, {"date": "x", "kind": "nap"}]},
        headers=auth(world.admin),
    )
    assert typed_wrong.status_code == 422
    assert len(typed_wrong.json()["errors"]) == 3
    for path, body in (
        ("/v1/calendar/2026-03-04", {"kind": "workday"}),  # a Wednesday
        ("/v1/calendar/2026-03-07", {"kind": "vacation"}),
        ("/v1/calendar/2026-03-07", {"kind": "holiday", "note": "x"}),
        ("/v1/calendar/2026-13-01", {"kind": "holiday"}),
        ("/v1/calendar/2026-03-07", {"kind": "holiday", "name": "x" * 101}),
    ):
        response = await registry.put(path, json=body, headers=auth(world.admin))
        assert response.status_code == 422, (path, body, response.text)
    empty = await registry.post("/v1/calendar/bulk", json={"days": []}, headers=auth(world.admin))
    assert empty.status_code == 422
    reversed_range = await registry.get(
        "/v1/calendar", params={"from": "2026-12-01", "to": "2026-01-01"}, headers=auth(world.admin)
    )
    assert reversed_range.status_code == 422
    assert await _stored(db, world.region.id) == before


async def test_only_admins_change_the_calendar(registry, db):
    world = await make_world(db)
    for person in (world.inspector, world.leader, world.unit_user):
        headers = auth(person)
        put = await registry.put(
            "/v1/calendar/2026-10-01", json={"kind": "holiday"}, headers=headers
        )
        bulk = await registry.post(
            "/v1/calendar/bulk", json={"days": NATIONAL_DAY}, headers=headers
        )
        gone = await registry.delete("/v1/calendar/2026-10-01", headers=headers)
        assert (put.status_code, bulk.status_code, gone.status_code) == (403, 403, 403)
    assert await _stored(db, world.region.id) == []
    assert (await registry.get("/v1/calendar")).status_code == 401


async def test_each_region_has_its_own_calendar(registry, db):
    world = await make_world(db)
    other = await make_world(db)
    await registry.post("/v1/calendar/bulk", json={"days": NATIONAL_DAY}, headers=auth(other.admin))
    mine = await registry.get(
        "/v1/calendar", params={"from": "2026-01-01", "to": "2026-12-31"}, headers=auth(world.admin)
    )
    assert mine.json()["items"] == []
    missing = await registry.delete("/v1/calendar/2026-10-01", headers=auth(world.admin))
    assert missing.status_code == 404
    assert len(await _stored(db, other.region.id)) == len(NATIONAL_DAY)


async def test_the_default_range_is_the_current_year_and_pages_are_stable(registry, db):
    world = await make_world(db)
    year = dt.datetime.now(ZoneInfo("Asia/Shanghai")).year  # the region's time zone
    days = [
        {"date": (dt.date(year, 1, 1) + dt.timedelta(days=i)).isoformat(), "kind": "holiday"}
        for i in range(7)
    ]
    days.append({"date": f"{year - 1}-12-31", "kind": "holiday"})
    await registry.post("/v1/calendar/bulk", json={"days": days}, headers=auth(world.admin))
    pages = await all_pages(registry, "/v1/calendar", headers=auth(world.admin), limit=3)
    assert [d["date"] for d in pages] == [d["date"] for d in days[:7]]
