"""Point types: CRUD by admins, reads by everyone in the region, delta sync with tombstones."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from sqlalchemy import select

from shared.models import PointType
from tests.factories import (
    auth,
    categories_of,
    make_person,
    make_region,
    make_world,
)
from tests.paging import all_pages


async def _create(registry, world, **overrides):
    body = {
        "code": f"RESTAURANT-{uuid.uuid4().hex[:6]}",
        "name": "小餐饮",
        "category_id": str(world.point_type.category_id),
        **overrides,
    }
    return await registry.post("/v1/point-types", json=body, headers=auth(world.admin))


async def test_admin_creates_a_point_type_with_defaults(registry, db):
    world = await make_world(db)
    response = await _create(registry, world, pass_mark=85)
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["visit_every_days"] == 7
    assert body["pass_mark"] == 85
    assert body["current_checklist_version"] is None
    assert body["deadline_policy"] is None
    assert body["version"] == 1 and body["deleted"] is False
    assert response.headers["ETag"] == '"1"'
    fetched = await registry.get(f"/v1/point-types/{body['id']}", headers=auth(world.inspector))
    assert fetched.status_code == 200
    assert fetched.json()["code"] == body["code"]


async def test_point_type_with_deadline_policy_override(registry, db):
    world = await make_world(db)
    response = await _create(
        registry, world, deadline_policy={"urgent": {"amount": 12, "unit": "hours"}}
    )
    assert response.status_code == 201, response.text
    assert response.json()["deadline_policy"] == {"urgent": {"amount": 12, "unit": "hours"}}


async def test_bad_point_type_bodies_are_refused_and_nothing_is_created(registry, db):
    world = await make_world(db)
    cases = [
        {"colour": "red"},
        {"pass_mark": "high"},
        {"pass_mark": 120},
        {"visit_every_days": 0},
        {"deadline_policy": {"urgent": {"amount": 0, "unit": "hours"}}},
        {"deadline_policy": {"someday": {"amount": 1, "unit": "hours"}}},
        {"deadline_policy": {"normal": {"amount": 1, "unit": "weeks"}}},
        {"code": ""},
    ]
    for overrides in cases:
        response = await _create(registry, world, **{"code": "BAD", **overrides})
        assert response.status_code == 422, (overrides, response.text)
        assert response.headers["content-type"].startswith("application/problem+json")
        assert response.json()["errors"]
    other_region = await make_region(db)
    foreign = (await categories_of(db, other_region))["C1"]
    response = await _create(registry, world, code="BAD", category_id=str(foreign.id))
    assert response.status_code == 422
    assert response.json()["errors"][0]["loc"] == ["body", "category_id"]
    response = await _create(registry, world, code="BAD", category_id=None)
    assert response.status_code == 422
    count = await db.scalar(
        select(PointType.id).where(PointType.region_id == world.region.id, PointType.code == "BAD")
    )
    assert count is None


async def test_duplicate_code_is_a_conflict(registry, db):
    world = await make_world(db)
    response = await _create(registry, world, code=world.point_type.code)
    assert response.status_code == 409


async def test_only_admins_write_point_types(registry, db):
    world = await make_world(db)
    for person in (world.inspector, world.leader, world.unit_user):
        response = await registry.post(
            "/v1/point-types",
            json={"code": "NOPE", "name": "x", "category_id": str(world.point_type.category_id)},
            headers=auth(person),
        )
        assert response.status_code == 403
        response = await registry.patch(
            f"/v1/point-types/{world.point_type.id}", json={"name": "x"}, headers=auth(person)
        )
        assert response.status_code == 403
        response = await registry.delete(
            f"/v1/point-types/{world.point_type.id}", headers=auth(person)
        )
        assert response.status_code == 403
    assert (await registry.get("/v1/point-types")).status_code == 401
    bad = {"Authorization": "Bearer not-a-jwt"}
    assert (await registry.get("/v1/point-types", headers=bad)).status_code == 401


async def test_everyone_in_the_region_reads_types_but_other_regions_see_nothing(registry, db):
    world = await make_world(db)
    for person in (world.inspector, world.leader, world.unit_user, world.admin):
        response = await registry.get("/v1/point-types", headers=auth(person))
        assert response.status_code == 200
        assert [t["id"] for t in response.json()["items"]] == [str(world.point_type.id)]
    stranger_region = await make_region(db)
    stranger = await make_person(db, region=stranger_region, role="admin")
    response = await registry.get(f"/v1/point-types/{world.point_type.id}", headers=auth(stranger))
    assert response.status_code == 404
    assert world.point_type.name not in response.text
    response = await registry.patch(
        f"/v1/point-types/{world.point_type.id}", json={"name": "x"}, headers=auth(stranger)
    )
    assert response.status_code == 404
    listed = await registry.get("/v1/point-types", headers=auth(stranger))
    assert str(world.point_type.id) not in listed.text


async def test_patch_with_if_match_and_stale_version(registry, db):
    world = await make_world(db)
    url = f"/v1/point-types/{world.point_type.id}"
    response = await registry.patch(
        url,
        json={
            "visit_every_days": 3,
            "deadline_policy": {"normal": {"amount": 2, "unit": "workdays"}},
        },
        headers={**auth(world.admin), "If-Match": '"1"'},
    )
    assert response.status_code == 200, response.text
    assert response.json()["visit_every_days"] == 3
    assert response.json()["version"] == 2
    assert response.json()["current_checklist_version"] == 1
    assert response.headers["ETag"] == '"2"'
    stale = await registry.patch(
        url, json={"visit_every_days": 9}, headers={**auth(world.admin), "If-Match": '"1"'}
    )
    assert stale.status_code == 412
    assert (await registry.get(url, headers=auth(world.admin))).json()["visit_every_days"] == 3
    for bad in ({"name": None}, {"pass_mark": -1}, {"unknown": 1}):
        response = await registry.patch(url, json=bad, headers=auth(world.admin))
        assert response.status_code == 422, bad
    response = await registry.patch(url, json={"deadline_policy": None}, headers=auth(world.admin))
    assert response.json()["deadline_policy"] is None


async def test_delete_is_refused_while_points_use_the_type(registry, db):
    world = await make_world(db)
    response = await registry.delete(
        f"/v1/point-types/{world.point_type.id}", headers=auth(world.admin)
    )
    assert response.status_code == 409
    assert (
        await registry.get(f"/v1/point-types/{world.point_type.id}", headers=auth(world.admin))
    ).status_code == 200


async def test_delta_sync_lists_changes_and_tombstones(registry, db):
    world = await make_world(db)
    before = datetime.now(UTC)
    created = (await _create(registry, world, code="TOMB")).json()
    kept = (await _create(registry, world, code="KEPT")).json()
    deleted = await registry.delete(
        f"/v1/point-types/{created['id']}", headers={**auth(world.admin), "If-Match": '"1"'}
    )
    assert deleted.status_code == 204
    assert (
        await registry.get(f"/v1/point-types/{created['id']}", headers=auth(world.admin))
    ).status_code == 404
    plain = await registry.get("/v1/point-types", headers=auth(world.inspector))
    assert created["id"] not in plain.text
    pages = await all_pages(
        registry,
        "/v1/point-types",
        headers=auth(world.inspector),
        params={"updated_since": before.isoformat()},
        limit=1,
    )
    by_id = {item["id"]: item for item in pages}
    assert by_id[created["id"]]["deleted"] is True
    assert by_id[kept["id"]]["deleted"] is False
    assert str(world.point_type.id) not in by_id  # made before `before`
    stamps = [item["updated_at"] for item in pages]
    assert stamps == sorted(stamps)


async def test_list_is_paged_by_code(registry, db):
    world = await make_world(db)
    for code in ("B", "A", "C"):
        assert (await _create(registry, world, code=code)).status_code == 201
    pages = await all_pages(registry, "/v1/point-types", headers=auth(world.admin), limit=2)
    assert [item["code"] for item in pages] == sorted(["A", "B", "C", world.point_type.code])
    bad = await registry.get("/v1/point-types", params={"cursor": "!!"}, headers=auth(world.admin))
    assert bad.status_code == 400
