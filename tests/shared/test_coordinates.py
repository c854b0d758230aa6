"""GCJ-02 and BD-09 positions come back to WGS-84 within a metre of published reference values.

The reference pairs are the worked examples published with the widely used
``coordtransform`` library (wandergis/coordtransform, test/app.js), for the
point (39.915 N, 116.404 E) in Beijing:

- wgs84togcj02(116.404, 39.915) = (116.41024449916938, 39.91640428150164)
- gcj02tobd09(116.404, 39.915)  = (116.41036949371029, 39.92133699351021)
- gcj02towgs84(116.404, 39.915) = (116.39775550083061, 39.91359571849836)

Distances are measured here with an independent haversine, not with the code
under test.
"""

from __future__ import annotations

import math

import pytest
from pydantic import ValidationError

from shared.coordinates import GeoPoint, to_wgs84


def metres_between(a: tuple[float, float], b: tuple[float, float]) -> float:
    (lat1, lon1), (lat2, lon2) = a, b
    p1, p2 = math.radians(lat1), math.radians(lat2)
    h = (
        math.sin((p2 - p1) / 2) ** 2
        + math.cos(p1) * math.cos(p2) * math.sin(math.radians(lon2 - lon1) / 2) ** 2
    )
    return 2 * 6_371_000 * math.asin(math.sqrt(h))


BEIJING_WGS84 = (39.915, 116.404)
BEIJING_AS_GCJ02 = (39.91640428150164, 116.41024449916938)
GCJ02_AS_BD09 = (39.92133699351021, 116.41036949371029)  # BD-09 of GCJ-02 (39.915, 116.404)
WGS84_OF_GCJ02 = (39.91359571849836, 116.39775550083061)  # WGS-84 of GCJ-02 (39.915, 116.404)


def test_a_gcj02_position_comes_back_to_its_wgs84_reference_within_a_metre():
    converted = to_wgs84(*BEIJING_AS_GCJ02, "gcj02")
    assert metres_between(converted, BEIJING_WGS84) < 1.0
    # …and the shift undone was real: the raw GCJ-02 position is hundreds of metres off.
    assert metres_between(BEIJING_AS_GCJ02, BEIJING_WGS84) > 400


def test_a_bd09_position_comes_back_to_its_wgs84_reference_within_a_metre():
    converted = to_wgs84(*GCJ02_AS_BD09, "bd09")
    assert metres_between(converted, WGS84_OF_GCJ02) < 1.0
    assert metres_between(GCJ02_AS_BD09, WGS84_OF_GCJ02) > 1000


def test_wgs84_is_left_as_it_is():
    assert to_wgs84(28.44, 118.2, "wgs84") == (28.44, 118.2)


def test_gcj02_outside_china_is_already_wgs84():
    tokyo = (35.6812, 139.7671)
    assert to_wgs84(*tokyo, "gcj02") == tokyo


def test_a_location_body_is_wgs84_once_parsed_and_stores_no_crs():
    point = GeoPoint.model_validate(
        {"lat": BEIJING_AS_GCJ02[0], "lon": BEIJING_AS_GCJ02[1], "crs": "gcj02"}
    )
    assert metres_between((point.lat, point.lon), BEIJING_WGS84) < 1.0
    dumped = point.model_dump()
    assert "crs" not in dumped
    # A stored (dumped) body parses back to the same position: never converted twice.
    again = GeoPoint.model_validate(dumped)
    assert (again.lat, again.lon) == (point.lat, point.lon)


def test_an_unknown_crs_is_refused():
    with pytest.raises(ValidationError):
        GeoPoint.model_validate({"lat": 28.44, "lon": 118.2, "crs": "cgcs2000"})
