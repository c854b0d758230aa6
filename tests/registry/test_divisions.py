"""Divisions: the street → community → grid tree, its moves, deletes and delta sync."""

from __future__ import annotations

import uuid

from sqlalchemy import select

from shared.models import Division
from tests.factories import auth, make_division, make_person, make_region, make_world
from tests.paging import all_pages


async def _division(db, division_id):
    """The stored row, read past the session's identity map (the factories' objects stay as made)."""
    table = Division.__table__
    return (await db.execute(select(table).where(table.c.id == division_id))).one()


async def test_admin_builds_a_tree_and_everyone_in_the_region_reads_it(registry, db):
    world = await make_world(db)
    street = await registry.post(
        "/v1/divisions",
        json={"level": "street", "code": "S-NEW", "name": "新街道"},
        headers=auth(world.admin),
    )
    assert street.status_code == 201, street.text
    body = street.json()
    assert body["level"] == "street" and body["parent_id"] is None and body["deleted"] is False
    assert street.headers["etag"] == f'"{body["version"]}"'
    community = await registry.post(
        "/v1/divisions",
        json={"parent_id": body["id"], "level": "community", "code": "C-NEW", "name": "新社区"},
        headers=auth(world.admin),
    )
    assert community.status_code == 201, community.text
    stored = await _division(db, uuid.UUID(community.json()["id"]))
    assert stored.path == f"/{body['id']}/{stored.id}/"

    for person in (world.inspector, world.leader, world.unit_user):
        children = await registry.get(
            "/v1/divisions", params={"parent": body["id"]}, headers=auth(person)
        )
        assert children.status_code == 200
        assert [d["code"] for d in children.json()["items"]] == ["C-NEW"]
    grids = await registry.get(
        "/v1/divisions", params={"level": "grid"}, headers=auth(world.inspector)
    )
    assert [d["id"] for d in grids.json()["items"]] == [str(world.grid.id)]


async def test_levels_must_nest_street_community_grid(registry, db):
    world = await make_world(db)
    bad = [
        ({"level": "street", "parent_id": str(world.street.id)}, "parent_id"),
        ({"level": "community"}, "parent_id"),
        ({"level": "community", "parent_id": str(world.community.id)}, "parent_id"),
        ({"level": "grid", "parent_id": str(world.street.id)}, "parent_id"),
        ({"level": "grid", "parent_id": str(uuid.uuid4())}, "parent_id"),
        ({"level": "town", "parent_id": str(world.street.id)}, "level"),
    ]
    for fields, loc in bad:
        response = await registry.post(
            "/v1/divisions",
            json={"code": "X-1", "name": "x", **fields},
            headers=auth(world.admin),
        )
        assert response.status_code == 422, (fields, response.text)
        assert response.headers["content-type"].startswith("application/problem+json")
        assert any(loc in e["loc"] for e in response.json()["errors"]), response.json()
    count = await db.scalar(
        select(Division.id).where(Division.region_id == world.region.id, Division.code == "X-1")
    )
    assert count is None


async def test_bad_bodies_are_422_and_duplicate_codes_409(registry, db):
    world = await make_world(db)
    cases = [
        {"level": "street", "code": "S-9", "name": "x", "colour": "red"},
        {"level": "street", "code": "", "name": "x"},
        {"level": "street", "code": "S-9", "name": 5},
        {"level": "street", "name": "x"},
        {"level": "street", "code": "S-9", "name": "x", "parent_id": "not-a-uuid"},
    ]
    for body in cases:
        response = await registry.post("/v1/divisions", json=body, headers=auth(world.admin))
        assert response.status_code == 422, (body, response.text)
    unknown = await registry.post("/v1/divisions", json=cases[0], headers=auth(world.admin))
    assert unknown.json()["errors"][0]["loc"] == ["body", "colour"]
    duplicate = await registry.post(
        "/v1/divisions",
        json={"level": "street", "code": world.street.code, "name": "again"},
        headers=auth(world.admin),
    )
    assert duplicate.status_code == 409
    listed = await registry.get(
        "/v1/divisions", params={"level": "street"}, headers=auth(world.admin)
    )
    assert [d["code"] for d in listed.json()["items"]] == [world.street.code]


async def test_only_admins_write(registry, db):
    world = await make_world(db)
    for person in (world.inspector, world.leader, world.unit_user):
        created = await registry.post(
            "/v1/divisions",
            json={"level": "street", "code": "S-X", "name": "x"},
            headers=auth(person),
        )
        assert created.status_code == 403
        patched = await registry.patch(
            f"/v1/divisions/{world.street.id}", json={"name": "hacked"}, headers=auth(person)
        )
        assert patched.status_code == 403
        deleted = await registry.delete(f"/v1/divisions/{world.grid.id}", headers=auth(person))
        assert deleted.status_code == 403
    assert (await _division(db, world.street.id)).name == world.street.name
    assert (await registry.get("/v1/divisions")).status_code == 401


async def test_another_regions_divisions_are_invisible_even_by_id(registry, db):
    world = await make_world(db)
    other = await make_world(db)
    listed = await registry.get("/v1/divisions", headers=auth(world.admin))
    ids = {d["id"] for d in listed.json()["items"]}
    assert ids == {str(world.street.id), str(world.community.id), str(world.grid.id)}
    path = f"/v1/divisions/{other.street.id}"
    assert (await registry.get(path, headers=auth(world.admin))).status_code == 404
    patched = await registry.patch(path, json={"name": "mine"}, headers=auth(world.admin))
    assert patched.status_code == 404
    assert (await registry.delete(path, headers=auth(world.admin))).status_code == 404
    # A parent from another region is as unknown as a made-up id.
    adopted = await registry.post(
        "/v1/divisions",
        json={"level": "community", "code": "C-Z", "name": "z", "parent_id": str(other.street.id)},
        headers=auth(world.admin),
    )
    assert adopted.status_code == 422
    assert (await _division(db, other.street.id)).name == other.street.name


async def test_moving_a_community_carries_its_grids_along(registry, db):
    world = await make_world(db)
    second_grid = await make_division(db, region=world.region, level="grid", parent=world.community)
    new_street = await make_division(db, region=world.region, level="street")
    response = await registry.patch(
        f"/v1/divisions/{world.community.id}",
        json={"parent_id": str(new_street.id)},
        headers={**auth(world.admin), "If-Match": f'"{world.community.version}"'},
    )
    assert response.status_code == 200, response.text
    assert response.json()["parent_id"] == str(new_street.id)
    assert response.json()["version"] == world.community.version + 1
    community = await _division(db, world.community.id)
    assert community.path == f"/{new_street.id}/{world.community.id}/"
    for grid in (world.grid, second_grid):
        stored = await _division(db, grid.id)
        assert stored.path == f"{community.path}{grid.id}/"
    # The old street no longer has the community below it.
    under_old = await db.scalars(
        select(Division.id).where(
            Division.region_id == world.region.id,
            Division.path.startswith(world.street.path),
            Division.id != world.street.id,
        )
    )
    assert list(under_old) == []


async def test_moves_that_would_make_a_cycle_or_break_levels_are_refused(registry, db):
    world = await make_world(db)
    other_community = await make_division(
        db, region=world.region, level="community", parent=world.street
    )
    for parent, msg in (
        (world.grid.id, "cycle"),
        (world.community.id, "cycle"),
        (world.street.id, None),  # grid directly under a street
    ):
        target = world.grid if msg is None else world.community
        response = await registry.patch(
            f"/v1/divisions/{target.id}",
            json={"parent_id": str(parent)},
            headers=auth(world.admin),
        )
        assert response.status_code == 422, response.text
        if msg:
            assert msg in response.json()["errors"][0]["msg"]
    street_to_grid = await registry.patch(
        f"/v1/divisions/{world.street.id}",
        json={"level": "grid"},
        headers=auth(world.admin),
    )
    assert street_to_grid.status_code == 422
    null_name = await registry.patch(
        f"/v1/divisions/{world.street.id}", json={"name": None}, headers=auth(world.admin)
    )
    assert null_name.status_code == 422
    for division in (world.street, world.community, world.grid, other_community):
        stored = await _division(db, division.id)
        assert (stored.path, stored.version, stored.level, stored.name) == (
            division.path,
            division.version,
            division.level,
            division.name,
        )
    moved = await registry.patch(
        f"/v1/divisions/{world.grid.id}",
        json={"parent_id": str(other_community.id)},
        headers=auth(world.admin),
    )
    assert moved.status_code == 200
    assert (await _division(db, world.grid.id)).path == f"{other_community.path}{world.grid.id}/"


async def test_stale_if_match_is_412_and_changes_nothing(registry, db):
    world = await make_world(db)
    response = await registry.patch(
        f"/v1/divisions/{world.street.id}",
        json={"name": "改名"},
        headers={**auth(world.admin), "If-Match": '"99"'},
    )
    assert response.status_code == 412
    assert (await _division(db, world.street.id)).name == world.street.name
    deleted = await registry.delete(
        f"/v1/divisions/{world.grid.id}", headers={**auth(world.admin), "If-Match": '"99"'}
    )
    assert deleted.status_code == 412


async def test_delete_is_refused_while_children_or_points_remain(registry, db):
    world = await make_world(db)
    for division in (world.street, world.grid):  # community children / the world's point
        response = await registry.delete(f"/v1/divisions/{division.id}", headers=auth(world.admin))
        assert response.status_code == 409, response.text
        assert (await _division(db, division.id)).deleted_at is None
    empty = await make_division(db, region=world.region, level="grid", parent=world.community)
    gone = await registry.delete(f"/v1/divisions/{empty.id}", headers=auth(world.admin))
    assert gone.status_code == 204
    assert (await _division(db, empty.id)).deleted_at is not None
    assert (
        await registry.get(f"/v1/divisions/{empty.id}", headers=auth(world.admin))
    ).status_code == 404
    listed = await registry.get("/v1/divisions", headers=auth(world.admin))
    assert str(empty.id) not in {d["id"] for d in listed.json()["items"]}
    under_deleted = await registry.post(
        "/v1/divisions",
        json={"level": "grid", "code": "G-NEW", "name": "x", "parent_id": str(empty.id)},
        headers=auth(world.admin),
    )
    assert under_deleted.status_code == 422


async def test_delta_sync_returns_changes_in_order_with_tombstones(registry, db):
    world = await make_world(db)
    first = await registry.get("/v1/divisions", headers=auth(world.inspector))
    assert len(first.json()["items"]) == 3
    since = max(
        [
            (await _division(db, d.id)).updated_at
            for d in (world.street, world.community, world.grid)
        ]
    )
    spare = await make_division(db, region=world.region, level="grid", parent=world.community)
    renamed = await registry.patch(
        f"/v1/divisions/{world.street.id}", json={"name": "新名"}, headers=auth(world.admin)
    )
    assert renamed.status_code == 200
    assert (
        await registry.delete(f"/v1/divisions/{spare.id}", headers=auth(world.admin))
    ).status_code == 204

    changes = await registry.get(
        "/v1/divisions",
        params={"updated_since": since.isoformat()},
        headers=auth(world.inspector),
    )
    assert changes.status_code == 200
    items = changes.json()["items"]
    by_id = {i["id"]: i for i in items}
    assert by_id[str(spare.id)]["deleted"] is True
    assert by_id[str(world.street.id)]["name"] == "新名"
    keys = [(i["updated_at"], i["id"]) for i in items]
    assert keys == sorted(keys)

    # Paging through the changes one by one sees each row exactly once.
    paged = await all_pages(
        registry,
        "/v1/divisions",
        headers=auth(world.admin),
        params={"updated_since": since.isoformat()},
        limit=1,
    )
    assert [i["id"] for i in paged] == [i["id"] for i in items]

    naive = await registry.get(
        "/v1/divisions", params={"updated_since": "2026-01-01T00:00:00"}, headers=auth(world.admin)
    )
    assert naive.status_code == 422


async def test_list_pages_are_stable_and_bounded(registry, db):
    region = await make_region(db)
    admin = await make_person(db, region=region, role="admin")
    for i in range(5):
        await make_division(db, region=region, level="street", code=f"S-{i}")
    first = await registry.get("/v1/divisions", params={"limit": 2}, headers=auth(admin))
    body = first.json()
    assert [d["code"] for d in body["items"]] == ["S-0", "S-1"]
    second = await registry.get(
        "/v1/divisions", params={"limit": 2, "cursor": body["next_cursor"]}, headers=auth(admin)
    )
    assert [d["code"] for d in second.json()["items"]] == ["S-2", "S-3"]
    too_many = await registry.get("/v1/divisions", params={"limit": 501}, headers=auth(admin))
    assert too_many.status_code == 422
    bad_cursor = await registry.get("/v1/divisions", params={"cursor": "@@"}, headers=auth(admin))
    assert bad_cursor.status_code == 400
