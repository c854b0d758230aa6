"""Deadline policies: seeded defaults per region, admins change them."""

from __future__ import annotations

from sqlalchemy import select

from shared.models import DeadlinePolicy
from tests.factories import auth, make_world

DEFAULTS = [("urgent", 24, "hours"), ("normal", 3, "workdays"), ("complex", 7, "workdays")]


async def _stored(db, region_id):
    rows = await db.execute(
        select(DeadlinePolicy.severity, DeadlinePolicy.amount, DeadlinePolicy.unit)
        .where(DeadlinePolicy.region_id == region_id)
        .order_by(DeadlinePolicy.amount)
    )
    return sorted(tuple(r) for r in rows)


async def test_every_region_starts_with_the_default_policies(registry, db):
    world = await make_world(db)
    for reader in (world.admin, world.inspector, world.leader, world.unit_user):
        response = await registry.get("/v1/deadline-policies", headers=auth(reader))
        assert response.status_code == 200
        items = response.json()["items"]
        assert [(p["severity"], p["amount"], p["unit"]) for p in items] == DEFAULTS
    one = await registry.get("/v1/deadline-policies/normal", headers=auth(world.unit_user))
    assert (one.json()["amount"], one.json()["unit"]) == (3, "workdays")
    assert (await registry.get("/v1/deadline-policies")).status_code == 401


async def test_admin_changes_a_policy_for_its_region_only(registry, db):
    world = await make_world(db)
    other = await make_world(db)
    response = await registry.put(
        "/v1/deadline-policies/urgent",
        json={"amount": 12, "unit": "hours"},
        headers=auth(world.admin),
    )
    assert response.status_code == 200, response.text
    assert (response.json()["amount"], response.json()["unit"]) == (12, "hours")
    switched = await registry.put(
        "/v1/deadline-policies/complex",
        json={"amount": 10, "unit": "workdays"},
        headers=auth(world.admin),
    )
    assert switched.status_code == 200
    assert await _stored(db, world.region.id) == sorted(
        [("urgent", 12, "hours"), ("normal", 3, "workdays"), ("complex", 10, "workdays")]
    )
    assert await _stored(db, other.region.id) == sorted(DEFAULTS)


async def test_bad_policies_are_refused_and_nothing_changes(registry, db):
    world = await make_world(db)
    for path, body in (
        ("/v1/deadline-policies/urgent", {"amount": 0, "unit": "hours"}),
        ("/v1/deadline-policies/urgent", {"amount": -3, "unit": "hours"}),
        ("/v1/deadline-policies/urgent", {"amount": "soon", "unit": "hours"}),
        ("/v1/deadline-policies/urgent", {"amount": 2.5, "unit": "hours"}),
        ("/v1/deadline-policies/urgent", {"amount": 2, "unit": "weeks"}),
        ("/v1/deadline-policies/urgent", {"amount": 400, "unit": "workdays"}),
        ("/v1/deadline-policies/urgent", {"amount": 2, "unit": "hours", "escalate": True}),
        ("/v1/deadline-policies/urgent", {"unit": "hours"}),
        ("/v1/deadline-policies/critical", {"amount": 2, "unit": "hours"}),
    ):
        response = await registry.put(path, json=body, headers=auth(world.admin))
        assert response.status_code == 422, (path, body, response.text)
        assert response.headers["content-type"].startswith("application/problem+json")
    for person in (world.inspector, world.leader, world.unit_user):
        forbidden = await registry.put(
            "/v1/deadline-policies/urgent",
            json={"amount": 1, "unit": "hours"},
            headers=auth(person),
        )
        assert forbidden.status_code == 403
    assert await _stored(db, world.region.id) == sorted(DEFAULTS)
