"""Nothing lost (SPEC §7): with the registry unreachable an inspection is kept pending (202),
then validated, scored and its cases opened once the registry answers."""

from __future__ import annotations

import uuid

from sqlalchemy import func, select, text

from inspections.ingest.pending import retry_pending
from shared import clock
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


# --- one writer: a finished pending inspection is the inspection it would have been -----


def _visit(world, photos: list[uuid.UUID]) -> dict:
    """A visit with a graded, a deducted (photo) and a failed item, and two cases (one
    with a photo and its own location): every kind of row an inspection writes."""
    body = inspection_body(world)
    body["results"][0]["grade"] = 7
    body["results"][1] = {
        "item_code": body["results"][1]["item_code"],
        "outcome": "fail",
        "deduction": 2.5,
        "note": "地面有积水",
        "photo_ids": [str(photos[0])],
    }
    body["results"][2] = {"item_code": body["results"][2]["item_code"], "outcome": "fail"}
    body["cases"] = [
        {
            "id": str(uuid.uuid4()),
            "item_code": body["results"][1]["item_code"],
            "description": "通道堆放杂物",
            "severity": "urgent",
            "photo_ids": [str(photos[1])],
        },
        {
            "id": str(uuid.uuid4()),
            "item_code": body["results"][2]["item_code"],
            "description": "垃圾桶满溢",
            "severity": "normal",
            "location": {"lat": world.point.lat + 0.0001, "lon": world.point.lon},
        },
    ]
    return body


# Every row an inspection writes, tenant tables filtered on the one region and joined on it.
_ROWS = {
    "inspections": "SELECT * FROM inspections WHERE region_id = :r AND id = :i",
    "inspection_results": "SELECT * FROM inspection_results "
    "WHERE region_id = :r AND inspection_id = :i ORDER BY item_code",
    "cases": "SELECT * FROM cases WHERE region_id = :r AND inspection_id = :i ORDER BY item_code",
    "case_events": "SELECT e.* FROM case_events e "
    "JOIN cases c ON c.region_id = e.region_id AND c.id = e.case_id "
    "WHERE e.region_id = :r AND c.inspection_id = :i ORDER BY c.item_code, e.at, e.action",
    "photo_links": "SELECT l.* FROM photo_links l WHERE l.region_id = :r AND (l.owner_id = :i "
    "OR l.owner_id IN (SELECT c.id FROM cases c WHERE c.region_id = :r AND c.inspection_id = :i))",
}
# Columns that differ by nature between two stored visits: when the row was inserted
# (the pending one earlier), the submitted body (other ids) and its hash.
_ASIDE = {"created_at", "updated_at", "body", "body_hash"}


async def _rows_of(db, region_id: uuid.UUID, inspection_id: str, names: dict) -> dict:
    """Every row the inspection wrote, its ids replaced by their role in the visit."""

    def plain(value):
        if isinstance(value, list):
            return [plain(v) for v in value]
        return names.get(value, value) if isinstance(value, uuid.UUID) else value

    out = {}
    for table, sql in _ROWS.items():
        aside = _ASIDE | {"id"} if table == "case_events" else _ASIDE  # generated event ids
        rows = await db.execute(text(sql), {"r": region_id, "i": uuid.UUID(inspection_id)})
        out[table] = [
            {k: plain(v) for k, v in row._mapping.items() if k not in aside} for row in rows
        ]
    out["photo_links"].sort(key=lambda link: (link["owner_id"], link["photo_id"]))
    return out


def _names(body: dict, photos: list[uuid.UUID]) -> dict:
    names = {uuid.UUID(body["id"]): "the inspection"}
    names.update({uuid.UUID(c["id"]): f"case {k}" for k, c in enumerate(body["cases"])})
    names.update({p: f"photo {k}" for k, p in enumerate(photos)})
    return names


async def test_a_finished_pending_inspection_has_the_rows_of_one_stored_at_once(
    inspections, inspections_app, db
):
    world = await make_world(db)
    later_photos = [await upload_photo(inspections, world.inspector) for _ in range(2)]
    at_once_photos = [await upload_photo(inspections, world.inspector) for _ in range(2)]
    # One instant for both (visit times, validated_at, the dispatch and due dates).
    with clock.travel_to(clock.now()):
        later, at_once = _visit(world, later_photos), _visit(world, at_once_photos)
        async with registry_unreachable(inspections_app):
            response = await inspections.post(
                "/v1/inspections", json=later, headers=auth(world.inspector)
            )
            assert response.status_code == 202, response.text
        response = await inspections.post(
            "/v1/inspections", json=at_once, headers=auth(world.inspector)
        )
        assert response.status_code == 201, response.text
        assert await retry_pending(inspections_app, limit=5, region_id=world.region.id) == 1

    finished = await _rows_of(db, world.region.id, later["id"], _names(later, later_photos))
    stored = await _rows_of(db, world.region.id, at_once["id"], _names(at_once, at_once_photos))
    counts = {table: len(rows) for table, rows in stored.items()}
    # Cases opened with their report and dispatch events; photos linked to both owners.
    assert counts == {
        "inspections": 1,
        "inspection_results": len(later["results"]),
        "cases": 2,
        "case_events": 4,
        "photo_links": 3,
    }
    assert stored["inspections"][0]["validation"] == "valid"
    assert all(c["due_at"] is not None for c in stored["cases"])
    for table in _ROWS:
        assert finished[table] == stored[table], table
