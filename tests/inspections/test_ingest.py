"""Inspection ingest: scoring, flags, idempotency, cases opened at once, scope and listing."""

from __future__ import annotations

import asyncio
import time
import uuid
from datetime import UTC, datetime, timedelta, timezone

import httpx
from sqlalchemy import func, select

from inspections.ingest.registry import ContextCache
from shared.http_client import ServiceClient
from shared.models import Case, CaseEvent, Inspection, InspectionResult
from tests.factories import (
    auth,
    count_rows,
    inspection_body,
    jpeg_bytes,
    make_sample_point,
    make_world,
    upload_photo,
)


def _results(**by_code):
    return [{"item_code": code, **fields} for code, fields in by_code.items()]


async def test_a_valid_inspection_is_scored_and_stored(inspections, db):
    world = await make_world(db)
    body = inspection_body(
        world,
        results=_results(
            **{
                "M-01": {"outcome": "pass", "grade": 8},
                "M-02": {"outcome": "fail", "deduction": 2.5, "note": "摊外经营"},
                "M-03": {"outcome": "na"},
                "M-04": {"outcome": "pass", "grade": 9},
            }
        ),
    )
    response = await inspections.post("/v1/inspections", json=body, headers=auth(world.inspector))
    assert response.status_code == 201, response.text
    stored = response.json()
    assert response.headers["location"] == f"/v1/inspections/{body['id']}"
    # 8 + 7.5 + 18 of 10 + 10 + 20 (M-03 is na and leaves the maximum)
    assert stored["max_points"] == 40
    assert stored["earned_points"] == 33.5
    assert stored["score"] == 83.75
    assert stored["passed"] is True
    assert stored["vetoed_items"] == []
    assert stored["validation"] == "valid"
    assert stored["inspector_id"] == str(world.inspector.id)
    assert stored["unit_id"] == str(world.unit.id)
    assert stored["division_id"] == str(world.grid.id)
    assert stored["point_type_id"] == str(world.point_type.id)
    assert stored["off_site"] is False
    assert stored["distance_m"] == 0
    earned = {r["item_code"]: (r["points"], r["earned"]) for r in stored["results"]}
    assert earned == {"M-01": (10, 8), "M-02": (10, 7.5), "M-03": (10, None), "M-04": (20, 18)}

    got = await inspections.get(f"/v1/inspections/{body['id']}", headers=auth(world.leader))
    assert got.status_code == 200
    assert got.json() == stored
    assert await count_rows(db, InspectionResult, inspection_id=uuid.UUID(body["id"])) == 4


async def test_pass_and_fail_without_grade_give_full_and_zero_points(inspections, db):
    world = await make_world(db)
    body = inspection_body(
        world,
        results=_results(
            **{
                "M-01": {"outcome": "pass"},
                "M-02": {"outcome": "fail"},
                "M-03": {"outcome": "pass", "grade": 7},
                "M-04": {"outcome": "pass", "deduction": 0},
            }
        ),
    )
    response = await inspections.post("/v1/inspections", json=body, headers=auth(world.inspector))
    assert response.status_code == 201, response.text
    stored = response.json()
    assert stored["earned_points"] == 10 + 0 + 7 + 20
    assert stored["score"] == 74.0
    assert stored["passed"] is False  # below the type's pass mark of 80


async def test_a_veto_item_below_its_share_fails_a_high_score(inspections, db):
    world = await make_world(db)
    body = inspection_body(
        world,
        results=_results(
            **{
                "M-01": {"outcome": "pass", "grade": 10},
                "M-02": {"outcome": "pass", "grade": 10},
                "M-03": {"outcome": "pass", "grade": 10},
                "M-04": {"outcome": "fail", "grade": 6},  # 12 of 20 < 70 %
            }
        ),
    )
    response = await inspections.post("/v1/inspections", json=body, headers=auth(world.inspector))
    stored = response.json()
    assert stored["score"] == 84.0
    assert stored["passed"] is False
    assert stored["vetoed_items"] == ["M-04"]

    # Exactly at the share is not below it.
    at_share = inspection_body(
        world,
        results=_results(
            **{
                "M-01": {"outcome": "pass", "grade": 10},
                "M-02": {"outcome": "pass", "grade": 10},
                "M-03": {"outcome": "pass", "grade": 10},
                "M-04": {"outcome": "pass", "deduction": 6},  # 14 of 20 = 70 %
            }
        ),
    )
    ok = await inspections.post("/v1/inspections", json=at_share, headers=auth(world.inspector))
    assert ok.json()["vetoed_items"] == []
    assert ok.json()["passed"] is True


async def test_all_items_na_has_no_score(inspections, db):
    world = await make_world(db)
    body = inspection_body(
        world, results=[{"item_code": i["code"], "outcome": "na"} for i in world.checklist.items]
    )
    response = await inspections.post("/v1/inspections", json=body, headers=auth(world.inspector))
    assert response.status_code == 201
    assert (response.json()["score"], response.json()["passed"]) == (None, None)


async def test_far_from_the_point_is_accepted_but_off_site(inspections, db):
    world = await make_world(db)
    near = inspection_body(
        world, location={"lat": world.point.lat + 0.0018, "lon": world.point.lon}
    )  # ~200 m north
    far = inspection_body(
        world, location={"lat": world.point.lat + 0.0036, "lon": world.point.lon}
    )  # ~400 m north
    unknown = inspection_body(world, location=None)

    near_r = await inspections.post("/v1/inspections", json=near, headers=auth(world.inspector))
    far_r = await inspections.post("/v1/inspections", json=far, headers=auth(world.inspector))
    none_r = await inspections.post("/v1/inspections", json=unknown, headers=auth(world.inspector))

    assert near_r.json()["off_site"] is False
    assert 190 < near_r.json()["distance_m"] < 210
    assert far_r.status_code == 201
    assert far_r.json()["off_site"] is True
    assert 390 < far_r.json()["distance_m"] < 410
    assert none_r.json()["off_site"] is True
    assert none_r.json()["distance_m"] is None
    listed = await inspections.get(
        "/v1/inspections",
        params={"sample_point": str(world.point.id), "off_site": "true"},
        headers=auth(world.admin),
    )
    assert {i["id"] for i in listed.json()["items"]} == {far["id"], unknown["id"]}


async def test_photo_bytes_reused_by_another_inspection_are_suspect(inspections, db):
    world = await make_world(db)
    data = jpeg_bytes(seed=101)
    first_photo = await upload_photo(inspections, world.inspector, data)
    second_photo = await upload_photo(inspections, world.inspector, data)  # same bytes, new id
    fresh_photo = await upload_photo(inspections, world.inspector, jpeg_bytes(seed=102))

    def with_photo(photo_id):
        body = inspection_body(world)
        body["results"][0]["photo_ids"] = [str(photo_id)]
        return body

    first = await inspections.post(
        "/v1/inspections", json=with_photo(first_photo), headers=auth(world.inspector)
    )
    assert first.json()["suspect_photos"] is False
    reused = await inspections.post(
        "/v1/inspections", json=with_photo(second_photo), headers=auth(world.inspector)
    )
    assert reused.status_code == 201
    assert reused.json()["suspect_photos"] is True
    again_same_id = await inspections.post(
        "/v1/inspections", json=with_photo(first_photo), headers=auth(world.inspector)
    )
    assert again_same_id.json()["suspect_photos"] is True
    fresh = await inspections.post(
        "/v1/inspections", json=with_photo(fresh_photo), headers=auth(world.inspector)
    )
    assert fresh.json()["suspect_photos"] is False


async def test_a_photo_taken_over_a_day_before_or_after_the_visit_is_suspect(inspections, db):
    world = await make_world(db)
    now_local = datetime.now(UTC) + timedelta(hours=8)  # Asia/Shanghai wall clock
    old = (now_local - timedelta(days=3)).strftime("%Y:%m:%d %H:%M:%S")
    recent = (now_local - timedelta(minutes=10)).strftime("%Y:%m:%d %H:%M:%S")
    old_photo = await upload_photo(inspections, world.inspector, jpeg_bytes(taken_at=old, seed=103))
    recent_photo = await upload_photo(
        inspections, world.inspector, jpeg_bytes(taken_at=recent, seed=104)
    )

    stale = inspection_body(world)
    stale["results"][1]["photo_ids"] = [str(old_photo)]
    current = inspection_body(world)
    current["results"][1]["photo_ids"] = [str(recent_photo)]

    stale_r = await inspections.post("/v1/inspections", json=stale, headers=auth(world.inspector))
    current_r = await inspections.post(
        "/v1/inspections", json=current, headers=auth(world.inspector)
    )
    assert stale_r.status_code == 201
    assert stale_r.json()["suspect_photos"] is True
    assert current_r.json()["suspect_photos"] is False

    # A visit recorded three days ago whose photo was taken ten minutes ago: taken after.
    three_days_ago = datetime.now(UTC) - timedelta(days=3)
    late = inspection_body(
        world,
        started_at=(three_days_ago - timedelta(minutes=20)).isoformat(),
        finished_at=three_days_ago.isoformat(),
    )
    unused_recent_photo = await upload_photo(
        inspections, world.inspector, jpeg_bytes(taken_at=recent, seed=105)
    )
    late["results"][1]["photo_ids"] = [str(unused_recent_photo)]
    late_r = await inspections.post("/v1/inspections", json=late, headers=auth(world.inspector))
    assert late_r.status_code == 201
    assert late_r.json()["suspect_photos"] is True


async def test_the_same_body_again_is_200_another_body_409(inspections, db):
    world = await make_world(db)
    body = inspection_body(world)
    first = await inspections.post("/v1/inspections", json=body, headers=auth(world.inspector))
    assert first.status_code == 201

    # The same visit with its times written in another offset is the same body.
    shifted = dict(body)
    shifted["finished_at"] = (
        datetime.fromisoformat(body["finished_at"])
        .astimezone(timezone(timedelta(hours=8)))
        .isoformat()
    )
    again = await inspections.post("/v1/inspections", json=shifted, headers=auth(world.inspector))
    assert again.status_code == 200
    assert again.json() == first.json()

    changed = {**body, "results": [{**body["results"][0], "grade": 3}, *body["results"][1:]]}
    conflict = await inspections.post(
        "/v1/inspections", json=changed, headers=auth(world.inspector)
    )
    assert conflict.status_code == 409
    assert conflict.headers["content-type"].startswith("application/problem+json")

    # Someone else replaying the id never gets the other person's record.
    other = await inspections.post("/v1/inspections", json=body, headers=auth(world.admin))
    assert other.status_code == 409
    assert await count_rows(db, Inspection, id=uuid.UUID(body["id"])) == 1


async def test_fifty_concurrent_replays_leave_exactly_one_record(inspections, db):
    world = await make_world(db)
    body = inspection_body(
        world,
        cases=[
            {
                "id": str(uuid.uuid4()),
                "item_code": "M-02",
                "description": "摊外经营",
                "severity": "normal",
            }
        ],
    )
    responses = await asyncio.gather(
        *[
            inspections.post("/v1/inspections", json=body, headers=auth(world.inspector))
            for _ in range(50)
        ]
    )
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [200] * 49 + [201], statuses
    assert len({r.json()["id"] for r in responses}) == 1
    inspection_id = uuid.UUID(body["id"])
    assert await count_rows(db, Inspection, id=inspection_id) == 1
    assert await count_rows(db, InspectionResult, inspection_id=inspection_id) == 4
    assert await count_rows(db, Case, inspection_id=inspection_id) == 1


async def test_each_case_is_opened_at_once_for_the_points_unit(inspections, db):
    world = await make_world(db)
    photo = await upload_photo(inspections, world.inspector)
    case_ids = [str(uuid.uuid4()), str(uuid.uuid4())]
    body = inspection_body(
        world,
        cases=[
            {
                "id": case_ids[0],
                "item_code": "M-03",
                "description": "防蝇设施破损",
                "severity": "urgent",
                "photo_ids": [str(photo)],
                "location": {"lat": 28.4401, "lon": 118.2001},
            },
            {"id": case_ids[1], "description": "垃圾桶无盖", "severity": "normal"},
        ],
    )
    response = await inspections.post("/v1/inspections", json=body, headers=auth(world.inspector))
    assert response.status_code == 201, response.text
    assert sorted(response.json()["case_ids"]) == sorted(case_ids)

    cases = {
        str(c.id): c
        for c in await db.scalars(select(Case).where(Case.region_id == world.region.id))
    }
    urgent, normal = cases[case_ids[0]], cases[case_ids[1]]
    for case in (urgent, normal):
        assert case.status == "assigned"
        assert case.unit_id == world.unit.id
        assert case.inspection_id == uuid.UUID(body["id"])
        assert case.sample_point_id == world.point.id
        assert case.source == "woodpecker"
        assert case.reporter_id == world.inspector.id
        assert case.division_id == world.grid.id
        assert case.point_type_id == world.point_type.id
        assert case.category_id == world.point_type.category_id
        assert case.due_at is not None
    assert urgent.due_at - urgent.dispatched_at == timedelta(hours=24)
    assert (urgent.lat, urgent.lon) == (28.4401, 118.2001)
    assert (normal.lat, normal.lon) == (world.point.lat, world.point.lon)
    assert urgent.photo_ids == [photo]
    events = await db.scalar(
        select(func.count()).select_from(CaseEvent).where(CaseEvent.case_id == urgent.id)
    )
    assert events == 2  # report + dispatch

    # The unit may now see the case's photo.
    got = await inspections.get(f"/v1/photos/{photo}", headers=auth(world.unit_user))
    assert got.status_code == 200


async def test_who_may_submit(inspections, db):
    world = await make_world(db)
    assert (
        await inspections.post("/v1/inspections", json=inspection_body(world))
    ).status_code == 401
    for person in (world.unit_user,):
        response = await inspections.post(
            "/v1/inspections", json=inspection_body(world), headers=auth(person)
        )
        assert response.status_code == 403
    admin = await inspections.post(
        "/v1/inspections", json=inspection_body(world, source="expert"), headers=auth(world.admin)
    )
    assert admin.status_code == 201
    leader_own = await inspections.post(
        "/v1/inspections", json=inspection_body(world, source="leader"), headers=auth(world.leader)
    )
    assert leader_own.status_code == 201
    assert leader_own.json()["inspector_id"] == str(world.leader.id)
    leader_other = await inspections.post(
        "/v1/inspections", json=inspection_body(world), headers=auth(world.leader)
    )
    assert leader_other.status_code == 403
    assert await count_rows(db, Inspection, region_id=world.region.id) == 2


async def test_scope_units_see_their_points_other_regions_see_nothing(inspections, db):
    world = await make_world(db)
    elsewhere = await make_world(db)
    other_point = await make_sample_point(
        db,
        region=world.region,
        point_type=world.point_type,
        division=world.grid,
        unit=world.other_unit,
    )
    mine = inspection_body(world)
    theirs = inspection_body(world, sample_point_id=str(other_point.id))
    theirs["location"] = {"lat": other_point.lat, "lon": other_point.lon}
    for body in (mine, theirs):
        r = await inspections.post("/v1/inspections", json=body, headers=auth(world.inspector))
        assert r.status_code == 201

    unit_list = await inspections.get("/v1/inspections", headers=auth(world.unit_user))
    assert [i["id"] for i in unit_list.json()["items"]] == [mine["id"]]
    assert (
        await inspections.get(f"/v1/inspections/{theirs['id']}", headers=auth(world.unit_user))
    ).status_code == 404
    assert (
        await inspections.get(f"/v1/inspections/{mine['id']}", headers=auth(world.unit_user))
    ).status_code == 200

    foreign = await inspections.get(f"/v1/inspections/{mine['id']}", headers=auth(elsewhere.admin))
    assert foreign.status_code == 404
    assert (
        mine["id"]
        not in (await inspections.get("/v1/inspections", headers=auth(elsewhere.admin))).text
    )
    assert (await inspections.get("/v1/inspections")).status_code == 401


async def test_list_filters_and_pages(inspections, db):
    world = await make_world(db)
    now = datetime.now(UTC)
    bodies = []
    for minutes in (50, 40, 30):
        body = inspection_body(
            world,
            started_at=(now - timedelta(minutes=minutes + 5)).isoformat(),
            finished_at=(now - timedelta(minutes=minutes)).isoformat(),
        )
        bodies.append(body)
    bodies[1]["results"][3] = {"item_code": "M-04", "outcome": "fail", "grade": 0}
    bodies[2]["epidemic"] = {"health_code_checked": True, "temperature_checked": False}
    bodies[2]["source"] = "supervision"
    for body in bodies:
        assert (
            await inspections.post("/v1/inspections", json=body, headers=auth(world.inspector))
        ).status_code == 201

    async def ids(**params):
        r = await inspections.get("/v1/inspections", params=params, headers=auth(world.admin))
        assert r.status_code == 200, r.text
        return [i["id"] for i in r.json()["items"]]

    point = str(world.point.id)
    assert await ids(sample_point=point) == [b["id"] for b in bodies]
    assert await ids(sample_point=point, passed="false") == [bodies[1]["id"]]
    assert await ids(sample_point=point, source="supervision") == [bodies[2]["id"]]
    assert await ids(sample_point=point, epidemic_incomplete="true") == [bodies[2]["id"]]
    assert await ids(sample_point=point, epidemic_incomplete="false") == [
        bodies[0]["id"],
        bodies[1]["id"],
    ]
    assert await ids(inspector=str(world.inspector.id), validation="valid") == [
        b["id"] for b in bodies
    ]
    cut = (now - timedelta(minutes=35)).isoformat()
    assert await ids(sample_point=point, **{"from": cut}) == [bodies[2]["id"]]
    assert await ids(sample_point=point, to=cut) == [bodies[0]["id"], bodies[1]["id"]]

    page1 = await inspections.get(
        "/v1/inspections", params={"sample_point": point, "limit": 2}, headers=auth(world.admin)
    )
    assert len(page1.json()["items"]) == 2
    page2 = await inspections.get(
        "/v1/inspections",
        params={"sample_point": point, "limit": 2, "cursor": page1.json()["next_cursor"]},
        headers=auth(world.admin),
    )
    assert [i["id"] for i in page2.json()["items"]] == [bodies[2]["id"]]
    assert page2.json()["next_cursor"] is None
    bad = await inspections.get("/v1/inspections", params={"limit": 501}, headers=auth(world.admin))
    assert bad.status_code == 422


class _CountingTransport(httpx.ASGITransport):
    """The in-process registry, counting the requests that reach it."""

    def __init__(self, app) -> None:
        super().__init__(app=app)
        self.requests = 0

    async def handle_async_request(self, request):
        self.requests += 1
        return await super().handle_async_request(request)


async def test_a_burst_for_one_point_asks_the_registry_once(
    inspections, inspections_app, registry_app, db
):
    world = await make_world(db)
    transport = _CountingTransport(registry_app)
    real = inspections_app.state.registry_client
    inspections_app.state.registry_client = ServiceClient(
        "http://registry",
        service_token=inspections_app.state.settings.service_token,
        transport=transport,
    )
    try:
        responses = await asyncio.gather(
            *[
                inspections.post(
                    "/v1/inspections", json=inspection_body(world), headers=auth(world.inspector)
                )
                for _ in range(20)
            ]
        )
    finally:
        await inspections_app.state.registry_client.aclose()
        inspections_app.state.registry_client = real
    assert {r.status_code for r in responses} == {201}
    assert transport.requests == 1


def test_the_context_cache_is_bounded_and_expires():
    cache = ContextCache(ttl=60, max_size=2)
    keys = [(uuid.uuid4(), uuid.uuid4(), 1) for _ in range(3)]
    for key in keys:
        cache.put(key, {"k": str(key)})
    assert cache.get(keys[0]) is None  # evicted, least recently used
    assert cache.get(keys[2]) == {"k": str(keys[2])}
    short = ContextCache(ttl=0.01, max_size=2)
    short.put(keys[0], {"k": 1})
    time.sleep(0.02)
    assert short.get(keys[0]) is None  # expired
    disabled = ContextCache(ttl=0, max_size=2)
    disabled.put(keys[0], {"k": 1})
    assert disabled.get(keys[0]) is None
