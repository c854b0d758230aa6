"""The registry paused (SIGSTOP: connections accepted, nothing answered) costs a phone
about 2 s, not the client's full timeout and retries: the inspection is kept pending
(202) within the ingest's registry budget and validated once the registry runs again."""

from __future__ import annotations

import asyncio
import signal
import time
import uuid

import httpx

from tests.factories import auth, inspection_body, make_world
from tests.waiting import eventually

# INSPECTIONS_REGISTRY_BUDGET_SECONDS defaults to 2; "within about 3 s" (issue 7).
LONGEST_PENDING_ANSWER_S = 3.5


async def test_a_paused_registry_answers_202_quickly_and_every_pending_one_is_validated(
    pending_loop, db
):
    stack = pending_loop  # inspections with its background retry on
    world = await make_world(db)
    url = f"{stack.url('inspections')}/v1/inspections"
    headers = auth(world.inspector)

    def body() -> dict:
        return inspection_body(
            world,
            cases=[{"id": str(uuid.uuid4()), "item_code": "M-01", "description": "五公示缺失"}],
        )

    async def submit(http: httpx.AsyncClient, payload: dict) -> tuple[float, httpx.Response]:
        started = time.monotonic()
        response = await http.post(url, json=payload, headers=headers)
        return time.monotonic() - started, response

    registry = stack.processes["registry"]
    bodies = [body() for _ in range(6)]
    async with httpx.AsyncClient(timeout=30) as http:
        registry.send_signal(signal.SIGSTOP)
        try:
            answers = [await submit(http, b) for b in bodies[:3]]  # one after another
            answers += await asyncio.gather(*(submit(http, b) for b in bodies[3:]))  # at once
        finally:
            registry.send_signal(signal.SIGCONT)

        for waited, response in answers:
            assert response.status_code == 202, response.text
            assert response.json()["validation"] == "pending"
            assert waited < LONGEST_PENDING_ANSWER_S, f"a pending answer took {waited:.1f} s"

        # The service's own retry loop finishes them; the phone sends nothing again.
        async def records() -> list[dict]:
            return [(await http.get(f"{url}/{b['id']}", headers=headers)).json() for b in bodies]

        async def validations() -> list[str]:
            return [r["validation"] for r in await records()]

        await eventually(
            validations, equals=["valid"] * len(bodies), within=30, what="every one validated"
        )
        assert [r["case_ids"] for r in await records()] == [[b["cases"][0]["id"]] for b in bodies]
