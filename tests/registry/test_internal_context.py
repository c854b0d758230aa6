"""The internal context endpoints the inspections service calls on every ingest."""

from __future__ import annotations

import uuid
from datetime import date, timedelta

from sqlalchemy import update

from shared.models import CalendarDay, DeadlinePolicy, PointType
from tests.factories import (
    DEFAULT_ITEMS,
    auth,
    make_chief,
    make_person,
    make_region,
    make_world,
    service_headers,
)

KEYS = {
    "region",
    "sample_point",
    "point_type",
    "category",
    "checklist",
    "current_checklist_version",
    "unit",
    "grid",
    "chiefs",
    "deadline_policy",
    "calendar",
}


def _url(point_id) -> str:
    return f"/v1/internal/sample-points/{point_id}/context"


async def test_context_has_exactly_the_agreed_shape(registry, db):
    world = await make_world(db)
    area_person = await make_person(db, region=world.region, role="leader")
    grid_person = await make_person(db, region=world.region, role="inspector")
    area_chief = await make_chief(
        db, region=world.region, person=area_person, kind="area", division=world.street
    )
    grid_chief = await make_chief(
        db, region=world.region, person=grid_person, kind="grid", division=world.grid
    )
    await make_chief(db, region=world.region, person=area_person, kind="road", road_name="东街")
    today = date.today()
    db.add_all(
        [
            CalendarDay(region_id=world.region.id, day=today + timedelta(days=3), kind="holiday"),
            CalendarDay(region_id=world.region.id, day=today + timedelta(days=1), kind="holiday"),
            CalendarDay(region_id=world.region.id, day=today + timedelta(days=9), kind="workday"),
            CalendarDay(region_id=world.region.id, day=today - timedelta(days=150), kind="holiday"),
            CalendarDay(region_id=world.region.id, day=today + timedelta(days=500), kind="holiday"),
        ]
    )
    await db.execute(
        update(DeadlinePolicy)
        .where(DeadlinePolicy.region_id == world.region.id, DeadlinePolicy.severity == "normal")
        .values(amount=5)
    )
    await db.execute(
        update(PointType)
        .where(PointType.region_id == world.region.id, PointType.id == world.point_type.id)
        .values(deadline_policy={"urgent": {"amount": 12, "unit": "hours"}})
    )
    await db.commit()

    response = await registry.get(_url(world.point.id), headers=service_headers(world.region.id))
    assert response.status_code == 200, response.text
    body = response.json()
    assert set(body) == KEYS
    assert body["region"] == {
        "id": str(world.region.id),
        "code": world.region.code,
        "name": world.region.name,
        "timezone": "Asia/Shanghai",
    }
    assert body["sample_point"] == {
        "id": str(world.point.id),
        "code": world.point.code,
        "name": world.point.name,
        "status": "active",
        "lat": world.point.lat,
        "lon": world.point.lon,
        "address": world.point.address,
        "point_type_id": str(world.point_type.id),
        "division_id": str(world.grid.id),
        "unit_id": str(world.unit.id),
    }
    assert body["point_type"] == {
        "id": str(world.point_type.id),
        "code": world.point_type.code,
        "name": world.point_type.name,
        "category_id": str(world.point_type.category_id),
        "pass_mark": 80.0,
        "visit_every_days": 7,
    }
    assert set(body["category"]) == {"id", "code", "name"}
    assert body["category"]["code"] == "C5"
    assert body["current_checklist_version"] == 1
    assert body["checklist"]["version"] == 1
    assert body["checklist"]["max_points"] == 50.0
    assert body["checklist"]["items"] == [
        {**item, "points": float(item["points"])} for item in DEFAULT_ITEMS
    ]
    assert body["unit"] == {
        "id": str(world.unit.id),
        "code": world.unit.code,
        "name": world.unit.name,
    }
    assert body["grid"] == {
        "id": str(world.grid.id),
        "code": world.grid.code,
        "name": world.grid.name,
        "level": "grid",
        "path": world.grid.path,
    }
    assert body["chiefs"] == [
        {
            "id": str(area_chief.id),
            "person_id": str(area_person.id),
            "kind": "area",
            "division_id": str(world.street.id),
            "road_name": None,
        },
        {
            "id": str(grid_chief.id),
            "person_id": str(grid_person.id),
            "kind": "grid",
            "division_id": str(world.grid.id),
            "road_name": None,
        },
    ]
    assert body["deadline_policy"] == {
        "urgent": {"amount": 12, "unit": "hours"},
        "normal": {"amount": 5, "unit": "workdays"},
        "complex": {"amount": 7, "unit": "workdays"},
    }
    # "Today" is the region's date; allow for the test crossing midnight in Asia/Shanghai.
    assert body["calendar"]["workdays"] == [(today + timedelta(days=9)).isoformat()]
    assert body["calendar"]["holidays"] == [
        (today + timedelta(days=1)).isoformat(),
        (today + timedelta(days=3)).isoformat(),
    ]


async def test_named_checklist_version_or_null(registry, db):
    world = await make_world(db)
    items = [{"code": "N-1", "text": "新细则", "points": 5, "tags": ["epidemic"]}]
    published = await registry.post(
        f"/v1/point-types/{world.point_type.id}/checklists",
        json={"items": items},
        headers=auth(world.admin),
    )
    assert published.status_code == 201
    headers = service_headers(world.region.id)
    current = (await registry.get(_url(world.point.id), headers=headers)).json()
    assert current["checklist"]["version"] == 2 and current["current_checklist_version"] == 2
    assert current["checklist"]["items"] == [{**items[0], "points": 5.0, "veto_below": None}]
    old = await registry.get(_url(world.point.id), params={"checklist_version": 1}, headers=headers)
    assert old.json()["checklist"]["version"] == 1
    assert old.json()["current_checklist_version"] == 2
    missing = await registry.get(
        _url(world.point.id), params={"checklist_version": 9}, headers=headers
    )
    assert missing.status_code == 200 and missing.json()["checklist"] is None


async def test_retired_points_are_returned_deleted_ones_are_not(registry, db):
    world = await make_world(db)
    url = f"/v1/sample-points/{world.point.id}"
    await registry.patch(url, json={"status": "retired"}, headers=auth(world.admin))
    headers = service_headers(world.region.id)
    retired = await registry.get(_url(world.point.id), headers=headers)
    assert retired.status_code == 200
    assert retired.json()["sample_point"]["status"] == "retired"
    await registry.delete(url, headers=auth(world.admin))
    gone = await registry.get(_url(world.point.id), headers=headers)
    assert gone.status_code == 404
    assert gone.headers["content-type"].startswith("application/problem+json")
    assert (await registry.get(_url(uuid.uuid4()), headers=headers)).status_code == 404


async def test_only_the_service_role_for_the_right_region(registry, db):
    world = await make_world(db)
    for person in (world.admin, world.leader, world.inspector, world.unit_user):
        response = await registry.get(_url(world.point.id), headers=auth(person))
        assert response.status_code == 403
        assert (
            await registry.get("/v1/internal/deadline-context", headers=auth(person))
        ).status_code == 403
    assert (await registry.get(_url(world.point.id))).status_code == 401
    no_region = {"Authorization": service_headers(world.region.id)["Authorization"]}
    assert (await registry.get(_url(world.point.id), headers=no_region)).status_code == 401
    other = await make_region(db)
    response = await registry.get(_url(world.point.id), headers=service_headers(other.id))
    assert response.status_code == 404 and world.point.code not in response.text
    bad = await registry.get(
        _url(world.point.id),
        params={"checklist_version": "x"},
        headers=service_headers(world.region.id),
    )
    assert bad.status_code == 422


async def test_deadline_context(registry, db):
    region = await make_region(db, timezone="Asia/Urumqi")
    db.add(CalendarDay(region_id=region.id, day=date.today() + timedelta(days=2), kind="workday"))
    await db.commit()
    response = await registry.get(
        "/v1/internal/deadline-context", headers=service_headers(region.id)
    )
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"region", "deadline_policy", "calendar"}
    assert body["region"]["timezone"] == "Asia/Urumqi"
    assert body["deadline_policy"] == {
        "urgent": {"amount": 24, "unit": "hours"},
        "normal": {"amount": 3, "unit": "workdays"},
        "complex": {"amount": 7, "unit": "workdays"},
    }
    assert body["calendar"] == {
        "holidays": [],
        "workdays": [(date.today() + timedelta(days=2)).isoformat()],
    }
    unknown = await registry.get(
        "/v1/internal/deadline-context", headers=service_headers(uuid.uuid4())
    )
    assert unknown.status_code == 404
