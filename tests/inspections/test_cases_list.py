"""Creating cases by hand (idempotent, validated) and listing them with filters and cursors."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from shared import clock
from shared.models import Case, CaseEvent
from tests.factories import (
    World,
    auth,
    count_rows,
    make_division,
    make_sample_point,
    make_world,
    report_case,
    upload_photo,
)
from tests.paging import all_pages


@pytest.fixture
async def w(db) -> World:
    return await make_world(db)


async def ids(inspections, person, **params: Any) -> list[str]:
    response = await inspections.get("/v1/cases", params=params, headers=auth(person))
    assert response.status_code == 200, response.text
    return [c["id"] for c in response.json()["items"]]


# ---------------------------------------------------------------- POST /v1/cases


async def test_posting_the_same_case_twice_is_safe(inspections, w: World, db) -> None:
    body = {
        "id": str(uuid.uuid4()),
        "source": "supervision",
        "description": "督查: 市场东门垃圾堆放",
        "severity": "complex",
        "sample_point_id": str(w.point.id),
        "location": {"lat": 28.441, "lon": 118.201},
    }
    first = await inspections.post("/v1/cases", json=body, headers=auth(w.inspector))
    assert first.status_code == 201
    assert first.headers["Location"] == f"/v1/cases/{body['id']}"
    assert first.headers["ETag"] == f'"{first.json()["version"]}"'
    assert first.json()["location"] == {"lat": 28.441, "lon": 118.201}
    again = await inspections.post("/v1/cases", json=body, headers=auth(w.inspector))
    assert again.status_code == 200
    assert again.json() == first.json()
    changed = await inspections.post(
        "/v1/cases", json={**body, "severity": "urgent"}, headers=auth(w.inspector)
    )
    assert changed.status_code == 409
    assert await count_rows(db, Case, region_id=w.region.id) == 1
    events = await db.scalar(
        select(func.count()).select_from(CaseEvent).where(CaseEvent.region_id == w.region.id)
    )
    assert events == 2  # report + dispatch, once


async def test_an_explicit_unit_wins_over_the_sample_points_unit(inspections, w: World) -> None:
    case = await report_case(
        inspections, w.admin, sample_point_id=str(w.point.id), unit_id=str(w.other_unit.id)
    )
    assert case["status"] == "assigned" and case["unit_id"] == str(w.other_unit.id)


async def test_a_bad_case_is_refused_field_by_field_and_nothing_is_stored(
    inspections, w: World, db
) -> None:
    stranger = await make_world(db)
    retired = await make_sample_point(
        db,
        region=w.region,
        point_type=w.point_type,
        division=w.grid,
        unit=w.unit,
        status="retired",
    )
    body = {
        "id": str(uuid.uuid4()),
        "source": "expert",
        "description": "x",
        "severity": "normal",
        "sample_point_id": str(stranger.point.id),
        "category_id": str(uuid.uuid4()),
        "unit_id": str(stranger.unit.id),
        "division_id": str(stranger.grid.id),
        "photo_ids": [str(uuid.uuid4())],
        "reported_at": (datetime.now(UTC) + timedelta(hours=1)).isoformat(),
    }
    response = await inspections.post("/v1/cases", json=body, headers=auth(w.inspector))
    assert response.status_code == 422
    assert response.headers["content-type"].startswith("application/problem+json")
    locs = {tuple(e["loc"]) for e in response.json()["errors"]}
    assert locs == {
        ("body", "sample_point_id"),
        ("body", "category_id"),
        ("body", "unit_id"),
        ("body", "division_id"),
        ("body", "photo_ids", "0"),
        ("body", "reported_at"),
    }
    response = await inspections.post(
        "/v1/cases",
        json={**body, "sample_point_id": str(retired.id), "category_id": None, "unit_id": None}
        | {"division_id": None, "photo_ids": [], "reported_at": None},
        headers=auth(w.inspector),
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["msg"] == "the sample point is retired"
    response = await inspections.post(
        "/v1/cases",
        json={"id": str(uuid.uuid4()), "source": "gossip", "severity": "huge", "descripton": "x"},
        headers=auth(w.inspector),
    )
    assert response.status_code == 422
    assert {e["loc"][-1] for e in response.json()["errors"]} == {
        "source",
        "severity",
        "description",
        "descripton",
    }
    assert await count_rows(db, Case, region_id=w.region.id) == 0


async def test_report_photos_must_be_uploaded_first(inspections, w: World) -> None:
    photo = await upload_photo(inspections, w.inspector)
    case = await report_case(inspections, w.inspector, address="x", photo_ids=[str(photo)])
    assert case["photo_ids"] == [str(photo)]


# ---------------------------------------------------------------- GET /v1/cases


async def test_filters(inspections, w: World, db) -> None:
    other_street = await make_division(db, region=w.region, level="street")
    other_grid = await make_division(db, region=w.region, level="grid", parent=other_street)
    far_point = await make_sample_point(
        db, region=w.region, point_type=w.point_type, division=other_grid, unit=w.other_unit
    )
    long_ago = (datetime.now(UTC) - timedelta(days=40)).replace(microsecond=0)
    market = await report_case(
        inspections,
        w.inspector,
        sample_point_id=str(w.point.id),
        severity="urgent",
        source="woodpecker",
        reported_at=long_ago.isoformat(),
    )
    far = await report_case(inspections, w.inspector, sample_point_id=str(far_point.id))
    loose = await report_case(
        inspections, w.leader, source="leader", address="x", division_id=str(w.community.id)
    )
    # Five minutes after the market case's 24-hour deadline, it is overdue (and only it).
    with clock.travel_to(datetime.fromisoformat(market["due_at"]) + timedelta(minutes=5)):
        await _assert_filters(inspections, w, market, far, loose, other_street)


async def _assert_filters(inspections, w: World, market, far, loose, other_street) -> None:
    a = w.admin
    assert await ids(inspections, a) == [market["id"], far["id"], loose["id"]]
    assert await ids(inspections, a, status="reported") == [loose["id"]]
    assert await ids(inspections, a, status="assigned") == [market["id"], far["id"]]
    assert await ids(inspections, a, unit=str(w.other_unit.id)) == [far["id"]]
    assert await ids(inspections, a, sample_point=str(w.point.id)) == [market["id"]]
    assert await ids(inspections, a, division=str(w.street.id)) == [market["id"], loose["id"]]
    assert await ids(inspections, a, division=str(w.grid.id)) == [market["id"]]
    assert await ids(inspections, a, division=str(other_street.id)) == [far["id"]]
    assert await ids(inspections, a, source="leader") == [loose["id"]]
    assert await ids(inspections, a, severity="urgent") == [market["id"]]
    assert await ids(inspections, a, overdue="true") == [market["id"]]
    assert await ids(inspections, a, overdue="false") == [far["id"], loose["id"]]
    recent = (datetime.now(UTC) - timedelta(days=1)).isoformat()
    assert await ids(inspections, a, **{"from": recent}) == [far["id"], loose["id"]]
    assert await ids(inspections, a, to=recent) == [market["id"]]
    listed = (await inspections.get("/v1/cases", headers=auth(a))).json()["items"][0]
    assert listed["overdue"] is True
    # The unit's overdue list.
    assert await ids(inspections, w.unit_user, overdue="true") == [market["id"]]
    assert await ids(inspections, w.other_unit_user, overdue="true") == []


async def test_bad_filters_are_refused(inspections, w: World) -> None:
    for params in (
        {"status": "lost"},
        {"overdue": "maybe"},
        {"unit": "not-a-uuid"},
        {"from": "yesterday"},
        {"from": "2026-01-01T00:00:00"},
        {"limit": 0},
        {"limit": 501},
    ):
        response = await inspections.get("/v1/cases", params=params, headers=auth(w.admin))
        assert response.status_code == 422, params
    response = await inspections.get(
        "/v1/cases", params={"cursor": "garbage"}, headers=auth(w.admin)
    )
    assert response.status_code == 400


async def test_cursor_pagination_is_stable(inspections, w: World) -> None:
    base = datetime.now(UTC) - timedelta(hours=3)
    made = []
    for i in range(5):
        # two cases share a reported_at: the id breaks the tie
        at = base + timedelta(minutes=i // 2)
        made.append(
            await report_case(inspections, w.admin, address=f"#{i}", reported_at=at.isoformat())
        )
    expected = [c["id"] for c in sorted(made, key=lambda c: (c["reported_at"], c["id"]))]
    seen = await all_pages(inspections, "/v1/cases", headers=auth(w.admin), limit=2)
    assert [c["id"] for c in seen] == expected


async def test_get_one_case_has_an_etag(inspections, w: World) -> None:
    case = await report_case(inspections, w.admin, address="x")
    response = await inspections.get(f"/v1/cases/{case['id']}", headers=auth(w.admin))
    assert response.status_code == 200
    assert response.headers["ETag"] == f'"{case["version"]}"'
    assert (
        await inspections.get(f"/v1/cases/{uuid.uuid4()}", headers=auth(w.admin))
    ).status_code == 404
