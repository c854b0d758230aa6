"""Cross-cutting rules of the organisation endpoints: a token is needed everywhere,
only admins write, and service callers read but never write."""

from __future__ import annotations

import uuid

import pytest

from tests.factories import auth, make_world, service_headers

ANY = str(uuid.uuid4())
WRITES = [
    ("POST", "/v1/divisions", {"level": "street", "code": "S", "name": "s"}),
    ("PATCH", f"/v1/divisions/{ANY}", {"name": "x"}),
    ("DELETE", f"/v1/divisions/{ANY}", None),
    ("POST", "/v1/units", {"code": "U", "name": "u"}),
    ("PATCH", f"/v1/units/{ANY}", {"name": "x"}),
    ("DELETE", f"/v1/units/{ANY}", None),
    (
        "POST",
        "/v1/people",
        {"username": "scope-x", "password": "long-enough", "display_name": "x", "role": "admin"},
    ),
    ("PATCH", f"/v1/people/{ANY}", {"active": False}),
    ("POST", f"/v1/people/{ANY}/password", {"password": "long-enough"}),
    ("POST", "/v1/chiefs", {"person_id": ANY, "kind": "road", "road_name": "r"}),
    ("PATCH", f"/v1/chiefs/{ANY}", {"road_name": "x"}),
    ("DELETE", f"/v1/chiefs/{ANY}", None),
    ("POST", "/v1/standards", {"code": "X", "name": "x", "version": "1", "categories": []}),
    ("PUT", "/v1/calendar/2026-10-01", {"kind": "holiday"}),
    ("DELETE", "/v1/calendar/2026-10-01", None),
    ("POST", "/v1/calendar/bulk", {"days": []}),
    ("PUT", "/v1/deadline-policies/urgent", {"amount": 1, "unit": "hours"}),
    ("POST", "/v1/archive-items", {"category_id": ANY, "code": "A", "title": "a"}),
    ("PATCH", f"/v1/archive-items/{ANY}", {"title": "x"}),
    ("DELETE", f"/v1/archive-items/{ANY}", None),
    ("DELETE", f"/v1/archive-items/{ANY}/files/{ANY}", None),
]
READS = [
    "/v1/divisions",
    "/v1/units",
    "/v1/chiefs",
    "/v1/standards",
    "/v1/categories",
    "/v1/calendar",
    "/v1/deadline-policies",
    "/v1/archive-items",
    "/v1/archive-items/completeness",
]


@pytest.fixture
async def world(db):
    return await make_world(db)


@pytest.mark.parametrize(("method", "path", "body"), WRITES)
async def test_no_one_but_an_admin_writes(registry, world, method, path, body):
    for headers in (
        auth(world.unit_user),
        auth(world.inspector),
        auth(world.leader),
        service_headers(world.region.id),
    ):
        response = await registry.request(method, path, json=body, headers=headers)
        assert response.status_code == 403, (method, path, response.text)
    anonymous = await registry.request(method, path, json=body)
    assert anonymous.status_code == 401


@pytest.mark.parametrize("path", READS)
async def test_every_role_in_the_region_reads_and_anonymous_is_401(registry, world, path):
    assert (await registry.get(path)).status_code == 401
    bad = {"Authorization": "Bearer not-a-jwt"}
    assert (await registry.get(path, headers=bad)).status_code == 401
    for headers in (
        auth(world.admin),
        auth(world.inspector),
        auth(world.leader),
        auth(world.unit_user),
    ):
        response = await registry.get(path, headers=headers)
        assert response.status_code == 200, (path, response.text)
        assert "items" in response.json()
    # The service token opens /v1/internal/ only, whatever region it names.
    service = await registry.get(path, headers=service_headers(world.region.id))
    assert service.status_code == 403, (path, service.text)
    assert "/v1/internal/" in service.json()["detail"]
