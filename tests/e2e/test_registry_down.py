"""Nothing lost (SPEC §7) with real processes: the registry is stopped, the inspection is
kept pending, and once the registry is back it becomes valid with its cases — without the
phone resubmitting anything."""

from __future__ import annotations

import uuid

import httpx

from tests.factories import auth, inspection_body, make_world
from tests.waiting import eventually


async def test_an_inspection_survives_a_registry_outage(pending_loop, db):
    world = await make_world(db)
    case_id = str(uuid.uuid4())
    body = inspection_body(
        world,
        cases=[{"id": case_id, "item_code": "M-01", "description": "五公示缺失"}],
    )
    stack = pending_loop  # the product's own background retry finishes the inspection
    inspections = stack.url("inspections")
    stack.stop("registry")
    try:
        async with httpx.AsyncClient(timeout=30) as http:
            submitted = await http.post(
                f"{inspections}/v1/inspections", json=body, headers=auth(world.inspector)
            )
            assert submitted.status_code == 202, submitted.text
            assert submitted.json()["validation"] == "pending"
    finally:
        stack.start("registry")

    async with httpx.AsyncClient(timeout=15) as http:

        async def validation() -> str:
            got = await http.get(
                f"{inspections}/v1/inspections/{body['id']}", headers=auth(world.inspector)
            )
            assert got.status_code == 200, got.text
            return got.json()["validation"]

        # The loop retries every half second; a few of its passes are enough.
        await eventually(validation, equals="valid", within=20, what="the loop to finish it")
        record = (
            await http.get(
                f"{inspections}/v1/inspections/{body['id']}", headers=auth(world.inspector)
            )
        ).json()
        assert record["score"] == 100.0
        assert record["case_ids"] == [case_id]
        case = await http.get(f"{inspections}/v1/cases/{case_id}", headers=auth(world.admin))
        assert case.status_code == 200
        assert case.json()["status"] == "assigned"
        assert case.json()["unit_id"] == str(world.unit.id)
