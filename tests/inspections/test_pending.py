"""Nothing lost (SPEC §7): with the registry unreachable an inspection is kept pending (202),
then validated, scored and its cases opened once the registry answers."""

from __future__ import annotations

import uuid

from sqlalchemy import func, select

from inspections.ingest.service import retry_pending
from shared.models import Case, Inspection
from tests.factories import auth, inspection_body, make_world, upload_photo
from tests.inspections.registry_outage import registry_unreachable


async def _inspection(db, inspection_id) -> Inspection:
    return await db.scalar(
        select(Inspection)
        .where(Inspection.id == uuid.UUID(inspection_id))
        .execution_options(populate_existing=True)
    )


async def test_registry_down_keeps_the_inspection_pending_then_finishes_it(
    inspections, inspections_app, db
):
    world = await make_world(db)
    case_id = str(uuid.uuid4())
    body = inspection_body(
        world,
        cases=[
            {"id": case_id, "item_code": "M-02", "description": "摊外经营", "severity": "urgent"}
        ],
    )
    async with registry_unreachable(inspections_app):
        response = await inspections.post(
            "/v1/inspections", json=body, headers=auth(world.inspector)
        )
        assert response.status_code == 202, response.text
        pending = response.json()
        assert pending["validation"] == "pending"
        assert pending["score"] is None
        assert pending["case_ids"] == []

        # Replays while pending answer 202 again; another body under the id is still 409.
        again = await inspections.post("/v1/inspections", json=body, headers=auth(world.inspector))
        assert again.status_code == 202
        other = await inspections.post(
            "/v1/inspections",
            json={**body, "source": "expert"},
            headers=auth(world.inspector),
        )
        assert other.status_code == 409
        listed = await inspections.get(
            "/v1/inspections", params={"validation": "pending"}, headers=auth(world.admin)
        )
        assert [i["id"] for i in listed.json()["items"]] == [body["id"]]

        # Still down: a retry leaves it pending.
        await retry_pending(inspections_app, limit=50, region_id=world.region.id)
        assert (await _inspection(db, body["id"])).validation == "pending"

    await retry_pending(inspections_app, limit=50, region_id=world.region.id)

    stored = await _inspection(db, body["id"])
    assert stored.validation == "valid"
    assert stored.validated_at is not None
    assert float(stored.score) == 100.0
    assert stored.unit_id == world.unit.id
    got = await inspections.get(f"/v1/inspections/{body['id']}", headers=auth(world.inspector))
    assert got.json()["validation"] == "valid"
    assert got.json()["case_ids"] == [case_id]
    assert len(got.json()["results"]) == 4
    case = await db.scalar(select(Case).where(Case.id == uuid.UUID(case_id)))
    assert case.status == "assigned"
    assert case.unit_id == world.unit.id
    assert case.due_at is not None
    # Replaying after it was finished answers 200 with the finished record.
    replay = await inspections.post("/v1/inspections", json=body, headers=auth(world.inspector))
    assert replay.status_code == 200
    assert replay.json()["score"] == 100.0


async def test_a_pending_inspection_the_registry_refuses_is_rejected(
    inspections, inspections_app, db
):
    world = await make_world(db)
    unknown_point = inspection_body(world, sample_point_id=str(uuid.uuid4()))
    photo = await upload_photo(inspections, world.inspector)
    wrong_items = inspection_body(world)
    wrong_items["results"][0]["item_code"] = "NOPE"
    wrong_items["results"][1]["photo_ids"] = [str(photo)]
    async with registry_unreachable(inspections_app):
        for body in (unknown_point, wrong_items):
            r = await inspections.post("/v1/inspections", json=body, headers=auth(world.inspector))
            assert r.status_code == 202

    await retry_pending(inspections_app, limit=50, region_id=world.region.id)

    first = await _inspection(db, unknown_point["id"])
    assert first.validation == "rejected"
    assert first.validation_error["status"] == 422
    assert first.validation_error["errors"][0]["loc"] == ["body", "sample_point_id"]
    second = await _inspection(db, wrong_items["id"])
    assert second.validation == "rejected"
    locs = [e["loc"] for e in second.validation_error["errors"]]
    assert ["body", "results", "0", "item_code"] in locs
    cases = await db.scalar(
        select(func.count()).select_from(Case).where(Case.region_id == world.region.id)
    )
    assert cases == 0
    # The corrected resubmission with the same photo is not taken for photo reuse.
    corrected = inspection_body(world)
    corrected["results"][0]["photo_ids"] = [str(photo)]
    fixed = await inspections.post("/v1/inspections", json=corrected, headers=auth(world.inspector))
    assert fixed.status_code == 201
    assert fixed.json()["suspect_photos"] is False
    rejected = await inspections.get(
        "/v1/inspections", params={"validation": "rejected"}, headers=auth(world.admin)
    )
    assert {i["id"] for i in rejected.json()["items"]} == {unknown_point["id"], wrong_items["id"]}


async def test_structural_errors_are_refused_even_while_the_registry_is_down(
    inspections, inspections_app, db
):
    world = await make_world(db)
    async with registry_unreachable(inspections_app):
        bad = inspection_body(world, finished_at="2020-01-01T00:00:00+08:00")
        r = await inspections.post("/v1/inspections", json=bad, headers=auth(world.inspector))
        assert r.status_code == 422
        typo = {**inspection_body(world), "resluts": []}
        r = await inspections.post("/v1/inspections", json=typo, headers=auth(world.inspector))
        assert r.status_code == 422
    count = await db.scalar(
        select(func.count()).select_from(Inspection).where(Inspection.region_id == world.region.id)
    )
    assert count == 0


async def test_a_batch_while_the_registry_is_down_is_all_pending(inspections, inspections_app, db):
    world = await make_world(db)
    items = [inspection_body(world) for _ in range(5)]
    async with registry_unreachable(inspections_app):
        response = await inspections.post(
            "/v1/inspections/batch", json={"inspections": items}, headers=auth(world.inspector)
        )
    assert [r["status"] for r in response.json()["results"]] == [202] * 5
    await retry_pending(inspections_app, limit=50, region_id=world.region.id)
    valid = await db.scalar(
        select(func.count())
        .select_from(Inspection)
        .where(Inspection.region_id == world.region.id, Inspection.validation == "valid")
    )
    assert valid == 5


async def test_a_retry_confined_to_one_region_leaves_the_others_pending(
    inspections, inspections_app, db
):
    mine, theirs = await make_world(db), await make_world(db)
    bodies = {w.region.id: inspection_body(w) for w in (mine, theirs)}
    async with registry_unreachable(inspections_app):
        for w in (mine, theirs):
            response = await inspections.post(
                "/v1/inspections", json=bodies[w.region.id], headers=auth(w.inspector)
            )
            assert response.status_code == 202
    assert await retry_pending(inspections_app, limit=50, region_id=mine.region.id) == 1
    assert (await _inspection(db, bodies[mine.region.id]["id"])).validation == "valid"
    assert (await _inspection(db, bodies[theirs.region.id]["id"])).validation == "pending"
    await retry_pending(inspections_app, limit=50, region_id=theirs.region.id)
    assert (await _inspection(db, bodies[theirs.region.id]["id"])).validation == "valid"
