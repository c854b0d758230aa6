"""People: accounts, passwords, roles and who may read whom."""

from __future__ import annotations

from sqlalchemy import select

from shared.auth import password_hash
from shared.models import Person
from tests.factories import PASSWORD, auth, count_rows, make_world


async def _person(db, person_id):
    table = Person.__table__
    return (await db.execute(select(table).where(table.c.id == person_id))).one()


async def _sign_in(registry, username, password):
    return await registry.post("/v1/auth/token", data={"username": username, "password": password})


async def test_admin_creates_an_account_that_can_sign_in(registry, db, request):
    world = await make_world(db)
    username = f"zhang-{request.node.name[-6:]}-{world.region.code}"
    created = await registry.post(
        "/v1/people",
        json={
            "username": username,
            "password": "s3cret-pass",
            "display_name": "张三",
            "phone": "13800000000",
            "role": "unit",
            "unit_id": str(world.unit.id),
        },
        headers=auth(world.admin),
    )
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["role"] == "unit" and body["unit_id"] == str(world.unit.id) and body["active"]
    assert "password" not in created.text and "hash" not in created.text
    token = await _sign_in(registry, username, "s3cret-pass")
    assert token.status_code == 200
    me = await registry.get(
        "/v1/people/me", headers={"Authorization": f"Bearer {token.json()['access_token']}"}
    )
    assert me.json()["username"] == username


async def test_admins_and_leaders_list_people_others_only_see_themselves(registry, db):
    world = await make_world(db)
    for reader in (world.admin, world.leader):
        listed = await registry.get("/v1/people", headers=auth(reader))
        assert listed.status_code == 200
        assert len(listed.json()["items"]) == 5
        assert all("password_hash" not in p for p in listed.json()["items"])
    units = await registry.get(
        "/v1/people", params={"role": "unit", "unit": str(world.unit.id)}, headers=auth(world.admin)
    )
    assert [p["id"] for p in units.json()["items"]] == [str(world.unit_user.id)]
    for person in (world.inspector, world.unit_user):
        assert (await registry.get("/v1/people", headers=auth(person))).status_code == 403
        own = await registry.get(f"/v1/people/{person.id}", headers=auth(person))
        assert own.status_code == 200
        other = await registry.get(f"/v1/people/{world.admin.id}", headers=auth(person))
        assert other.status_code == 403
        me = await registry.get("/v1/people/me", headers=auth(person))
        assert me.json()["id"] == str(person.id)


async def test_another_regions_people_answer_404(registry, db):
    world = await make_world(db)
    other = await make_world(db)
    path = f"/v1/people/{other.inspector.id}"
    assert (await registry.get(path, headers=auth(world.admin))).status_code == 404
    patched = await registry.patch(path, json={"active": False}, headers=auth(world.admin))
    assert patched.status_code == 404
    password = await registry.post(
        f"{path}/password", json={"password": "hijacked-123"}, headers=auth(world.admin)
    )
    assert password.status_code == 404
    assert (await _person(db, other.inspector.id)).active is True
    assert (await _sign_in(registry, other.inspector.username, PASSWORD)).status_code == 200
    listed = await registry.get("/v1/people", headers=auth(world.admin))
    assert str(other.inspector.id) not in {p["id"] for p in listed.json()["items"]}
    foreign_unit = await registry.post(
        "/v1/people",
        json={
            "username": f"u-{world.region.code}",
            "password": "long-enough",
            "display_name": "x",
            "role": "unit",
            "unit_id": str(other.unit.id),
        },
        headers=auth(world.admin),
    )
    assert foreign_unit.status_code == 422


async def test_bad_accounts_are_refused_and_nothing_is_created(registry, db):
    world = await make_world(db)
    before = await count_rows(db, Person, region_id=world.region.id)
    base = {"username": f"new-{world.region.code}", "password": "long-enough", "display_name": "x"}
    for body in (
        {**base, "role": "unit"},  # no unit
        {**base, "role": "unit", "unit_id": "00000000-0000-0000-0000-000000000000"},
        {**base, "role": "boss"},
        {**base, "role": "inspector", "password": "short"},
        {**base, "role": "inspector", "username": "has space"},
        {**base, "role": "inspector", "is_admin": True},
        {**base, "role": "inspector", "active": "maybe"},
    ):
        response = await registry.post("/v1/people", json=body, headers=auth(world.admin))
        assert response.status_code == 422, (body, response.text)
    taken = await registry.post(
        "/v1/people",
        json={**base, "role": "inspector", "username": world.inspector.username},
        headers=auth(world.admin),
    )
    assert taken.status_code == 409
    other = await make_world(db)
    taken_elsewhere = await registry.post(
        "/v1/people",
        json={**base, "role": "inspector", "username": other.leader.username},
        headers=auth(world.admin),
    )
    assert taken_elsewhere.status_code == 409
    for person in (world.inspector, world.leader, world.unit_user):
        forbidden = await registry.post(
            "/v1/people", json={**base, "role": "admin"}, headers=auth(person)
        )
        assert forbidden.status_code == 403
    assert await count_rows(db, Person, region_id=world.region.id) == before


async def test_deactivated_account_cannot_sign_in(registry, db):
    world = await make_world(db)
    assert (await _sign_in(registry, world.inspector.username, PASSWORD)).status_code == 200
    response = await registry.patch(
        f"/v1/people/{world.inspector.id}",
        json={"active": False},
        headers={**auth(world.admin), "If-Match": '"1"'},
    )
    assert response.status_code == 200, response.text
    assert response.json()["active"] is False and response.json()["version"] == 2
    assert (await _sign_in(registry, world.inspector.username, PASSWORD)).status_code == 401
    stale = await registry.patch(
        f"/v1/people/{world.inspector.id}",
        json={"active": True},
        headers={**auth(world.admin), "If-Match": '"1"'},
    )
    assert stale.status_code == 412
    assert (await _person(db, world.inspector.id)).active is False


async def test_person_updates_keep_the_rules(registry, db):
    world = await make_world(db)
    for body in (
        {"role": "unit"},  # an inspector without a unit
        {"unit_id": None},  # would leave the unit account without a unit
        {"display_name": None},
        {"password_hash": "x"},
        {"username": "renamed"},
    ):
        target = world.unit_user if "unit_id" in body else world.inspector
        response = await registry.patch(
            f"/v1/people/{target.id}", json=body, headers=auth(world.admin)
        )
        assert response.status_code == 422, (body, response.text)
    self_lockout = await registry.patch(
        f"/v1/people/{world.admin.id}", json={"active": False}, headers=auth(world.admin)
    )
    assert self_lockout.status_code == 409
    for person in (world.inspector, world.leader, world.unit_user):
        forbidden = await registry.patch(
            f"/v1/people/{person.id}", json={"display_name": "me"}, headers=auth(person)
        )
        assert forbidden.status_code == 403
    for person in (world.admin, world.inspector, world.unit_user):
        row = await _person(db, person.id)
        assert (row.role, row.unit_id, row.active, row.version, row.display_name) == (
            person.role,
            person.unit_id,
            True,
            1,
            person.display_name,
        )
    moved = await registry.patch(
        f"/v1/people/{world.unit_user.id}",
        json={"unit_id": str(world.other_unit.id), "phone": "110"},
        headers=auth(world.admin),
    )
    assert moved.status_code == 200
    assert moved.json()["unit_id"] == str(world.other_unit.id)


async def test_admin_sets_passwords_and_people_change_their_own(registry, db):
    world = await make_world(db)
    reset = await registry.post(
        f"/v1/people/{world.inspector.id}/password",
        json={"password": "brand-new-pass"},
        headers=auth(world.admin),
    )
    assert reset.status_code == 204
    assert (await _sign_in(registry, world.inspector.username, PASSWORD)).status_code == 401
    assert (await _sign_in(registry, world.inspector.username, "brand-new-pass")).status_code == 200

    no_current = await registry.post(
        f"/v1/people/{world.unit_user.id}/password",
        json={"password": "mine-and-new"},
        headers=auth(world.unit_user),
    )
    assert no_current.status_code == 422
    wrong_current = await registry.post(
        f"/v1/people/{world.unit_user.id}/password",
        json={"password": "mine-and-new", "current_password": "guess-guess"},
        headers=auth(world.unit_user),
    )
    assert wrong_current.status_code == 422
    too_short = await registry.post(
        f"/v1/people/{world.unit_user.id}/password",
        json={"password": "short", "current_password": PASSWORD},
        headers=auth(world.unit_user),
    )
    assert too_short.status_code == 422
    not_mine = await registry.post(
        f"/v1/people/{world.leader.id}/password",
        json={"password": "taking-over"},
        headers=auth(world.unit_user),
    )
    assert not_mine.status_code == 403
    leader_not_admin = await registry.post(
        f"/v1/people/{world.inspector.id}/password",
        json={"password": "taking-over"},
        headers=auth(world.leader),
    )
    assert leader_not_admin.status_code == 403
    row = await _person(db, world.unit_user.id)
    assert password_hash.verify(PASSWORD, row.password_hash) and row.version == 1

    own = await registry.post(
        f"/v1/people/{world.unit_user.id}/password",
        json={"password": "mine-and-new", "current_password": PASSWORD},
        headers=auth(world.unit_user),
    )
    assert own.status_code == 204
    assert (await _sign_in(registry, world.unit_user.username, "mine-and-new")).status_code == 200
    assert (await _sign_in(registry, world.leader.username, "taking-over")).status_code == 401
