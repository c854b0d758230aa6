"""The foundation every service stands on: auth, problem details, health, layering."""

from __future__ import annotations

import ast
import uuid
from pathlib import Path

from shared.embedded_db import REPO_ROOT
from tests.factories import PASSWORD, auth, make_person, make_region
from tests.waiting import eventually

SERVICES = ("registry", "inspections", "reporting", "console")


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

    from shared.auth import issue_token
    from shared.settings import CommonSettings

    region = await make_region(db)
    person = await make_person(db, region=region, role="admin")
    token = issue_token(
        secret=CommonSettings().jwt_secret,
        ttl_seconds=1,
        person_id=person.id,
        region_id=region.id,
        role="admin",
        unit_id=None,
        username=person.username,
    )
    headers = {"Authorization": f"Bearer {token}"}
    assert (await registry.get("/v1/units", headers=headers)).status_code == 200

    async def status() -> int:
        return (await registry.get("/v1/units", headers=headers)).status_code

    # The one-second token expires (tokens follow the wall clock, not shared.clock); a
    # cached verification must not outlive it.
    await eventually(status, equals=401, within=3, what="the expired token to be refused")


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
        answer = await client.get_json("/v1/internal/deadline-context", region_id=region.id)
    finally:
        request_id_var.reset(token)
        await client.aclose()
    assert answer["region"]["id"] == str(region.id)
    assert seen[0].headers["X-Request-ID"] == "req-from-the-phone"
    assert seen[0].headers["X-Region-Id"] == str(region.id)


def _bare_app(router=None):
    from fastapi import APIRouter

    from shared.app import create_app
    from shared.settings import CommonSettings

    return create_app(
        service="probe",
        title="probe",
        description="probe",
        settings_factory=CommonSettings,
        routers=[router] if router is not None else [APIRouter()],
    )


async def test_an_unexpected_error_is_a_500_problem_without_a_stack_trace():
    import httpx
    from fastapi import APIRouter

    router = APIRouter()

    @router.get("/boom")
    async def boom() -> None:
        raise RuntimeError("secret internals")

    app = _bare_app(router)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            response = await client.get("/boom")
    assert response.status_code == 500
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["detail"] == "Internal server error"
    assert "secret internals" not in response.text and "Traceback" not in response.text


def test_readyz_knows_the_same_head_as_alembic():
    """/readyz reads the head from the migration files without importing Alembic."""
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    from shared.embedded_db import REPO_ROOT
    from shared.health import alembic_head

    script = ScriptDirectory.from_config(Config(str(REPO_ROOT / "alembic.ini")))
    assert alembic_head() == script.get_current_head() is not None


def test_readyz_refuses_a_schema_behind_the_alembic_head(empty_database_url, monkeypatch):
    """Synchronous: Alembic's downgrade runs its own event loop."""
    import asyncio

    import httpx
    from alembic import command
    from alembic.config import Config

    from shared.embedded_db import REPO_ROOT

    config = Config(str(REPO_ROOT / "alembic.ini"))
    config.attributes["database_url"] = empty_database_url
    command.downgrade(config, "-1")
    monkeypatch.setenv("DATABASE_URL", empty_database_url)

    async def probe() -> httpx.Response:
        app = _bare_app()
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
                return await client.get("/readyz")

    behind = asyncio.run(probe())
    assert behind.status_code == 503 and behind.json()["status"] == "migrating"
    assert behind.headers["Retry-After"]
    command.upgrade(config, "head")
    assert asyncio.run(probe()).status_code == 200


async def test_service_client_retries_server_errors_then_gives_up_as_unavailable():
    import httpx
    import pytest
    from fastapi import FastAPI
    from fastapi.responses import JSONResponse

    from shared.http_client import ServiceClient, UpstreamError, UpstreamUnavailable

    calls = {"flaky": 0, "down": 0}
    upstream = FastAPI()

    @upstream.get("/flaky")
    async def flaky() -> JSONResponse:
        calls["flaky"] += 1
        if calls["flaky"] < 3:
            return JSONResponse({"detail": "busy"}, status_code=503)
        return JSONResponse({"ok": True})

    @upstream.get("/down")
    async def down() -> JSONResponse:
        calls["down"] += 1
        return JSONResponse({"detail": "broken"}, status_code=500)

    @upstream.get("/missing")
    async def missing() -> JSONResponse:
        return JSONResponse({"detail": "no such point"}, status_code=404)

    client = ServiceClient(
        "http://upstream",
        service_token="t",
        retries=2,
        transport=httpx.ASGITransport(app=upstream),
    )
    region = uuid.uuid4()
    try:
        assert await client.get_json("/flaky", region_id=region) == {"ok": True}
        assert calls["flaky"] == 3  # two retries, then success
        with pytest.raises(UpstreamUnavailable):
            await client.get_json("/down", region_id=region)
        assert calls["down"] == 3
        with pytest.raises(UpstreamError) as refused:  # a 4xx is an answer, not an outage
            await client.get_json("/missing", region_id=region)
        assert refused.value.status == 404
    finally:
        await client.aclose()


def test_every_log_line_is_json_naming_its_service(capfd):
    """uvicorn's and httpx's lines come through structlog's stdlib bridge like ours."""
    import json
    import logging

    import structlog

    from shared.observability import configure_logging

    uvicorn_handler = logging.StreamHandler()  # what uvicorn's own log config installs
    logging.getLogger("uvicorn.error").addHandler(uvicorn_handler)
    logging.getLogger("uvicorn.error").propagate = False
    try:
        configure_logging("probe", level="INFO", json_logs=True)
        capfd.readouterr()
        logging.getLogger("uvicorn.error").info("Started server process [%d]", 42)
        logging.getLogger("httpx").warning("HTTP Request: GET http://x %s", "503")
        structlog.get_logger("chuangwei.test").info("own_line", answer=42)
        try:
            raise ValueError("boom")
        except ValueError:
            logging.getLogger("sqlalchemy.pool").exception("pool trouble")
    finally:
        configure_logging("tests", level="WARNING", json_logs=True)
    lines = [line for line in capfd.readouterr().err.splitlines() if line.strip()]
    assert len(lines) == 4, lines
    records = [json.loads(line) for line in lines]  # every line parses as JSON
    assert {r["service"] for r in records} == {"probe"}
    assert records[0]["event"] == "Started server process [42]"
    assert records[0]["logger"] == "uvicorn.error" and records[0]["level"] == "info"
    assert records[1]["logger"] == "httpx" and records[1]["level"] == "warning"
    assert records[2]["event"] == "own_line" and records[2]["answer"] == 42
    assert "ValueError: boom" in records[3]["exception"]
