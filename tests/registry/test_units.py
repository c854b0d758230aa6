"""Units: CRUD, unit accounts' narrow view, soft delete and delta sync."""

from __future__ import annotations

import uuid

from sqlalchemy import select

from shared.models import Unit
from tests.factories import auth, count_rows, make_person, make_unit, make_world


async def _unit(db, unit_id):
    """The stored row, read past the session's identity map."""
    table = Unit.__table__
    return (await db.execute(select(table).where(table.c.id == unit_id))).one()


async def test_admin_creates_and_edits_a_unit(registry, db):
    world = await make_world(db)
    created = await registry.post(
        "/v1/units",
        json={"code": "U-HB", "name": "环保局", "kind": "department", "contact_phone": "0793-123"},
        headers=auth(world.admin),
    )
    assert created.status_code == 201, created.text
    unit = created.json()
    assert unit["version"] == 1 and unit["deleted"] is False
    assert created.headers["etag"] == '"1"'
    patched = await registry.patch(
        f"/v1/units/{unit['id']}",
        json={"name": "生态环境局", "contact_phone": None},
        headers={**auth(world.admin), "If-Match": created.headers["etag"]},
    )
    assert patched.status_code == 200, patched.text
    assert patched.json()["name"] == "生态环境局" and patched.json()["contact_phone"] is None
    assert patched.json()["version"] == 2 and patched.headers["etag"] == '"2"'
    got = await registry.get(f"/v1/units/{unit['id']}", headers=auth(world.leader))
    assert got.json()["name"] == "生态环境局"


async def test_unit_account_sees_only_its_own_unit(registry, db):
    world = await make_world(db)
    listed = await registry.get("/v1/units", headers=auth(world.unit_user))
    assert [u["id"] for u in listed.json()["items"]] == [str(world.unit.id)]
    own = await registry.get(f"/v1/units/{world.unit.id}", headers=auth(world.unit_user))
    assert own.status_code == 200
    other = await registry.get(f"/v1/units/{world.other_unit.id}", headers=auth(world.unit_user))
    assert other.status_code == 404
    synced = await registry.get(
        "/v1/units",
        params={"updated_since": "2000-01-01T00:00:00Z"},
        headers=auth(world.unit_user),
    )
    assert [u["id"] for u in synced.json()["items"]] == [str(world.unit.id)]
    everyone = await registry.get("/v1/units", headers=auth(world.inspector))
    assert {u["id"] for u in everyone.json()["items"]} == {
        str(world.unit.id),
        str(world.other_unit.id),
    }


async def test_only_admins_write_units(registry, db):
    world = await make_world(db)
    before = await count_rows(db, Unit, region_id=world.region.id)
    for person in (world.inspector, world.leader, world.unit_user):
        headers = auth(person)
        assert (
            await registry.post("/v1/units", json={"code": "U-X", "name": "x"}, headers=headers)
        ).status_code == 403
        assert (
            await registry.patch(f"/v1/units/{world.unit.id}", json={"name": "x"}, headers=headers)
        ).status_code == 403
        assert (
            await registry.delete(f"/v1/units/{world.other_unit.id}", headers=headers)
        ).status_code == 403
    assert await count_rows(db, Unit, region_id=world.region.id) == before
    assert (await _unit(db, world.unit.id)).name == world.unit.name
    assert (await registry.get("/v1/units")).status_code == 401


async def test_bad_unit_bodies_change_nothing(registry, db):
    world = await make_world(db)
    before = await count_rows(db, Unit, region_id=world.region.id)
    for body in (
        {"code": "U-1", "name": "x", "kind": "ministry"},
        {"code": "U-1", "name": "x", "phone": "123"},
        {"code": "U-1", "name": ["x"]},
        {"code": "U-1", "name": "x", "contact_phone": "call me"},
        {"name": "x"},
    ):
        response = await registry.post("/v1/units", json=body, headers=auth(world.admin))
        assert response.status_code == 422, (body, response.text)
        assert response.headers["content-type"].startswith("application/problem+json")
    for body in ({"name": None}, {"kind": "x"}, {"nmae": "typo"}):
        response = await registry.patch(
            f"/v1/units/{world.unit.id}", json=body, headers=auth(world.admin)
        )
        assert response.status_code == 422, (body, response.text)
    duplicate = await registry.post(
        "/v1/units", json={"code": world.unit.code, "name": "again"}, headers=auth(world.admin)
    )
    assert duplicate.status_code == 409
    renamed_to_taken = await registry.patch(
        f"/v1/units/{world.unit.id}",
        json={"code": world.other_unit.code},
        headers=auth(world.admin),
    )
    assert renamed_to_taken.status_code == 409
    stale = await registry.patch(
        f"/v1/units/{world.unit.id}",
        json={"name": "late"},
        headers={**auth(world.admin), "If-Match": '"7"'},
    )
    assert stale.status_code == 412
    assert await count_rows(db, Unit, region_id=world.region.id) == before
    row = await _unit(db, world.unit.id)
    assert (row.code, row.name, row.version) == (world.unit.code, world.unit.name, 1)


async def test_another_regions_units_answer_404(registry, db):
    world = await make_world(db)
    other = await make_world(db)
    path = f"/v1/units/{other.unit.id}"
    assert (await registry.get(path, headers=auth(world.admin))).status_code == 404
    assert (
        await registry.patch(path, json={"name": "x"}, headers=auth(world.admin))
    ).status_code == 404
    assert (await registry.delete(path, headers=auth(world.admin))).status_code == 404
    listed = await registry.get("/v1/units", headers=auth(world.admin))
    assert str(other.unit.id) not in {u["id"] for u in listed.json()["items"]}
    # The same code may exist in two regions.
    same_code = await registry.post(
        "/v1/units", json={"code": other.unit.code, "name": "x"}, headers=auth(world.admin)
    )
    assert same_code.status_code == 201
    assert (await _unit(db, other.unit.id)).name == other.unit.name


async def test_delete_is_refused_while_points_or_people_depend_on_the_unit(registry, db):
    world = await make_world(db)
    busy = await registry.delete(f"/v1/units/{world.unit.id}", headers=auth(world.admin))
    assert busy.status_code == 409  # the world's sample point answers to it
    staffed = await registry.delete(f"/v1/units/{world.other_unit.id}", headers=auth(world.admin))
    assert staffed.status_code == 409  # other_unit_user is active
    assert (await _unit(db, world.other_unit.id)).deleted_at is None

    spare = await make_unit(db, region=world.region)
    await make_person(db, region=world.region, role="inspector", unit=spare)  # affiliation only
    inactive = await make_person(db, region=world.region, role="unit", unit=spare)
    staffed_again = await registry.delete(f"/v1/units/{spare.id}", headers=auth(world.admin))
    assert staffed_again.status_code == 409
    deactivated = await registry.patch(
        f"/v1/people/{inactive.id}", json={"active": False}, headers=auth(world.admin)
    )
    assert deactivated.status_code == 200, deactivated.text
    freed = await registry.delete(f"/v1/units/{spare.id}", headers=auth(world.admin))
    assert freed.status_code == 204
    assert (await _unit(db, spare.id)).deleted_at is not None


async def test_soft_deleted_unit_shows_up_as_a_tombstone_in_delta_sync(registry, db):
    world = await make_world(db)
    spare = await make_unit(db, region=world.region, code="U-SPARE")
    since = (await _unit(db, spare.id)).updated_at
    gone = await registry.delete(f"/v1/units/{spare.id}", headers=auth(world.admin))
    assert gone.status_code == 204
    assert (
        await registry.get(f"/v1/units/{spare.id}", headers=auth(world.admin))
    ).status_code == 404
    plain = await registry.get("/v1/units", headers=auth(world.inspector))
    assert str(spare.id) not in {u["id"] for u in plain.json()["items"]}
    changes = await registry.get(
        "/v1/units", params={"updated_since": since.isoformat()}, headers=auth(world.inspector)
    )
    tombstones = [u for u in changes.json()["items"] if u["id"] == str(spare.id)]
    assert len(tombstones) == 1 and tombstones[0]["deleted"] is True
    reused = await registry.post(
        "/v1/units", json={"code": "U-SPARE", "name": "again"}, headers=auth(world.admin)
    )
    assert reused.status_code == 409


async def test_unknown_unit_id_is_404_and_malformed_is_422(registry, db):
    world = await make_world(db)
    missing = await registry.get(f"/v1/units/{uuid.uuid4()}", headers=auth(world.admin))
    assert missing.status_code == 404
    malformed = await registry.get("/v1/units/not-a-uuid", headers=auth(world.admin))
    assert malformed.status_code == 422
