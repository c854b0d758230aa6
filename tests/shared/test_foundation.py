"""The foundation every service stands on: auth, problem details, health, layering."""

from __future__ import annotations

import ast
from pathlib import Path

from shared.embedded_db import REPO_ROOT
from tests.factories import PASSWORD, auth, make_person, make_region

SERVICES = ("registry", "inspections", "reporting")


def _imported_top_level_packages(folder: Path) -> set[str]:
    names: set[str] = set()
    for path in folder.rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names.update(alias.name.split(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names.add(node.module.split(".")[0])
    return names


def test_shared_imports_no_service():
    imported = _imported_top_level_packages(REPO_ROOT / "shared" / "shared")
    assert imported.isdisjoint(SERVICES), imported & set(SERVICES)


def test_no_service_imports_another():
    for service in SERVICES:
        imported = _imported_top_level_packages(REPO_ROOT / "services" / service / service)
        others = set(SERVICES) - {service}
        assert imported.isdisjoint(others), f"{service} imports {imported & others}"


async def test_sign_in_returns_a_bearer_token_that_the_registry_accepts(registry, db):
    region = await make_region(db)
    person = await make_person(db, region=region, role="inspector")
    response = await registry.post(
        "/v1/auth/token", data={"username": person.username, "password": PASSWORD}
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["token_type"] == "bearer" and body["expires_in"] > 0
    assert body["access_token"].count(".") == 2


async def test_wrong_password_is_401_problem_details(registry, db):
    region = await make_region(db)
    person = await make_person(db, region=region, role="admin")
    response = await registry.post(
        "/v1/auth/token", data={"username": person.username, "password": "nope"}
    )
    assert response.status_code == 401
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["status"] == 401


async def test_health_and_readiness(registry):
    assert (await registry.get("/healthz")).json() == {"status": "ok"}
    ready = await registry.get("/readyz")
    assert ready.status_code == 200 and ready.json()["status"] == "ok"


async def test_metrics_count_requests(registry):
    await registry.get("/healthz")
    metrics = await registry.get("/metrics")
    assert 'http_requests_total{method="GET",route="/healthz"' in metrics.text


async def test_request_id_is_echoed(registry):
    response = await registry.get("/healthz", headers={"X-Request-ID": "abc-123"})
    assert response.headers["x-request-id"] == "abc-123"


async def test_garbage_token_is_401(registry, db):
    region = await make_region(db)
    person = await make_person(db, region=region, role="admin")
    headers = auth(person)
    headers["Authorization"] += "x"
    response = await registry.get("/v1/units", headers=headers)
    assert response.status_code == 401


async def test_a_signed_token_claiming_the_service_role_is_refused(registry, db):
    from shared.auth import issue_token
    from shared.settings import CommonSettings

    region = await make_region(db)
    person = await make_person(db, region=region, role="admin")
    forged = issue_token(
        secret=CommonSettings().jwt_secret,
        ttl_seconds=60,
        person_id=person.id,
        region_id=region.id,
        role="service",
        unit_id=None,
        username=person.username,
    )
    response = await registry.get("/v1/units", headers={"Authorization": f"Bearer {forged}"})
    assert response.status_code == 401


async def test_an_expired_token_is_refused_even_after_it_was_accepted(registry, db):
    import asyncio

    from shared.auth import issue_token
    from shared.settings import CommonSettings

    region = await make_region(db)
    person = await make_person(db, region=region, role="admin")
    token = issue_token(
        secret=CommonSettings().jwt_secret,
        ttl_seconds=2,
        person_id=person.id,
        region_id=region.id,
        role="admin",
        unit_id=None,
        username=person.username,
    )
    headers = {"Authorization": f"Bearer {token}"}
    assert (await registry.get("/v1/units", headers=headers)).status_code == 200
    await asyncio.sleep(
        2.5
    )  # let the two-second token expire (a cached verification must not outlive it)
    response = await registry.get("/v1/units", headers=headers)
    assert response.status_code == 401


async def test_service_calls_carry_the_request_id_region_and_service_token(registry_app, db):
    """What a request id is for: one id follows a phone's request into the registry."""
    import httpx

    from shared.http_client import ServiceClient
    from shared.observability import request_id_var
    from shared.settings import CommonSettings

    region = await make_region(db)
    seen: list[httpx.Request] = []
    client = ServiceClient(
        "http://registry",
        service_token=CommonSettings().service_token,
        transport=httpx.ASGITransport(app=registry_app),
    )

    async def remember(request: httpx.Request) -> None:
        seen.append(request)

    client._client.event_hooks["request"] = [remember]
    token = request_id_var.set("req-from-the-phone")
    try:
        answer = await client.get_json("/v1/deadline-policies", region_id=region.id)
    finally:
        request_id_var.reset(token)
        await client.aclose()
    assert {item["severity"] for item in answer["items"]} == {"urgent", "normal", "complex"}
    assert seen[0].headers["X-Request-ID"] == "req-from-the-phone"
    assert seen[0].headers["X-Region-Id"] == str(region.id)
