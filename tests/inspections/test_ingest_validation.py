"""Inspection validation: every problem is a 422 entry of its own, and nothing is stored."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select

from shared.models import Case, Inspection, PhotoLink
from tests.factories import (
    auth,
    inspection_body,
    make_sample_point,
    make_world,
    upload_photo,
)


async def _nothing_stored(db, world) -> None:
    for model in (Inspection, Case, PhotoLink):
        count = await db.scalar(
            select(func.count()).select_from(model).where(model.region_id == world.region.id)
        )
        assert count == 0, model.__name__


async def _post_invalid(inspections, world, body) -> list[dict]:
    response = await inspections.post("/v1/inspections", json=body, headers=auth(world.inspector))
    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    problem = response.json()
    assert problem["status"] == 422
    return problem["errors"]


def _locs(errors: list[dict]) -> list[str]:
    return [".".join(str(p) for p in e["loc"]) for e in errors]


async def test_a_checklist_version_that_does_not_exist(inspections, db):
    world = await make_world(db)
    errors = await _post_invalid(inspections, world, inspection_body(world, checklist_version=7))
    assert _locs(errors) == ["body.checklist_version"]
    assert "current version: 1" in errors[0]["msg"]
    await _nothing_stored(db, world)


async def test_unknown_item_codes_and_unanswered_items_each_get_an_entry(inspections, db):
    world = await make_world(db)
    body = inspection_body(world)
    body["results"] = [
        {"item_code": "M-01", "outcome": "pass"},
        {"item_code": "X-99", "outcome": "pass"},
        {"item_code": "M-04", "outcome": "fail", "deduction": 25},
        {"item_code": "Y-01", "outcome": "fail"},
    ]
    body["cases"] = [{"id": str(uuid.uuid4()), "item_code": "Z-1", "description": "x"}]
    errors = await _post_invalid(inspections, world, body)
    locs = _locs(errors)
    assert "body.results.1.item_code" in locs
    assert "body.results.3.item_code" in locs
    assert "body.results.2.deduction" in locs  # 25 > the item's 20 points
    assert "body.cases.0.item_code" in locs
    unanswered = [e["msg"] for e in errors if e["loc"] == ["body", "results"]]
    assert len(unanswered) == 2
    assert any("M-02" in m for m in unanswered) and any("M-03" in m for m in unanswered)
    await _nothing_stored(db, world)


async def test_times_in_the_future_or_too_old_or_reversed(inspections, db):
    world = await make_world(db)
    now = datetime.now(UTC)
    future = inspection_body(
        world,
        started_at=(now + timedelta(minutes=1)).isoformat(),
        finished_at=(now + timedelta(minutes=10)).isoformat(),
    )
    errors = await _post_invalid(inspections, world, future)
    assert _locs(errors) == ["body.finished_at"]
    assert "future" in errors[0]["msg"]

    stale = inspection_body(
        world,
        started_at=(now - timedelta(days=31)).isoformat(),
        finished_at=(now - timedelta(days=30, minutes=5)).isoformat(),
    )
    errors = await _post_invalid(inspections, world, stale)
    assert _locs(errors) == ["body.started_at", "body.finished_at"]

    reversed_ = inspection_body(
        world,
        started_at=(now - timedelta(minutes=5)).isoformat(),
        finished_at=(now - timedelta(minutes=10)).isoformat(),
    )
    errors = await _post_invalid(inspections, world, reversed_)
    assert _locs(errors) == ["body.finished_at"]

    naive = inspection_body(world, started_at="2026-11-28T10:00:00")
    errors = await _post_invalid(inspections, world, naive)
    assert _locs(errors) == ["body.started_at"]

    # Within the 5 minutes' clock skew is fine.
    skewed = inspection_body(world, finished_at=(now + timedelta(minutes=3)).isoformat())
    ok = await inspections.post("/v1/inspections", json=skewed, headers=auth(world.inspector))
    assert ok.status_code == 201, ok.text


async def test_photos_must_be_uploaded_first(inspections, db):
    world = await make_world(db)
    uploaded = await upload_photo(inspections, world.inspector)
    missing_a, missing_b = uuid.uuid4(), uuid.uuid4()
    body = inspection_body(world)
    body["results"][0]["photo_ids"] = [str(uploaded), str(missing_a)]
    body["cases"] = [
        {"id": str(uuid.uuid4()), "description": "积水", "photo_ids": [str(missing_b)]}
    ]
    errors = await _post_invalid(inspections, world, body)
    assert _locs(errors) == ["body.results.0.photo_ids.1", "body.cases.0.photo_ids.0"]
    assert str(missing_a) in errors[0]["msg"]
    await _nothing_stored(db, world)


async def test_unknown_retired_and_foreign_points(inspections, db):
    world = await make_world(db)
    elsewhere = await make_world(db)
    retired = await make_sample_point(
        db,
        region=world.region,
        point_type=world.point_type,
        division=world.grid,
        unit=world.unit,
        status="retired",
    )
    for point_id, expected in (
        (uuid.uuid4(), "no such sample point"),
        (elsewhere.point.id, "no such sample point"),
        (retired.id, "retired"),
    ):
        errors = await _post_invalid(
            inspections, world, inspection_body(world, sample_point_id=str(point_id))
        )
        assert _locs(errors) == ["body.sample_point_id"]
        assert expected in errors[0]["msg"]
    await _nothing_stored(db, world)


async def test_unknown_fields_and_wrong_types_are_refused_field_by_field(inspections, db):
    world = await make_world(db)
    body = inspection_body(world, inspector_id=str(world.admin.id), checklist_version="three")
    body["results"][0]["grade"] = 11
    body["results"][1]["outcome"] = "ok"
    body["results"][2]["scor"] = 5
    body["location"] = {"lat": 95, "lon": 118.2}
    body["cases"] = [{"id": "not-a-uuid", "description": "", "severity": "critical"}]
    body["epidemic"]["masks"] = True
    errors = await _post_invalid(inspections, world, body)
    locs = _locs(errors)
    for expected in (
        "body.inspector_id",
        "body.checklist_version",
        "body.results.0.grade",
        "body.results.1.outcome",
        "body.results.2.scor",
        "body.location.lat",
        "body.cases.0.id",
        "body.cases.0.description",
        "body.cases.0.severity",
        "body.epidemic.masks",
    ):
        assert expected in locs, (expected, locs)
    assert {e["msg"] for e in errors if e["loc"][-1] in ("inspector_id", "scor", "masks")} == {
        "unknown field"
    }
    await _nothing_stored(db, world)


async def test_grade_and_deduction_rules(inspections, db):
    world = await make_world(db)
    body = inspection_body(world)
    body["results"][0] = {"item_code": "M-01", "outcome": "pass", "grade": 8, "deduction": 1}
    body["results"][1] = {"item_code": "M-02", "outcome": "na", "grade": 5}
    body["results"].append({"item_code": "M-03", "outcome": "pass"})
    errors = await _post_invalid(inspections, world, body)
    assert _locs(errors) == ["body.results.0", "body.results.1", "body.results.4.item_code"]
    await _nothing_stored(db, world)


async def test_case_ids_must_be_new(inspections, db):
    world = await make_world(db)
    case_id = str(uuid.uuid4())
    first = inspection_body(world, cases=[{"id": case_id, "description": "垃圾"}])
    assert (
        await inspections.post("/v1/inspections", json=first, headers=auth(world.inspector))
    ).status_code == 201
    second = inspection_body(
        world,
        cases=[{"id": case_id, "description": "积水"}, {"id": case_id, "description": "积水"}],
    )
    errors = await _post_invalid(inspections, world, second)
    assert _locs(errors) == ["body.cases.1.id", "body.cases.0.id", "body.cases.1.id"]


async def test_an_empty_or_missing_body_is_422(inspections, db):
    world = await make_world(db)
    response = await inspections.post("/v1/inspections", json={}, headers=auth(world.inspector))
    assert response.status_code == 422
    locs = _locs(response.json()["errors"])
    for field in ("id", "sample_point_id", "checklist_version", "started_at", "results"):
        assert f"body.{field}" in locs
    no_results = inspection_body(world, results=[])
    errors = await _post_invalid(inspections, world, no_results)
    assert _locs(errors) == ["body.results"]
