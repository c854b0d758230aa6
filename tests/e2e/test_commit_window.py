"""A 2xx means committed (SPEC §3), shown on the real processes over HTTP.

The faults land between the last statement and the commit — the window in which
a service that answers before committing loses acknowledged data — and the
client must then get no 2xx and find nothing written.
"""

from __future__ import annotations

import asyncio
import time
import uuid

import asyncpg
import httpx
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from shared.db import asyncpg_connect_kwargs
from shared.models import Case, CaseEvent, Inspection, Unit
from tests.factories import World, auth, inspection_body, make_world
from tests.faults import fault_at_commit


def assert_retryable_refusal(response: httpx.Response) -> None:
    """What a phone must see when nothing was saved: 503, Retry-After, a problem."""
    assert response.status_code == 503, response.text
    assert int(response.headers["Retry-After"]) > 0
    assert response.headers["content-type"].startswith("application/problem+json")


async def count(db: AsyncSession, model, *conditions) -> int:
    """How many committed rows match, read in a session of its own (a fresh snapshot)."""
    async with AsyncSession(db.bind) as fresh:
        return await fresh.scalar(select(func.count()).select_from(model).where(*conditions))


def one_case(world: World) -> list[dict]:
    return [{"id": str(uuid.uuid4()), "item_code": "M-01", "description": "五公示缺失"}]


async def test_an_inspection_whose_commit_dies_is_refused_and_absent(
    stack, db: AsyncSession, engine: AsyncEngine
):
    world = await make_world(db)
    body = inspection_body(
        world,
        results=[{"item_code": "M-01", "outcome": "fail", "grade": 2}]
        + inspection_body(world)["results"][1:],
        cases=one_case(world),
    )
    url = f"{stack.url('inspections')}/v1/inspections"
    async with httpx.AsyncClient(timeout=30) as http:
        async with fault_at_commit(engine, table="inspections", region_id=world.region.id):
            refused = await http.post(url, json=body, headers=auth(world.inspector))
        assert_retryable_refusal(refused)
        assert await count(db, Inspection, Inspection.id == uuid.UUID(body["id"])) == 0
        assert await count(db, Case, Case.inspection_id == uuid.UUID(body["id"])) == 0

        # The phone kept its copy and sends it again: stored once, with its case.
        stored = await http.post(url, json=body, headers=auth(world.inspector))
        assert stored.status_code == 201, stored.text
        assert stored.json()["case_ids"] == [body["cases"][0]["id"]]
    assert await count(db, Inspection, Inspection.id == uuid.UUID(body["id"])) == 1


async def test_a_case_action_whose_commit_dies_leaves_the_case_as_it_was(
    stack, db: AsyncSession, engine: AsyncEngine
):
    world = await make_world(db)
    base = stack.url("inspections")
    async with httpx.AsyncClient(base_url=base, timeout=30) as http:
        created = await http.post(
            "/v1/cases",
            json={
                "id": str(uuid.uuid4()),
                "source": "expert",
                "sample_point_id": str(world.point.id),
                "description": "垃圾桶无盖",
                "severity": "normal",
            },
            headers=auth(world.admin),
        )
        assert created.status_code == 201, created.text
        case = created.json()
        assert case["status"] == "assigned"
        events_before = await count(db, CaseEvent, CaseEvent.case_id == uuid.UUID(case["id"]))

        async with fault_at_commit(engine, table="case_events", region_id=world.region.id):
            refused = await http.post(
                f"/v1/cases/{case['id']}/actions",
                json={"action": "park", "note": "待道路改造后处理"},
                headers={**auth(world.admin), "If-Match": f'"{case["version"]}"'},
            )
        assert_retryable_refusal(refused)

        now = (await http.get(f"/v1/cases/{case['id']}", headers=auth(world.admin))).json()
        assert (now["status"], now["version"]) == ("assigned", case["version"])
        assert await count(db, CaseEvent, CaseEvent.case_id == uuid.UUID(case["id"])) == (
            events_before
        )


async def test_a_registry_write_whose_commit_dies_or_conflicts_is_not_acknowledged(
    stack, db: AsyncSession, engine: AsyncEngine
):
    world = await make_world(db)
    async with httpx.AsyncClient(base_url=stack.url("registry"), timeout=30) as http:
        for kind, status in (("die", 503), ("conflict", 409)):
            code = f"U-{kind}-{uuid.uuid4().hex[:6]}"
            async with fault_at_commit(engine, table="units", region_id=world.region.id, kind=kind):
                refused = await http.post(
                    "/v1/units", json={"code": code, "name": "卫健委"}, headers=auth(world.admin)
                )
            assert refused.status_code == status, refused.text
            assert refused.headers["content-type"].startswith("application/problem+json")
            assert await count(db, Unit, Unit.region_id == world.region.id, Unit.code == code) == 0
            listed = await http.get("/v1/units", params={"limit": 500}, headers=auth(world.admin))
            assert code not in {u["code"] for u in listed.json()["items"]}


async def test_every_acknowledged_inspection_survives_backends_killed_mid_transaction(
    stack, db: AsyncSession, engine: AsyncEngine
):
    """Inspections stream in while a watcher kills the service's backends that are idle
    inside a transaction or committing; every 2xx must be in the database afterwards."""
    world = await make_world(db)
    url = f"{stack.url('inspections')}/v1/inspections"
    answers: dict[str, int] = {}
    kills = 0
    streaming = True

    async def watcher() -> None:
        nonlocal kills
        conn = await asyncpg.connect(
            **asyncpg_connect_kwargs(engine.url.render_as_string(hide_password=False))
        )
        try:
            while streaming:
                kills += await conn.fetchval(
                    """
                    SELECT count(*) FILTER (WHERE pg_terminate_backend(pid))
                    FROM pg_stat_activity
                    WHERE application_name = 'chuangwei.inspections'
                      AND (state = 'idle in transaction'
                           OR (state = 'active' AND query ILIKE 'COMMIT%'))
                    """
                )
                await asyncio.sleep(0.002)
        finally:
            await conn.close()

    async def phone(http: httpx.AsyncClient, bodies: list[dict]) -> None:
        for body in bodies:
            response = await http.post(url, json=body, headers=auth(world.inspector))
            answers[body["id"]] = response.status_code
            if response.status_code == 503:
                assert int(response.headers["Retry-After"]) > 0
            else:
                assert response.status_code == 201, response.text

    started = time.monotonic()
    async with httpx.AsyncClient(timeout=30) as http:
        watching = asyncio.create_task(watcher())
        try:
            # Rounds of 8 phones × 25 inspections until enough backends were killed
            # (bounded: at most 8 rounds, about a minute).
            for _ in range(8):
                await asyncio.gather(
                    *(
                        phone(
                            http, [inspection_body(world, cases=one_case(world)) for _ in range(25)]
                        )
                        for _ in range(8)
                    )
                )
                if kills >= 5 or time.monotonic() - started > 60:
                    break
        finally:
            streaming = False
            await watching
            # A backend the watcher killed just as its request finished may sit dead in the
            # service's pool (no pre-ping: its next user would get a 503). Later tests
            # share this process, so it starts afresh.
            stack.stop("inspections")
            stack.start("inspections")

    acknowledged = [uuid.UUID(i) for i, status in answers.items() if 200 <= status < 300]
    assert kills >= 1, "the watcher never hit a transaction; the test proved nothing"
    assert acknowledged, "no inspection was acknowledged"
    stored = await count(db, Inspection, Inspection.id.in_(acknowledged))
    assert stored == len(acknowledged), (
        f"{len(acknowledged) - stored} of {len(acknowledged)} acknowledged inspections are lost "
        f"({kills} backends killed, {len(answers) - len(acknowledged)} answered 503)"
    )
    # And each acknowledged inspection is whole: its one case was opened with it.
    cases = await count(db, Case, Case.inspection_id.in_(acknowledged))
    assert cases == len(acknowledged)


async def test_read_your_writes_create_and_update_then_read_never_see_the_past(
    stack, db: AsyncSession
):
    world = await make_world(db)
    admin = auth(world.admin)
    async with (
        httpx.AsyncClient(base_url=stack.url("registry"), timeout=30) as registry,
        httpx.AsyncClient(base_url=stack.url("reporting"), timeout=30) as reporting,
    ):
        for i in range(150):
            created = await registry.post(
                "/v1/units", json={"code": f"RW-{i}", "name": f"单位{i}"}, headers=admin
            )
            assert created.status_code == 201, created.text
            read = await registry.get(f"/v1/units/{created.json()['id']}", headers=admin)
            assert read.status_code == 200, f"iteration {i}: {read.status_code}"
            assert read.json()["name"] == f"单位{i}"

        point = f"/v1/sample-points/{world.point.id}"
        for i in range(100):
            patched = await registry.patch(point, json={"name": f"东街农贸市场{i}"}, headers=admin)
            assert patched.status_code == 200, patched.text
            read = (await registry.get(point, headers=admin)).json()
            assert (read["name"], read["version"]) == (
                f"东街农贸市场{i}",
                patched.json()["version"],
            )

        for i in range(100):
            weights = {"closure": 30, "on_time": 30, "rework": 30, "volume": 10 + i}
            put = await reporting.put("/v1/reports/score-weights", json=weights, headers=admin)
            assert put.status_code == 200, put.text
            read = (await reporting.get("/v1/reports/score-weights", headers=admin)).json()
            assert (read["volume"], read["version"]) == (10 + i, put.json()["version"])
