"""POST /v1/inspections/batch: an offline phone catching up, each inspection on its own."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy import select, text

from inspections.ingest.dependencies import _turns
from inspections.ingest.pending import retry_pending
from shared.models import Case, Inspection
from tests.factories import (
    auth,
    count_rows,
    inspection_body,
    jpeg_bytes,
    make_sample_point,
    make_world,
    report_case,
    upload_photo,
)
from tests.inspections.registry_outage import registry_unreachable
from tests.waiting import eventually, sessions_blocked_by


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

    assert await count_rows(db, Inspection, region_id=world.region.id) == 3
    assert await count_rows(db, Case, region_id=world.region.id) == 1
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
    assert await count_rows(db, Inspection, region_id=world.region.id) == 0


async def test_a_full_batch_of_100_is_stored(inspections, db):
    world = await make_world(db)
    items = [inspection_body(world) for _ in range(100)]
    response = await inspections.post(
        "/v1/inspections/batch", json={"inspections": items}, headers=auth(world.inspector)
    )
    assert response.status_code == 200
    assert {r["status"] for r in response.json()["results"]} == {201}
    assert await count_rows(db, Inspection, region_id=world.region.id) == 100


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
    assert await count_rows(db, Inspection, region_id=world.region.id) == 1


# --- the fast path's branches: each sends an item off the multi-row write ---------------


async def batch(inspections, world, items: list[dict]) -> list[dict]:
    response = await inspections.post(
        "/v1/inspections/batch", json={"inspections": items}, headers=auth(world.inspector)
    )
    assert response.status_code == 200, response.text
    return response.json()["results"]


async def stored_ids(db, region_id) -> set[str]:
    rows = await db.scalars(select(Inspection.id).where(Inspection.region_id == region_id))
    return {str(i) for i in rows}


async def validations(inspections, world, items: list[dict]) -> list[str]:
    """Each item's ``validation`` as ``GET /v1/inspections/{id}`` shows it."""
    out = []
    for item in items:
        got = await inspections.get(f"/v1/inspections/{item['id']}", headers=auth(world.admin))
        out.append(got.json()["validation"])
    return out


def with_case(world, case_id: str | None = None) -> dict:
    return inspection_body(
        world, cases=[{"id": case_id or str(uuid.uuid4()), "description": "垃圾桶满溢"}]
    )


async def test_a_case_id_taken_before_the_batch_refuses_only_its_item(inspections, db):
    world = await make_world(db)
    taken = await report_case(inspections, world.inspector, address="西街 3 号")
    first, middle, last = with_case(world), with_case(world, taken["id"]), with_case(world)
    results = await batch(inspections, world, [first, middle, last])
    assert [r["status"] for r in results] == [201, 422, 201]
    assert results[1]["error"]["errors"][0]["loc"][:3] == ["body", "cases", "0"]
    assert await stored_ids(db, world.region.id) == {first["id"], last["id"]}
    # The case that held the id is untouched; the two new items opened their own.
    still = await inspections.get(f"/v1/cases/{taken['id']}", headers=auth(world.admin))
    assert still.json()["inspection_id"] is None and still.json()["address"] == "西街 3 号"
    assert await count_rows(db, Case, region_id=world.region.id) == 3


async def test_photos_in_a_batch_are_checked_against_the_items_before_them(inspections, db):
    world = await make_world(db)
    data = jpeg_bytes(seed=301)
    original = await upload_photo(inspections, world.inspector, data)
    copy = await upload_photo(inspections, world.inspector, data)  # same bytes, new id
    fresh = await upload_photo(inspections, world.inspector, jpeg_bytes(seed=302))
    items = []
    for photo in (original, copy, fresh):
        body = inspection_body(world)
        body["results"][0]["photo_ids"] = [str(photo)]
        items.append(body)
    plain = inspection_body(world)
    results = await batch(inspections, world, [*items, plain])
    assert [r["status"] for r in results] == [201, 201, 201, 201]
    flags = []
    for item in [*items, plain]:
        got = await inspections.get(f"/v1/inspections/{item['id']}", headers=auth(world.admin))
        flags.append(got.json()["suspect_photos"])
    # The second reuses the first's bytes under another photo id: suspect, as one by one.
    assert flags == [False, True, False, False]


async def test_a_pending_id_mid_batch_answers_202_and_the_run_around_it_is_stored(
    inspections, inspections_app, db
):
    world = await make_world(db)
    pending = inspection_body(world)
    async with registry_unreachable(inspections_app):
        first = await inspections.post(
            "/v1/inspections", json=pending, headers=auth(world.inspector)
        )
    assert first.status_code == 202
    before, after = inspection_body(world), inspection_body(world)
    results = await batch(inspections, world, [before, pending, after])
    # A replay of a pending id answers 202 as it would alone; an item after it is taken as
    # one by one would take it, after the replay — kept pending, never lost.
    assert [r["status"] for r in results] == [201, 202, 202]
    assert await stored_ids(db, world.region.id) == {before["id"], pending["id"], after["id"]}
    await retry_pending(inspections_app, limit=10, region_id=world.region.id)
    assert await validations(inspections, world, [pending, after]) == ["valid", "valid"]


async def test_the_registry_failing_mid_batch_sends_the_rest_to_pending(
    inspections, inspections_app, db
):
    world = await make_world(db)
    other_point = await make_sample_point(
        db, region=world.region, point_type=world.point_type, division=world.grid, unit=world.unit
    )
    # The market's context is in the cache; the other point's is not.
    warm = inspection_body(world)
    assert (
        await inspections.post("/v1/inspections", json=warm, headers=auth(world.inspector))
    ).status_code == 201
    cached = inspection_body(world)
    uncached = inspection_body(world, sample_point_id=str(other_point.id))
    cached_again = inspection_body(world)
    async with registry_unreachable(inspections_app):
        results = await batch(inspections, world, [cached, uncached, cached_again])
    # The first needs no registry; the second finds it down; the third, though its context
    # is cached, goes to pending too: the batch stops waiting on a registry proven down.
    assert [r["status"] for r in results] == [201, 202, 202]
    assert await validations(inspections, world, [cached, uncached, cached_again]) == [
        "valid",
        "pending",
        "pending",
    ]
    await retry_pending(inspections_app, limit=10, region_id=world.region.id)
    assert await validations(inspections, world, [uncached, cached_again]) == ["valid", "valid"]


async def test_two_batches_with_the_same_items_at_once_store_each_item_once(
    inspections, inspections_app, engine, db, monkeypatch
):
    world = await make_world(db)
    # The race needs both batches at the database at once: no per-region share (other
    # tests' regions count as active, and the share would queue the second batch).
    monkeypatch.setattr(_turns(inspections_app), "per_region", 0)
    items = [with_case(world) for _ in range(4)]
    # Both batches read what is stored, then wait together at their first write (the table
    # is held in SHARE mode); let go, they race for the same rows.
    async with engine.connect() as holder:
        await holder.execute(text("LOCK TABLE inspections IN SHARE MODE"))
        holder_pid = await holder.scalar(text("SELECT pg_backend_pid()"))
        both = asyncio.gather(batch(inspections, world, items), batch(inspections, world, items))
        await eventually(
            lambda: sessions_blocked_by(engine, holder_pid),
            equals=2,
            what="both batches waiting to write",
        )
        await holder.rollback()
    first, second = await both
    for one, other in zip(first, second, strict=True):
        assert sorted([one["status"], other["status"]]) == [200, 201], (one, other)
    assert await stored_ids(db, world.region.id) == {i["id"] for i in items}
    assert await count_rows(db, Case, region_id=world.region.id) == 4
