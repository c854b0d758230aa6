"""Sample points: CRUD, scope, filters, the `near` search and delta sync."""

from __future__ import annotations

import math
import random
import uuid
from datetime import UTC, datetime

from sqlalchemy import select

from shared.models import SamplePoint
from tests.factories import (
    auth,
    make_division,
    make_person,
    make_point_type,
    make_region,
    make_sample_point,
    make_unit,
    make_world,
    service_headers,
)
from tests.paging import all_pages

EARTH_RADIUS_M = 6_371_008.8


def haversine_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(math.sqrt(a))


def destination(lat: float, lon: float, bearing_deg: float, distance_m: float):
    """The point ``distance_m`` from (lat, lon) along the great circle of that bearing."""
    p1, l1, b = math.radians(lat), math.radians(lon), math.radians(bearing_deg)
    d = distance_m / EARTH_RADIUS_M
    p2 = math.asin(math.sin(p1) * math.cos(d) + math.cos(p1) * math.sin(d) * math.cos(b))
    l2 = l1 + math.atan2(
        math.sin(b) * math.sin(d) * math.cos(p1), math.cos(d) - math.sin(p1) * math.sin(p2)
    )
    return math.degrees(p2), math.degrees(l2)


def _body(world, **overrides):
    return {
        "code": f"SP-{uuid.uuid4().hex[:8]}",
        "name": "西街小餐饮",
        "point_type_id": str(world.point_type.id),
        "division_id": str(world.grid.id),
        "address": "西街 8 号",
        "lat": 28.45,
        "lon": 118.21,
        "unit_id": str(world.unit.id),
        **overrides,
    }


async def _all_pages(registry, person, params, *, limit: int | None = None):
    return await all_pages(
        registry, "/v1/sample-points", headers=auth(person), params=params, limit=limit
    )


async def test_admin_creates_reads_updates_and_deletes_a_point(registry, db):
    world = await make_world(db)
    created = await registry.post("/v1/sample-points", json=_body(world), headers=auth(world.admin))
    assert created.status_code == 201, created.text
    point = created.json()
    assert point["status"] == "active" and point["version"] == 1 and point["deleted"] is False
    assert created.headers["ETag"] == '"1"'
    url = f"/v1/sample-points/{point['id']}"
    fetched = await registry.get(url, headers=auth(world.inspector))
    assert fetched.status_code == 200 and fetched.json()["lat"] == 28.45
    patched = await registry.patch(
        url, json={"status": "retired"}, headers={**auth(world.admin), "If-Match": '"1"'}
    )
    assert patched.status_code == 200, patched.text
    assert patched.json()["status"] == "retired" and patched.json()["version"] == 2
    assert patched.headers["ETag"] == '"2"'
    deleted = await registry.delete(url, headers={**auth(world.admin), "If-Match": '"2"'})
    assert deleted.status_code == 204
    assert (await registry.get(url, headers=auth(world.admin))).status_code == 404
    row = await db.scalar(select(SamplePoint).where(SamplePoint.id == uuid.UUID(point["id"])))
    assert row is not None and row.deleted_at is not None  # soft delete


async def test_stale_if_match_is_412_and_changes_nothing(registry, db):
    world = await make_world(db)
    url = f"/v1/sample-points/{world.point.id}"
    first = await registry.patch(
        url, json={"name": "新名字"}, headers={**auth(world.admin), "If-Match": '"1"'}
    )
    assert first.status_code == 200
    stale = await registry.patch(
        url, json={"name": "旧名字"}, headers={**auth(world.admin), "If-Match": '"1"'}
    )
    assert stale.status_code == 412
    assert stale.headers["content-type"].startswith("application/problem+json")
    assert (await registry.get(url, headers=auth(world.admin))).json()["name"] == "新名字"
    stale_delete = await registry.delete(url, headers={**auth(world.admin), "If-Match": '"1"'})
    assert stale_delete.status_code == 412
    assert (await registry.get(url, headers=auth(world.admin))).status_code == 200


async def test_bad_bodies_are_refused_with_the_field_named(registry, db):
    world = await make_world(db)
    other = await make_region(db)
    foreign_unit = await make_unit(db, region=other)
    cases = [
        ({"lat": 200}, ["body", "lat"]),
        ({"lon": -181}, ["body", "lon"]),
        ({"lat": "north"}, ["body", "lat"]),
        ({"colour": "red"}, ["body", "colour"]),
        ({"status": "closed"}, ["body", "status"]),
        ({"point_type_id": "not-a-uuid"}, ["body", "point_type_id"]),
        ({"unit_id": str(foreign_unit.id)}, ["body", "unit_id"]),
        ({"division_id": str(uuid.uuid4())}, ["body", "division_id"]),
        ({"point_type_id": str(uuid.uuid4())}, ["body", "point_type_id"]),
    ]
    for overrides, loc in cases:
        body = _body(world, code="BAD-1", **overrides)
        response = await registry.post("/v1/sample-points", json=body, headers=auth(world.admin))
        assert response.status_code == 422, (overrides, response.text)
        assert loc in [e["loc"] for e in response.json()["errors"]], response.json()
    missing = _body(world, code="BAD-1")
    del missing["name"]
    response = await registry.post("/v1/sample-points", json=missing, headers=auth(world.admin))
    assert response.status_code == 422
    exists = await db.scalar(
        select(SamplePoint.id).where(
            SamplePoint.region_id == world.region.id, SamplePoint.code == "BAD-1"
        )
    )
    assert exists is None
    url = f"/v1/sample-points/{world.point.id}"
    for patch in ({"lat": 200}, {"name": None}, {"unit_id": str(foreign_unit.id)}, {"x": 1}):
        response = await registry.patch(url, json=patch, headers=auth(world.admin))
        assert response.status_code == 422, patch
    after = (await registry.get(url, headers=auth(world.admin))).json()
    assert after["version"] == 1 and after["lat"] == world.point.lat


async def test_duplicate_code_is_a_conflict(registry, db):
    world = await make_world(db)
    body = _body(world, code=world.point.code)
    response = await registry.post("/v1/sample-points", json=body, headers=auth(world.admin))
    assert response.status_code == 409


async def test_only_admins_write(registry, db):
    world = await make_world(db)
    url = f"/v1/sample-points/{world.point.id}"
    for person in (world.inspector, world.leader, world.unit_user):
        headers = auth(person)
        assert (
            await registry.post("/v1/sample-points", json=_body(world), headers=headers)
        ).status_code == 403
        assert (await registry.patch(url, json={"name": "x"}, headers=headers)).status_code == 403
        assert (await registry.delete(url, headers=headers)).status_code == 403
    assert (await registry.get("/v1/sample-points")).status_code == 401
    assert (
        await registry.get("/v1/sample-points", headers={"Authorization": "Bearer x.y.z"})
    ).status_code == 401


async def test_unit_accounts_see_only_their_units_points(registry, db):
    world = await make_world(db)
    theirs = await make_sample_point(
        db,
        region=world.region,
        point_type=world.point_type,
        division=world.grid,
        unit=world.other_unit,
    )
    mine = await _all_pages(registry, world.unit_user, {})
    assert [p["id"] for p in mine] == [str(world.point.id)]
    response = await registry.get(f"/v1/sample-points/{theirs.id}", headers=auth(world.unit_user))
    assert response.status_code == 404
    other = await _all_pages(registry, world.other_unit_user, {"unit": str(world.unit.id)})
    assert other == []
    everything = await _all_pages(registry, world.leader, {})
    assert {p["id"] for p in everything} == {str(world.point.id), str(theirs.id)}


async def test_other_regions_points_are_invisible_even_by_id(registry, db):
    world = await make_world(db)
    stranger = await make_person(db, region=await make_region(db), role="admin")
    url = f"/v1/sample-points/{world.point.id}"
    response = await registry.get(url, headers=auth(stranger))
    assert response.status_code == 404 and world.point.code not in response.text
    assert (
        await registry.patch(url, json={"name": "x"}, headers=auth(stranger))
    ).status_code == 404
    assert (await registry.delete(url, headers=auth(stranger))).status_code == 404
    assert await _all_pages(registry, stranger, {}) == []
    near = await _all_pages(
        registry, stranger, {"near": f"{world.point.lat},{world.point.lon}", "radius_m": 5000}
    )
    assert near == []


async def test_filters_by_type_unit_status_text_and_division_subtree(registry, db):
    world = await make_world(db)
    region = world.region
    other_street = await make_division(db, region=region, level="street")
    other_grid = await make_division(
        db,
        region=region,
        level="grid",
        parent=await make_division(db, region=region, level="community", parent=other_street),
    )
    sibling_grid = await make_division(db, region=region, level="grid", parent=world.community)
    other_type, _ = await make_point_type(db, region=region, name="建筑工地")
    in_sibling = await make_sample_point(
        db,
        region=region,
        point_type=other_type,
        division=sibling_grid,
        unit=world.other_unit,
        name="百货 50%_折扣",
        address="南门路 3 号",
    )
    elsewhere = await make_sample_point(
        db,
        region=region,
        point_type=world.point_type,
        division=other_grid,
        unit=world.unit,
        status="retired",
    )

    async def ids(**params):
        return {p["id"] for p in await _all_pages(registry, world.inspector, params)}

    point, sib, far = str(world.point.id), str(in_sibling.id), str(elsewhere.id)
    assert await ids(division=str(world.street.id)) == {point, sib}
    assert await ids(division=str(world.community.id)) == {point, sib}
    assert await ids(division=str(world.grid.id)) == {point}
    assert await ids(division=str(other_street.id)) == {far}
    assert await ids(division=str(uuid.uuid4())) == set()
    assert await ids(type=str(other_type.id)) == {sib}
    assert await ids(unit=str(world.other_unit.id)) == {sib}
    assert await ids(status="retired") == {far}
    assert await ids(status="active") == {point, sib}
    assert await ids(q="50%_") == {sib}
    assert await ids(q="50%x") == set()
    assert await ids(q="南门") == {sib}
    assert await ids(q=in_sibling.code.lower()) == {sib}
    bad = await registry.get(
        "/v1/sample-points", params={"status": "gone"}, headers=auth(world.admin)
    )
    assert bad.status_code == 422


async def _points_at(db, world, places):
    points = []
    for lat, lon in places:
        points.append(
            await make_sample_point(
                db,
                region=world.region,
                point_type=world.point_type,
                division=world.grid,
                unit=world.unit,
                lat=lat,
                lon=lon,
            )
        )
    return points


async def test_near_orders_by_true_distance_within_the_radius(registry, db):
    world = await make_world(db)
    rng = random.Random(7)
    centre_lat, centre_lon = 28.44, 118.20
    places = [
        (centre_lat + rng.uniform(-0.03, 0.03), centre_lon + rng.uniform(-0.03, 0.03))
        for _ in range(60)
    ]
    points = [world.point, *await _points_at(db, world, places)]  # world.point: distance 0
    by_distance = sorted(points, key=lambda p: haversine_m(centre_lat, centre_lon, p.lat, p.lon))
    retired = by_distance[1]
    await registry.patch(
        f"/v1/sample-points/{retired.id}", json={"status": "retired"}, headers=auth(world.admin)
    )
    gone = by_distance[2]
    await registry.delete(f"/v1/sample-points/{gone.id}", headers=auth(world.admin))
    radius = 2000
    expected = sorted(
        (haversine_m(centre_lat, centre_lon, p.lat, p.lon), str(p.id))
        for p in points
        if p is not gone and haversine_m(centre_lat, centre_lon, p.lat, p.lon) <= radius
    )
    assert 5 < len(expected) < 60
    got = await _all_pages(
        registry,
        world.inspector,
        {"near": f"{centre_lat},{centre_lon}", "radius_m": radius},
        limit=4,
    )
    assert [p["id"] for p in got] == [pid for _, pid in expected]
    for item, (distance, _) in zip(got, expected, strict=True):
        assert math.isclose(item["distance_m"], distance, rel_tol=1e-9, abs_tol=1e-6)
    assert got[0]["id"] == str(world.point.id) and got[0]["distance_m"] < 1e-6
    assert str(retired.id) in {p["id"] for p in got}  # retired points are still found
    active_only = await _all_pages(
        registry,
        world.inspector,
        {"near": f"{centre_lat},{centre_lon}", "radius_m": radius, "status": "active"},
    )
    assert str(retired.id) not in {p["id"] for p in active_only}


async def test_near_is_exact_where_the_planar_index_is_most_sheared(registry, db):
    """Far from lon 0 the old sheared plane misjudged north–south vs east–west (a guard)."""
    world = await make_world(db)
    lat, lon = 45.0, 170.0
    # Equal true distances would be very unequal on the plane; check strict true order.
    north, east, north_east = await _points_at(
        db, world, [(lat + 0.0090, lon), (lat, lon + 0.0120), (lat + 0.0060, lon + 0.0060)]
    )
    candidates = [north, east, north_east]
    expected = sorted(candidates, key=lambda p: haversine_m(lat, lon, p.lat, p.lon))
    got = await _all_pages(
        registry, world.inspector, {"near": f"{lat},{lon}", "radius_m": 1100}, limit=1
    )
    assert [p["id"] for p in got] == [
        str(p.id) for p in expected if haversine_m(lat, lon, p.lat, p.lon) <= 1100
    ]


def _expected(points, lat, lon, radius):
    """(distance, id) of the points within the radius, in the order `near` must answer."""
    within = ((haversine_m(lat, lon, p.lat, p.lon), str(p.id)) for p in points)
    return sorted(e for e in within if e[0] <= radius)


async def test_near_radius_edge_in_every_direction_at_high_latitude(registry, db):
    """At 53.5°N (Mohe) with the largest radius the map's scale changes by ≈1 % across the
    circle: points a metre inside the edge are found in every direction, outside never."""
    world = await make_world(db)
    lat, lon, radius = 53.5, 122.3, 50_000
    # 1–8 m inside and outside, a metre apart by bearing so that the order is clear.
    places = [
        destination(lat, lon, 45 * k, radius + sign * (1 + k)) for k in range(8) for sign in (-1, 1)
    ]
    points = await _points_at(db, world, places)
    expected = _expected(points, lat, lon, radius)
    assert len(expected) == 8
    got = await _all_pages(
        registry, world.inspector, {"near": f"{lat},{lon}", "radius_m": radius}, limit=3
    )
    assert [p["id"] for p in got] == [pid for _, pid in expected]


async def test_near_ranks_a_magnified_north_before_nearer_looking_south(registry, db):
    """At 60°N the plane stretches the north: a point 10,000 m north lies farther on the
    plane than points 10,005–10,040 m south, so the planar-nearest rows are not the
    nearest; the true order must still come out, page by page."""
    world = await make_world(db)
    lat, lon, radius = 60.0, 120.0, 20_000
    places = [destination(lat, lon, 0, 10_000)]
    places += [destination(lat, lon, 180, 10_000 + 5 * k) for k in range(1, 9)]
    points = await _points_at(db, world, places)
    expected = _expected(points, lat, lon, radius)
    assert expected[0][1] == str(points[0].id)
    for limit in (1, 2, 5, None):
        got = await _all_pages(
            registry, world.inspector, {"near": f"{lat},{lon}", "radius_m": radius}, limit=limit
        )
        assert [p["id"] for p in got] == [pid for _, pid in expected], limit


async def test_near_breaks_ties_by_id_across_pages(registry, db):
    """Seven points on one spot (a market's stalls): equal distances are ordered by id and
    a page boundary through them neither repeats nor drops one."""
    world = await make_world(db)
    lat, lon = 28.44, 118.20
    spot = destination(lat, lon, 30, 700)
    places = [spot] * 7 + [destination(lat, lon, 200, 300), destination(lat, lon, 90, 1500)]
    points = [world.point, *await _points_at(db, world, places)]  # world.point: at (lat, lon)
    expected = _expected(points, lat, lon, 2000)
    for limit in (2, 3, 4):
        got = await _all_pages(
            registry, world.inspector, {"near": f"{lat},{lon}", "radius_m": 2000}, limit=limit
        )
        assert [p["id"] for p in got] == [pid for _, pid in expected], limit
    tied = [p["distance_m"] for p in got[2:9]]
    assert len(set(tied)) == 1 and math.isclose(tied[0], 700, rel_tol=1e-9)


async def test_near_next_to_a_pole_ranks_the_whole_region(registry, db):
    """Where the map has no bound (within 0.5° of a pole) `near` is slow but still right."""
    world = await make_world(db)
    places = [(89.99, 0.0), (89.995, 170.0), (89.97, -90.0), (89.0, 0.0)]
    points = await _points_at(db, world, places)
    for lat, lon in ((90.0, 0.0), (89.99, 45.0)):
        expected = _expected(points, lat, lon, 5000)
        assert len(expected) == 3
        got = await _all_pages(
            registry, world.inspector, {"near": f"{lat},{lon}", "radius_m": 5000}, limit=2
        )
        assert [p["id"] for p in got] == [pid for _, pid in expected]


async def test_bad_near_parameters(registry, db):
    world = await make_world(db)
    headers = auth(world.inspector)
    for params in (
        {"near": "28.4"},
        {"near": "200,118"},
        {"near": "a,b"},
        {"near": "28.4,118.2", "radius_m": 0},
        {"near": "28.4,118.2", "radius_m": 1e9},
        {"near": "28.4,118.2", "updated_since": datetime.now(UTC).isoformat()},
    ):
        response = await registry.get("/v1/sample-points", params=params, headers=headers)
        assert response.status_code == 422, params
    response = await registry.get(
        "/v1/sample-points", params={"near": "28.4,118.2", "cursor": "e30"}, headers=headers
    )
    assert response.status_code == 400


async def test_delta_sync_returns_deleted_points_as_tombstones(registry, db):
    world = await make_world(db)
    since = datetime.now(UTC)
    created = (
        await registry.post("/v1/sample-points", json=_body(world), headers=auth(world.admin))
    ).json()
    retired = await make_sample_point(
        db, region=world.region, point_type=world.point_type, division=world.grid, unit=world.unit
    )
    await registry.patch(
        f"/v1/sample-points/{retired.id}", json={"status": "retired"}, headers=auth(world.admin)
    )
    await registry.delete(f"/v1/sample-points/{created['id']}", headers=auth(world.admin))
    changes = await _all_pages(
        registry, world.inspector, {"updated_since": since.isoformat()}, limit=1
    )
    by_id = {p["id"]: p for p in changes}
    assert set(by_id) == {created["id"], str(retired.id)}
    assert by_id[created["id"]]["deleted"] is True
    assert by_id[str(retired.id)]["deleted"] is False
    assert by_id[str(retired.id)]["status"] == "retired"
    stamps = [p["updated_at"] for p in changes]
    assert stamps == sorted(stamps)
    live = await _all_pages(registry, world.inspector, {})
    assert created["id"] not in {p["id"] for p in live}


async def test_default_list_is_paged_by_code_without_gaps(registry, db):
    world = await make_world(db)
    for index in range(7):
        await make_sample_point(
            db,
            region=world.region,
            point_type=world.point_type,
            division=world.grid,
            unit=world.unit,
            code=f"P-{index:02d}",
        )
    pages = await _all_pages(registry, world.leader, {}, limit=3)
    codes = [p["code"] for p in pages]
    assert codes == sorted(codes) and len(codes) == len(set(codes)) == 8
    over = await registry.get(
        "/v1/sample-points", params={"limit": 501}, headers=auth(world.leader)
    )
    assert over.status_code == 422


async def test_service_callers_read_points_only_internally_and_in_the_named_region(registry, db):
    world = await make_world(db)
    public = await registry.get(
        f"/v1/sample-points/{world.point.id}", headers=service_headers(world.region.id)
    )
    assert public.status_code == 403  # the service token opens /v1/internal/ only
    internal = f"/v1/internal/sample-points/{world.point.id}/context"
    response = await registry.get(internal, headers=service_headers(world.region.id))
    assert response.status_code == 200
    other = await make_region(db)
    response = await registry.get(internal, headers=service_headers(other.id))
    assert response.status_code == 404
