"""Chiefs: area, grid and road posts held by people of the region."""

from __future__ import annotations

from sqlalchemy import select

from shared.models import Chief
from tests.factories import auth, count_rows, make_chief, make_person, make_world


async def test_admin_appoints_each_kind_of_chief_and_everyone_reads_them(registry, db):
    world = await make_world(db)
    posts = [
        {"person_id": str(world.leader.id), "kind": "area", "division_id": str(world.street.id)},
        {"person_id": str(world.leader.id), "kind": "area", "division_id": str(world.community.id)},
        {"person_id": str(world.inspector.id), "kind": "grid", "division_id": str(world.grid.id)},
        {"person_id": str(world.inspector.id), "kind": "road", "road_name": "中山路"},
        {
            "person_id": str(world.admin.id),
            "kind": "road",
            "road_name": "解放路",
            "division_id": str(world.street.id),
        },
    ]
    ids = []
    for post in posts:
        response = await registry.post("/v1/chiefs", json=post, headers=auth(world.admin))
        assert response.status_code == 201, (post, response.text)
        assert response.headers["etag"] == '"1"'
        ids.append(response.json()["id"])
    for reader in (world.inspector, world.leader, world.unit_user):
        listed = await registry.get("/v1/chiefs", headers=auth(reader))
        assert [c["id"] for c in listed.json()["items"]] == ids
    grid_chiefs = await registry.get(
        "/v1/chiefs", params={"division": str(world.grid.id)}, headers=auth(world.unit_user)
    )
    assert [c["person_id"] for c in grid_chiefs.json()["items"]] == [str(world.inspector.id)]
    roads = await registry.get("/v1/chiefs", params={"kind": "road"}, headers=auth(world.admin))
    assert {c["road_name"] for c in roads.json()["items"]} == {"中山路", "解放路"}


async def test_chief_posts_must_fit_their_kind(registry, db):
    world = await make_world(db)
    other = await make_world(db)
    retired = await make_person(db, region=world.region, role="inspector")
    retired.active = False
    await db.commit()
    p = str(world.inspector.id)
    bad = [
        ({"person_id": p, "kind": "grid", "division_id": str(world.community.id)}, "division_id"),
        ({"person_id": p, "kind": "grid"}, "division_id"),
        ({"person_id": p, "kind": "area", "division_id": str(world.grid.id)}, "division_id"),
        ({"person_id": p, "kind": "road"}, "road_name"),
        ({"person_id": p, "kind": "road", "road_name": ""}, "road_name"),
        (
            {"person_id": p, "kind": "grid", "division_id": str(world.grid.id), "road_name": "x"},
            "road_name",
        ),
        ({"person_id": p, "kind": "area", "division_id": str(other.street.id)}, "division_id"),
        (
            {
                "person_id": str(other.inspector.id),
                "kind": "grid",
                "division_id": str(world.grid.id),
            },
            "person_id",
        ),
        (
            {"person_id": str(retired.id), "kind": "grid", "division_id": str(world.grid.id)},
            "person_id",
        ),
        ({"person_id": p, "kind": "mayor", "division_id": str(world.grid.id)}, "kind"),
        ({"person_id": "nobody", "kind": "grid", "division_id": str(world.grid.id)}, "person_id"),
        ({"person_id": p, "kind": "grid", "division_id": str(world.grid.id), "since": 1}, "since"),
    ]
    for body, field in bad:
        response = await registry.post("/v1/chiefs", json=body, headers=auth(world.admin))
        assert response.status_code == 422, (body, response.text)
        assert field in response.json()["errors"][0]["loc"], (body, response.json())
    assert await count_rows(db, Chief, region_id=world.region.id) == 0
    good = {"person_id": p, "kind": "grid", "division_id": str(world.grid.id)}
    assert (
        await registry.post("/v1/chiefs", json=good, headers=auth(world.admin))
    ).status_code == 201
    again = await registry.post("/v1/chiefs", json=good, headers=auth(world.admin))
    assert again.status_code == 409
    assert await count_rows(db, Chief, region_id=world.region.id) == 1


async def test_only_admins_appoint_change_or_remove_chiefs(registry, db):
    world = await make_world(db)
    chief = await make_chief(db, region=world.region, person=world.inspector, division=world.grid)
    body = {"person_id": str(world.leader.id), "kind": "grid", "division_id": str(world.grid.id)}
    for person in (world.inspector, world.leader, world.unit_user):
        assert (
            await registry.post("/v1/chiefs", json=body, headers=auth(person))
        ).status_code == 403
        assert (
            await registry.patch(
                f"/v1/chiefs/{chief.id}", json={"person_id": str(person.id)}, headers=auth(person)
            )
        ).status_code == 403
        assert (
            await registry.delete(f"/v1/chiefs/{chief.id}", headers=auth(person))
        ).status_code == 403
    assert await count_rows(db, Chief, region_id=world.region.id) == 1


async def test_changing_and_removing_a_chief(registry, db):
    world = await make_world(db)
    chief = await make_chief(db, region=world.region, person=world.inspector, division=world.grid)
    to_road_without_name = await registry.patch(
        f"/v1/chiefs/{chief.id}",
        json={"kind": "road", "division_id": None},
        headers=auth(world.admin),
    )
    assert to_road_without_name.status_code == 422
    stale = await registry.patch(
        f"/v1/chiefs/{chief.id}",
        json={"person_id": str(world.leader.id)},
        headers={**auth(world.admin), "If-Match": '"5"'},
    )
    assert stale.status_code == 412
    row = (await db.execute(select(Chief.__table__).where(Chief.__table__.c.id == chief.id))).one()
    assert (row.kind, row.person_id, row.version) == ("grid", world.inspector.id, 1)

    to_road = await registry.patch(
        f"/v1/chiefs/{chief.id}",
        json={"kind": "road", "division_id": None, "road_name": "人民路"},
        headers={**auth(world.admin), "If-Match": '"1"'},
    )
    assert to_road.status_code == 200, to_road.text
    assert to_road.json()["kind"] == "road" and to_road.json()["version"] == 2
    removed = await registry.delete(
        f"/v1/chiefs/{chief.id}", headers={**auth(world.admin), "If-Match": '"2"'}
    )
    assert removed.status_code == 204
    assert (
        await registry.get(f"/v1/chiefs/{chief.id}", headers=auth(world.admin))
    ).status_code == 404
    assert await count_rows(db, Chief, region_id=world.region.id) == 0


async def test_another_regions_chiefs_answer_404(registry, db):
    world = await make_world(db)
    other = await make_world(db)
    chief = await make_chief(db, region=other.region, person=other.inspector, division=other.grid)
    path = f"/v1/chiefs/{chief.id}"
    assert (await registry.get(path, headers=auth(world.admin))).status_code == 404
    assert (
        await registry.patch(path, json={"road_name": None}, headers=auth(world.admin))
    ).status_code == 404
    assert (await registry.delete(path, headers=auth(world.admin))).status_code == 404
    assert (await registry.get("/v1/chiefs", headers=auth(world.admin))).json()["items"] == []
    assert await count_rows(db, Chief, region_id=other.region.id) == 1
