"""Checklists: versioned, immutable, published by admins, synced by phones across types."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import func, select

from shared.models import Checklist
from tests.factories import auth, make_person, make_region, make_world

ITEMS = [
    {"code": "R-01", "text": "证照齐全", "points": 10, "tags": []},
    {"code": "R-02", "text": "三防设施", "points": 15.5, "veto_below": 0.6, "tags": ["epidemic"]},
]


def _url(world, suffix: str = "") -> str:
    return f"/v1/point-types/{world.point_type.id}/checklists{suffix}"


async def test_publishing_adds_the_next_version_and_keeps_the_old_one(registry, db):
    world = await make_world(db)
    response = await registry.post(_url(world), json={"items": ITEMS}, headers=auth(world.admin))
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["version"] == 2
    assert body["max_points"] == 25.5
    assert body["items"][1] == {
        "code": "R-02",
        "text": "三防设施",
        "points": 15.5,
        "veto_below": 0.6,
        "tags": ["epidemic"],
    }
    assert body["items"][0]["veto_below"] is None
    old = await registry.get(_url(world, "/1"), headers=auth(world.inspector))
    assert old.status_code == 200
    assert [i["code"] for i in old.json()["items"]] == ["M-01", "M-02", "M-03", "M-04"]
    assert old.json()["max_points"] == 50
    listed = await registry.get(_url(world), headers=auth(world.unit_user))
    assert [c["version"] for c in listed.json()["items"]] == [1, 2]
    point_type = await registry.get(
        f"/v1/point-types/{world.point_type.id}", headers=auth(world.leader)
    )
    assert point_type.json()["current_checklist_version"] == 2
    assert point_type.json()["version"] == 2  # publishing touches the type for delta sync


async def test_versions_are_immutable(registry, db):
    world = await make_world(db)
    response = await registry.patch(
        _url(world, "/1"), json={"items": ITEMS}, headers=auth(world.admin)
    )
    assert response.status_code == 405
    response = await registry.put(
        _url(world, "/1"), json={"items": ITEMS}, headers=auth(world.admin)
    )
    assert response.status_code == 405


async def test_bad_checklists_are_refused_and_no_version_is_added(registry, db):
    world = await make_world(db)
    bad_bodies = [
        {"items": []},
        {},
        {"items": ITEMS, "note": "typo"},
        {"items": [{**ITEMS[0], "points": 0}]},
        {"items": [{**ITEMS[0], "points": "ten"}]},
        {"items": [{**ITEMS[0], "veto_below": 1.5}]},
        {"items": [{**ITEMS[0], "colour": "red"}]},
        {"items": [ITEMS[0], {**ITEMS[1], "code": "R-01"}]},
        {"items": [{"code": "R-01", "points": 5}]},
        {"items": [{**ITEMS[0], "tags": "epidemic"}]},
    ]
    for body in bad_bodies:
        response = await registry.post(_url(world), json=body, headers=auth(world.admin))
        assert response.status_code == 422, (body, response.text)
        assert response.json()["errors"], body
    versions = await db.scalar(
        select(func.count()).where(
            Checklist.region_id == world.region.id, Checklist.point_type_id == world.point_type.id
        )
    )
    assert versions == 1


async def test_only_admins_publish(registry, db):
    world = await make_world(db)
    for person in (world.inspector, world.leader, world.unit_user):
        response = await registry.post(_url(world), json={"items": ITEMS}, headers=auth(person))
        assert response.status_code == 403
    assert (await registry.post(_url(world), json={"items": ITEMS})).status_code == 401


async def test_other_regions_cannot_see_or_publish(registry, db):
    world = await make_world(db)
    stranger = await make_person(db, region=await make_region(db), role="admin")
    assert (await registry.get(_url(world), headers=auth(stranger))).status_code == 404
    assert (await registry.get(_url(world, "/1"), headers=auth(stranger))).status_code == 404
    response = await registry.post(_url(world), json={"items": ITEMS}, headers=auth(stranger))
    assert response.status_code == 404
    listed = await registry.get("/v1/checklists", headers=auth(stranger))
    assert str(world.checklist.id) not in listed.text


async def test_unknown_version_is_404(registry, db):
    world = await make_world(db)
    assert (await registry.get(_url(world, "/7"), headers=auth(world.admin))).status_code == 404
    assert (await registry.get(_url(world, "/0"), headers=auth(world.admin))).status_code == 422


async def test_delta_sync_across_types(registry, db):
    world = await make_world(db)
    since = datetime.now(UTC)
    published = await registry.post(_url(world), json={"items": ITEMS}, headers=auth(world.admin))
    assert published.status_code == 201
    everything = await registry.get("/v1/checklists", headers=auth(world.inspector))
    assert [c["version"] for c in everything.json()["items"]] == [1, 2]
    changed = await registry.get(
        "/v1/checklists", params={"updated_since": since.isoformat()}, headers=auth(world.inspector)
    )
    assert [c["id"] for c in changed.json()["items"]] == [published.json()["id"]]
    paged = await registry.get("/v1/checklists", params={"limit": 1}, headers=auth(world.admin))
    assert len(paged.json()["items"]) == 1 and paged.json()["next_cursor"]
    second = await registry.get(
        "/v1/checklists",
        params={"limit": 1, "cursor": paged.json()["next_cursor"]},
        headers=auth(world.admin),
    )
    assert second.json()["items"][0]["version"] == 2
    assert second.json()["next_cursor"] is None
