"""Positions reported in GCJ-02 or BD-09 (as Chinese phone map SDKs give them) are stored in
WGS-84, and the off-site rule judges the converted position.

Reference values: the published worked example of the ``coordtransform`` library
(see tests/shared/test_coordinates.py): WGS-84 (39.915, 116.404) is GCJ-02
(39.91640428150164, 116.41024449916938); GCJ-02 (39.915, 116.404) is BD-09
(39.92133699351021, 116.41036949371029) and WGS-84 (39.91359571849836, 116.39775550083061).
"""

from __future__ import annotations

import uuid

from tests.factories import auth, inspection_body, make_sample_point, make_world
from tests.shared.test_coordinates import metres_between

TRUE_POSITION = (39.915, 116.404)
AS_GCJ02 = {"lat": 39.91640428150164, "lon": 116.41024449916938}
BD09 = {"lat": 39.92133699351021, "lon": 116.41036949371029}
WGS84_OF_BD09 = (39.91359571849836, 116.39775550083061)


async def _point_at_true_position(db, world):
    return await make_sample_point(
        db,
        region=world.region,
        point_type=world.point_type,
        division=world.grid,
        unit=world.unit,
        lat=TRUE_POSITION[0],
        lon=TRUE_POSITION[1],
    )


async def test_a_visit_reported_in_gcj02_from_the_point_itself_is_not_off_site(inspections, db):
    world = await make_world(db)
    point = await _point_at_true_position(db, world)
    body = inspection_body(
        world,
        sample_point_id=str(point.id),
        location={**AS_GCJ02, "crs": "gcj02", "accuracy_m": 5},
    )
    response = await inspections.post("/v1/inspections", json=body, headers=auth(world.inspector))
    assert response.status_code == 201, response.text
    stored = response.json()
    assert stored["off_site"] is False
    where = (stored["location"]["lat"], stored["location"]["lon"])
    assert metres_between(where, TRUE_POSITION) < 1.0
    assert "crs" not in stored["location"]  # answers are always WGS-84

    read = await inspections.get(f"/v1/inspections/{body['id']}", headers=auth(world.admin))
    assert (
        metres_between(
            (read.json()["location"]["lat"], read.json()["location"]["lon"]), TRUE_POSITION
        )
        < 1.0
    )

    # The same retry is still the same inspection (the conversion is part of the body).
    again = await inspections.post("/v1/inspections", json=body, headers=auth(world.inspector))
    assert again.status_code == 200, again.text


async def test_the_same_numbers_taken_as_wgs84_are_off_site(inspections, db):
    world = await make_world(db)
    point = await _point_at_true_position(db, world)
    body = inspection_body(world, sample_point_id=str(point.id), location=dict(AS_GCJ02))
    response = await inspections.post("/v1/inspections", json=body, headers=auth(world.inspector))
    assert response.status_code == 201, response.text
    assert response.json()["off_site"] is True


async def test_a_case_located_in_bd09_is_stored_in_wgs84(inspections, db):
    world = await make_world(db)
    body = {
        "id": str(uuid.uuid4()),
        "source": "expert",
        "description": "垃圾桶满溢",
        "severity": "normal",
        "location": {**BD09, "crs": "bd09"},
        "address": "东街口",
    }
    response = await inspections.post("/v1/cases", json=body, headers=auth(world.inspector))
    assert response.status_code == 201, response.text
    location = response.json()["location"]
    assert metres_between((location["lat"], location["lon"]), WGS84_OF_BD09) < 1.0


async def test_an_inspections_case_in_gcj02_is_stored_in_wgs84(inspections, db):
    world = await make_world(db)
    point = await _point_at_true_position(db, world)
    case_id = str(uuid.uuid4())
    body = inspection_body(
        world,
        sample_point_id=str(point.id),
        location={"lat": TRUE_POSITION[0], "lon": TRUE_POSITION[1]},
        cases=[
            {
                "id": case_id,
                "item_code": "M-02",
                "description": "摊外经营",
                "location": {**AS_GCJ02, "crs": "gcj02"},
            }
        ],
    )
    response = await inspections.post("/v1/inspections", json=body, headers=auth(world.inspector))
    assert response.status_code == 201, response.text
    case = await inspections.get(f"/v1/cases/{case_id}", headers=auth(world.admin))
    location = case.json()["location"]
    assert metres_between((location["lat"], location["lon"]), TRUE_POSITION) < 1.0


async def test_an_unknown_crs_is_a_422_naming_the_field(inspections, db):
    world = await make_world(db)
    body = inspection_body(world, location={"lat": 28.44, "lon": 118.2, "crs": "mars"})
    response = await inspections.post("/v1/inspections", json=body, headers=auth(world.inspector))
    assert response.status_code == 422
    assert response.headers["content-type"].startswith("application/problem+json")
    assert any(e["loc"][-1] == "crs" for e in response.json()["errors"])


async def test_an_imported_list_may_give_its_positions_in_gcj02(inspections, db):
    world = await make_world(db)
    text = (
        "address,lat,lon,crs,description,severity\n"
        f"东街口,{AS_GCJ02['lat']},{AS_GCJ02['lon']},gcj02,垃圾满溢,normal\n"
        f"西街口,{TRUE_POSITION[0]},{TRUE_POSITION[1]},,污水横流,normal\n"
    )
    files = {"file": ("cases.csv", text.encode(), "text/csv")}
    response = await inspections.post("/v1/cases/import", files=files, headers=auth(world.admin))
    assert response.status_code == 201, response.text
    for case_id in response.json()["case_ids"]:
        case = (await inspections.get(f"/v1/cases/{case_id}", headers=auth(world.admin))).json()
        where = (case["location"]["lat"], case["location"]["lon"])
        assert metres_between(where, TRUE_POSITION) < 1.0

    bad = "address,lat,lon,crs,description,severity\n东街口,39.9,116.4,mars,垃圾,normal\n"
    refused = await inspections.post(
        "/v1/cases/import",
        files={"file": ("cases.csv", bad.encode(), "text/csv")},
        headers=auth(world.admin),
    )
    assert refused.status_code == 422
    assert [(e["row"], e["loc"][-1]) for e in refused.json()["errors"]] == [(2, "crs")]
