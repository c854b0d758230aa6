"""POST /v1/inspections/batch: an offline phone catching up, each inspection on its own."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select

from shared.models import Case, Inspection
from tests.factories import auth, inspection_body, make_world


async def _count(db, model, region_id) -> int:
    return await db.scalar(
        select(func.count()).select_from(model).where(model.region_id == region_id)
    )


async def test_a_mixed_batch_answers_per_item_in_order(inspections, db):
    world = await make_world(db)
    stored_before = inspection_body(world)
    assert (
        await inspections.post("/v1/inspections", json=stored_before, headers=auth(world.inspector))
    ).status_code == 201

    new_one = inspection_body(world, cases=[{"id": str(uuid.uuid4()), "description": "垃圾桶满溢"}])
    changed = {**stored_before, "source": "expert"}
    wrong_version = inspection_body(world, checklist_version=9)
    future = inspection_body(
        world, finished_at=(datetime.now(UTC) + timedelta(hours=2)).isoformat()
    )
    unknown_field = {**inspection_body(world), "inspektor": "me"}
    not_an_object = "oops"
    duplicate_in_batch = inspection_body(world)

    items = [
        new_one,
        stored_before,
        changed,
        wrong_version,
        future,
        unknown_field,
        not_an_object,
        duplicate_in_batch,
        duplicate_in_batch,
    ]
    response = await inspections.post(
        "/v1/inspections/batch", json={"inspections": items}, headers=auth(world.inspector)
    )
    assert response.status_code == 200, response.text
    results = response.json()["results"]
    assert [r["status"] for r in results] == [201, 200, 409, 422, 422, 422, 422, 201, 200]
    assert [r["id"] for r in results] == [
        new_one["id"],
        stored_before["id"],
        stored_before["id"],
        wrong_version["id"],
        future["id"],
        unknown_field["id"],
        None,
        duplicate_in_batch["id"],
        duplicate_in_batch["id"],
    ]
    for ok in (results[0], results[1], results[7]):
        assert "error" not in ok or ok["error"] is None
    assert results[2]["error"]["status"] == 409
    assert results[3]["error"]["errors"][0]["loc"] == ["body", "checklist_version"]
    assert results[4]["error"]["errors"][0]["loc"] == ["body", "finished_at"]
    assert results[5]["error"]["errors"][0]["msg"] == "unknown field"
    assert results[5]["error"]["type"].endswith("validation-error")

    assert await _count(db, Inspection, world.region.id) == 3
    assert await _count(db, Case, world.region.id) == 1
    got = await inspections.get(f"/v1/inspections/{new_one['id']}", headers=auth(world.admin))
    assert len(got.json()["case_ids"]) == 1


async def test_more_than_100_is_refused_whole(inspections, db):
    world = await make_world(db)
    items = [inspection_body(world) for _ in range(101)]
    response = await inspections.post(
        "/v1/inspections/batch", json={"inspections": items}, headers=auth(world.inspector)
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["loc"] == ["body", "inspections"]
    assert await _count(db, Inspection, world.region.id) == 0


async def test_a_full_batch_of_100_is_stored(inspections, db):
    world = await make_world(db)
    items = [inspection_body(world) for _ in range(100)]
    response = await inspections.post(
        "/v1/inspections/batch", json={"inspections": items}, headers=auth(world.inspector)
    )
    assert response.status_code == 200
    assert {r["status"] for r in response.json()["results"]} == {201}
    assert await _count(db, Inspection, world.region.id) == 100


async def test_batch_needs_a_submitter_and_refuses_unknown_fields(inspections, db):
    world = await make_world(db)
    body = {"inspections": [inspection_body(world)]}
    assert (await inspections.post("/v1/inspections/batch", json=body)).status_code == 401
    assert (
        await inspections.post("/v1/inspections/batch", json=body, headers=auth(world.unit_user))
    ).status_code == 403
    extra = await inspections.post(
        "/v1/inspections/batch", json={**body, "force": True}, headers=auth(world.inspector)
    )
    assert extra.status_code == 422
    # A leader's batch: their own visits pass, others are refused per item.
    mixed = {"inspections": [inspection_body(world, source="leader"), inspection_body(world)]}
    leader = await inspections.post("/v1/inspections/batch", json=mixed, headers=auth(world.leader))
    assert [r["status"] for r in leader.json()["results"]] == [201, 403]
    assert await _count(db, Inspection, world.region.id) == 1
