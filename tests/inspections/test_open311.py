"""Citizens' reports through Open311 GeoReport v2 (SPEC §12), against the real app and database.

(The e2e test tests/e2e/test_open311_e2e.py drives a running service with the
off-the-shelf ``georeport`` client.)
"""

from __future__ import annotations

import asyncio
import hashlib
import uuid
import xml.etree.ElementTree as ET
from datetime import datetime
from typing import Any

from sqlalchemy import func, select

from shared.models import Case, Open311ApiKey, Open311Request, Photo
from tests.factories import (
    auth,
    jpeg_bytes,
    make_point_type,
    make_world,
    upload_photo,
)
from tests.shared.test_coordinates import metres_between

MARKET = (28.4400, 118.2000)
METRES_PER_DEGREE_LAT = 6_371_000 * 3.141592653589793 / 180  # on the 6 371 km sphere


def north_of(position: tuple[float, float], metres: float) -> tuple[float, float]:
    return position[0] + metres / METRES_PER_DEGREE_LAT, position[1]


async def issue_key(client, admin, name: str = "WeChat mini-program") -> str:
    response = await client.post("/v1/open311/api-keys", json={"name": name}, headers=auth(admin))
    assert response.status_code == 201, response.text
    return response.json()["api_key"]


def report_form(key: str, service_code: str, **fields: Any) -> dict[str, str]:
    lat, lon = fields.pop("at", MARKET)
    return {
        "api_key": key,
        "service_code": service_code,
        "lat": str(lat),
        "long": str(lon),
        "description": "市场门口垃圾满溢，无人清理",
        **{name: str(value) for name, value in fields.items()},
    }


async def post_report(client, key: str, service_code: str, **fields: Any) -> str:
    headers = fields.pop("headers", {})
    response = await client.post(
        "/open311/v2/requests.json", data=report_form(key, service_code, **fields), headers=headers
    )
    assert response.status_code == 201, response.text
    return response.json()[0]["service_request_id"]


async def count_cases(db, region_id) -> int:
    return await db.scalar(
        select(func.count()).select_from(Case).where(Case.region_id == region_id)
    )


def open311_errors(response) -> list[dict[str, Any]]:
    """The standard's error list, from JSON or XML."""
    if response.headers["content-type"].startswith("text/xml"):
        root = ET.fromstring(response.content)
        assert root.tag == "errors"
        return [
            {"code": int(e.findtext("code")), "description": e.findtext("description")}
            for e in root.findall("error")
        ]
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert isinstance(body, list) and all(set(e) == {"code", "description"} for e in body)
    return body


# ---------------------------------------------------------------- API keys


async def test_an_admin_issues_lists_and_revokes_keys_that_are_stored_hashed(inspections, db):
    world = await make_world(db)
    created = await inspections.post(
        "/v1/open311/api-keys", json={"name": "12345 hotline"}, headers=auth(world.admin)
    )
    assert created.status_code == 201, created.text
    secret = created.json()["api_key"]
    key_id = created.json()["id"]
    assert secret.startswith(created.json()["key_prefix"])

    row = await db.scalar(select(Open311ApiKey).where(Open311ApiKey.id == uuid.UUID(key_id)))
    assert row.key_hash == hashlib.sha256(secret.encode()).hexdigest()
    assert secret not in {row.name, row.key_prefix, row.key_hash}
    assert row.region_id == world.region.id

    listed = await inspections.get("/v1/open311/api-keys", headers=auth(world.admin))
    assert listed.status_code == 200
    assert [k["id"] for k in listed.json()["items"]] == [key_id]
    assert "api_key" not in listed.json()["items"][0]

    ok = await inspections.get("/open311/v2/services.json", params={"api_key": secret})
    assert ok.status_code == 200

    revoked = await inspections.post(
        f"/v1/open311/api-keys/{key_id}/revoke", headers=auth(world.admin)
    )
    assert revoked.status_code == 200 and revoked.json()["revoked_at"] is not None
    refused = await inspections.get("/open311/v2/services.json", params={"api_key": secret})
    assert refused.status_code == 401
    assert open311_errors(refused)[0]["code"] == 401


async def test_only_the_regions_admin_manages_its_keys(inspections, db):
    world = await make_world(db)
    other = await make_world(db)
    key_id = (
        await inspections.post(
            "/v1/open311/api-keys", json={"name": "x"}, headers=auth(world.admin)
        )
    ).json()["id"]
    for person in (world.inspector, world.leader, world.unit_user):
        response = await inspections.post(
            "/v1/open311/api-keys", json={"name": "x"}, headers=auth(person)
        )
        assert response.status_code == 403
        assert response.headers["content-type"].startswith("application/problem+json")
    assert (await inspections.get("/v1/open311/api-keys")).status_code == 401
    elsewhere = await inspections.post(
        f"/v1/open311/api-keys/{key_id}/revoke", headers=auth(other.admin)
    )
    assert elsewhere.status_code == 404
    assert (await inspections.get("/v1/open311/api-keys", headers=auth(other.admin))).json()[
        "items"
    ] == []
    bad = await inspections.post(
        "/v1/open311/api-keys", json={"name": "x", "region": "y"}, headers=auth(world.admin)
    )
    assert bad.status_code == 422  # /v1 keeps problem details
    assert bad.headers["content-type"].startswith("application/problem+json")


# ---------------------------------------------------------------- services


async def test_services_are_the_point_types_grouped_by_their_category(inspections, db):
    world = await make_world(db)
    response = await inspections.get(
        "/open311/v2/services.json", params={"jurisdiction_id": world.region.code}
    )
    assert response.status_code == 200, response.text
    [market] = response.json()
    assert market["service_code"] == world.point_type.code
    assert market["service_name"] == "农贸市场"
    assert market["group"] == "重点场所卫生"  # the 2014 standard's fifth section
    assert market["metadata"] is True and market["type"] == "realtime"

    definition = await inspections.get(
        f"/open311/v2/services/{world.point_type.code}.json",
        params={"jurisdiction_id": world.region.code},
    )
    [attribute] = definition.json()["attributes"]
    assert attribute["code"] == "item" and attribute["required"] is False
    assert attribute["datatype"] == "singlevaluelist"
    assert [v["key"] for v in attribute["values"]] == [i["code"] for i in world.checklist.items]

    missing = await inspections.get(
        "/open311/v2/services/NOPE.json", params={"jurisdiction_id": world.region.code}
    )
    assert missing.status_code == 404 and open311_errors(missing)[0]["code"] == 404


def _xml_items(root: ET.Element) -> list[dict[str, str | None]]:
    return [{child.tag: child.text for child in item} for item in root]


def _as_text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


async def test_xml_answers_are_well_formed_and_carry_the_same_data_as_json(inspections, db):
    world = await make_world(db)
    key = await issue_key(inspections, world.admin)
    code = world.point_type.code
    await post_report(inspections, key, code, media_url="https://img.example/1.jpg")
    await post_report(inspections, key, code, description="鱼摊污水横流 & <积水>")

    for path, root_tag in (
        ("/open311/v2/services", "services"),
        ("/open311/v2/requests", "service_requests"),
    ):
        as_json = (await inspections.get(f"{path}.json", params={"api_key": key})).json()
        as_xml = await inspections.get(f"{path}.xml", params={"api_key": key})
        assert as_xml.status_code == 200
        assert as_xml.headers["content-type"].startswith("text/xml")
        root = ET.fromstring(as_xml.content)  # raises if not well-formed
        assert root.tag == root_tag
        assert len(as_json) == len(root) > 0
        assert _xml_items(root) == [
            {name: _as_text(value) for name, value in item.items()} for item in as_json
        ]

    definition_json = (
        await inspections.get(f"/open311/v2/services/{code}.json", params={"api_key": key})
    ).json()
    definition_xml = ET.fromstring(
        (await inspections.get(f"/open311/v2/services/{code}.xml", params={"api_key": key})).content
    )
    assert definition_xml.tag == "service_definition"
    assert definition_xml.findtext("service_code") == definition_json["service_code"]
    xml_values = [
        (v.findtext("key"), v.findtext("name"))
        for v in definition_xml.find("attributes").find("attribute").find("values")
    ]
    assert xml_values == [(v["key"], v["name"]) for v in definition_json["attributes"][0]["values"]]

    posted = await inspections.post("/open311/v2/requests.xml", data=report_form(key, code))
    assert posted.status_code == 201
    request = ET.fromstring(posted.content).find("request")
    assert uuid.UUID(request.findtext("service_request_id"))


# ---------------------------------------------------------------- posting


async def test_a_posted_report_becomes_a_citizen_case_awaiting_triage(inspections, db):
    world = await make_world(db)
    key = await issue_key(inspections, world.admin)
    request_id = await post_report(
        inspections,
        key,
        world.point_type.code,
        **{
            "attribute[item]": "M-02",
            "media_url": "https://img.example/stall.jpg",
            "email": "citizen@example.cn",
            "first_name": "小明",
            "address_string": "东街农贸市场南门",
        },
    )
    case = await inspections.get(f"/v1/cases/{request_id}", headers=auth(world.admin))
    assert case.status_code == 200, case.text
    body = case.json()
    assert body["source"] == "citizen" and body["status"] == "reported"
    assert body["point_type_id"] == str(world.point_type.id)
    assert body["category_id"] == str(world.point_type.category_id)
    assert body["item_code"] == "M-02"
    assert body["unit_id"] is None and body["due_at"] is None
    assert (body["location"]["lat"], body["location"]["lon"]) == MARKET
    assert body["address"] == "东街农贸市场南门"
    # Units see only what is dispatched to them; a triage-pending report is nobody's yet.
    unit_view = await inspections.get(f"/v1/cases/{request_id}", headers=auth(world.unit_user))
    assert unit_view.status_code == 404

    [shown] = (
        await inspections.get(f"/open311/v2/requests/{request_id}.json", params={"api_key": key})
    ).json()
    assert shown["status"] == "open"
    assert shown["media_url"] == "https://img.example/stall.jpg"
    assert shown["agency_responsible"] is None and shown["expected_datetime"] is None
    assert "citizen@example.cn" not in str(shown) and "小明" not in str(shown)
    stored = await db.scalar(
        select(Open311Request).where(Open311Request.case_id == uuid.UUID(request_id))
    )
    assert stored.contact == {"email": "citizen@example.cn", "first_name": "小明"}


async def test_status_follows_the_case_and_closed_carries_the_rectification_notes(inspections, db):
    world = await make_world(db)
    key = await issue_key(inspections, world.admin)
    request_id = await post_report(inspections, key, world.point_type.code)

    async def act(person, action: str, **fields: Any) -> dict[str, Any]:
        current = (await inspections.get(f"/v1/cases/{request_id}", headers=auth(person))).json()
        response = await inspections.post(
            f"/v1/cases/{request_id}/actions",
            json={"action": action, **fields},
            headers={**auth(person), "If-Match": f'"{current["version"]}"'},
        )
        assert response.status_code == 200, response.text
        return response.json()

    async def shown() -> dict[str, Any]:
        response = await inspections.get(
            f"/open311/v2/requests/{request_id}.json", params={"api_key": key}
        )
        assert response.status_code == 200, response.text
        return response.json()[0]

    dispatched = await act(world.admin, "dispatch", unit_id=str(world.unit.id))
    assigned = await shown()
    assert assigned["status"] == "open"
    assert assigned["agency_responsible"] == "东街市场管理处"
    assert assigned["expected_datetime"] is not None
    assert datetime.fromisoformat(assigned["expected_datetime"]) == datetime.fromisoformat(
        dispatched["due_at"]
    )

    photo = await upload_photo(inspections, world.unit_user)
    await act(world.unit_user, "rectify", note="已清运垃圾并加装带盖垃圾桶", photo_ids=[str(photo)])
    assert (await shown())["status"] == "open"
    await act(world.inspector, "verify", note="现场核查合格")
    closed = await shown()
    assert closed["status"] == "closed"
    assert "已清运垃圾并加装带盖垃圾桶" in closed["status_notes"]
    assert "现场核查合格" in closed["status_notes"]

    only_closed = await inspections.get(
        "/open311/v2/requests.json", params={"api_key": key, "status": "closed"}
    )
    assert [r["service_request_id"] for r in only_closed.json()] == [request_id]
    only_open = await inspections.get(
        "/open311/v2/requests.json", params={"api_key": key, "status": "open"}
    )
    assert only_open.json() == []


async def test_a_report_marked_duplicate_is_closed_for_the_citizen(inspections, db):
    world = await make_world(db)
    key = await issue_key(inspections, world.admin)
    first = await post_report(inspections, key, world.point_type.code)
    second = await post_report(inspections, key, world.point_type.code)
    case = (await inspections.get(f"/v1/cases/{second}", headers=auth(world.admin))).json()
    assert case["duplicate_candidates"] == [first]
    response = await inspections.post(
        f"/v1/cases/{second}/actions",
        json={"action": "mark_duplicate", "duplicate_of": first},
        headers={**auth(world.admin), "If-Match": f'"{case["version"]}"'},
    )
    assert response.status_code == 200, response.text
    [shown] = (
        await inspections.get(f"/open311/v2/requests/{second}.json", params={"api_key": key})
    ).json()
    assert shown["status"] == "closed" and "Duplicate" in shown["status_notes"]


async def test_a_retried_post_with_the_same_idempotency_key_creates_one_case(inspections, db):
    world = await make_world(db)
    key = await issue_key(inspections, world.admin)
    form = report_form(key, world.point_type.code)
    headers = {"Idempotency-Key": "wx-7f3a-0001"}
    first = await inspections.post("/open311/v2/requests.json", data=form, headers=headers)
    again = await inspections.post("/open311/v2/requests.json", data=form, headers=headers)
    assert first.status_code == 201 and again.status_code == 200
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.json() == first.json()
    assert await count_cases(db, world.region.id) == 1

    other = await inspections.post(
        "/open311/v2/requests.json",
        data={**form, "description": "另一件事"},
        headers=headers,
    )
    assert other.status_code == 409 and open311_errors(other)[0]["code"] == 409
    assert await count_cases(db, world.region.id) == 1

    # Two retries at the same moment (the phone's network hiccup) still make one case.
    racing = {"Idempotency-Key": "wx-7f3a-0002"}
    answers = await asyncio.gather(
        *[
            inspections.post("/open311/v2/requests.json", data=form, headers=racing)
            for _ in range(4)
        ]
    )
    assert sorted(a.status_code for a in answers) == [200, 200, 200, 201]
    assert len({a.json()[0]["service_request_id"] for a in answers}) == 1
    assert await count_cases(db, world.region.id) == 2


async def test_a_burst_over_the_keys_rate_limit_gets_429_and_other_keys_go_on(
    inspections_app, inspections, db
):
    world = await make_world(db)
    key = await issue_key(inspections, world.admin)
    other_key = await issue_key(inspections, world.admin, name="12345 hotline")
    allowed = inspections_app.state.settings.open311_rate_limit
    per_minute = int(allowed.split("/")[0])
    statuses = [
        (await inspections.get("/open311/v2/services.json", params={"api_key": key})).status_code
        for _ in range(per_minute + 1)
    ]
    assert statuses[:per_minute] == [200] * per_minute
    refused = await inspections.get("/open311/v2/services.xml", params={"api_key": key})
    assert refused.status_code == 429
    assert int(refused.headers["Retry-After"]) >= 1
    assert open311_errors(refused)[0]["code"] == 429
    assert (
        await inspections.get("/open311/v2/services.json", params={"api_key": other_key})
    ).status_code == 200


async def test_wrong_missing_or_foreign_keys_are_refused_in_open311s_format(inspections, db):
    world = await make_world(db)
    other = await make_world(db)
    key = await issue_key(inspections, world.admin)
    code = world.point_type.code

    no_key = report_form(key, code)
    del no_key["api_key"]
    cases = [
        (no_key, 401),
        (report_form("cw311_not-a-real-key", code), 401),
        ({**report_form(key, code), "jurisdiction_id": other.region.code}, 403),
    ]
    for form, expected in cases:
        for fmt in ("json", "xml"):
            response = await inspections.post(f"/open311/v2/requests.{fmt}", data=form)
            assert response.status_code == expected, response.text
            assert open311_errors(response)[0]["code"] == expected
    assert await count_cases(db, world.region.id) == 0

    keyless = await inspections.get("/open311/v2/requests.json")
    assert keyless.status_code == 400
    assert "jurisdiction_id" in open311_errors(keyless)[0]["description"]
    unknown = await inspections.get(
        "/open311/v2/requests.json", params={"jurisdiction_id": "no-such-region"}
    )
    assert unknown.status_code == 404


async def test_bad_reports_get_400_listing_each_problem_and_create_nothing(inspections, db):
    world = await make_world(db)
    key = await issue_key(inspections, world.admin)
    code = world.point_type.code
    no_service = report_form(key, code)
    del no_service["service_code"]
    bad = [
        (no_service, "service_code"),
        (report_form(key, "NO-SUCH-SERVICE"), "service_code"),
        (report_form(key, code, at=("28.44", "north")), "long"),
        (report_form(key, code, at=(95, 118.2)), "lat"),
        ({**report_form(key, code), "lat": ""}, "lat"),
        (report_form(key, code, crs="mars"), "crs"),
        (report_form(key, code, media_url="javascript:alert(1)"), "media_url"),
        (report_form(key, code, description="a\x00b"), "description"),
        (report_form(key, code, description="x" * 4001), "description"),
        (report_form(key, code, **{"attribute[item]": "Z-99"}), "attribute[item]"),
        (report_form(key, code, **{"attribute[colour]": "red"}), "attribute[colour]"),
        (report_form(key, code, severity="urgent"), "severity"),
    ]
    for form, field in bad:
        response = await inspections.post("/open311/v2/requests.json", data=form)
        assert response.status_code == 400, (field, response.text)
        errors = open311_errors(response)
        assert any(e["description"].startswith(field) for e in errors), (field, errors)
        assert all(e["code"] == 400 for e in errors)

    as_json = await inspections.post("/open311/v2/requests.json", json=report_form(key, code))
    assert as_json.status_code == 400 and "form" in open311_errors(as_json)[0]["description"]
    wrong_header = await inspections.post(
        "/open311/v2/requests.json",
        data=report_form(key, code),
        headers={"Idempotency-Key": "x" * 201},
    )
    assert wrong_header.status_code == 400
    assert await count_cases(db, world.region.id) == 0


async def test_unknown_open311_paths_and_formats_answer_in_open311s_format(inspections, db):
    world = await make_world(db)
    params = {"jurisdiction_id": world.region.code}
    missing = await inspections.get("/open311/v2/discovery.xml", params=params)
    assert missing.status_code == 404 and open311_errors(missing)[0]["code"] == 404
    html = await inspections.get("/open311/v2/services.html", params=params)
    assert html.status_code == 400 and open311_errors(html)
    no_such_request = await inspections.get(
        f"/open311/v2/requests/{uuid.uuid4()}.json", params=params
    )
    assert no_such_request.status_code == 404
    not_an_id = await inspections.get("/open311/v2/requests/abc.json", params=params)
    assert not_an_id.status_code == 404


async def test_another_regions_reports_are_never_listed(inspections, db):
    world = await make_world(db)
    other = await make_world(db)
    key = await issue_key(inspections, world.admin)
    other_key = await issue_key(inspections, other.admin)
    mine = await post_report(inspections, key, world.point_type.code)
    theirs = await post_report(inspections, other_key, other.point_type.code)
    listed = await inspections.get("/open311/v2/requests.json", params={"api_key": key})
    assert [r["service_request_id"] for r in listed.json()] == [mine]
    foreign = await inspections.get(f"/open311/v2/requests/{theirs}.json", params={"api_key": key})
    assert foreign.status_code == 404
    by_id = await inspections.get(
        "/open311/v2/requests.json",
        params={"jurisdiction_id": world.region.code, "service_request_id": f"{mine},{theirs}"},
    )
    assert [r["service_request_id"] for r in by_id.json()] == [mine]


# ---------------------------------------------------------------- photos


async def test_a_multipart_media_photo_is_stored_like_any_photo(inspections, db):
    world = await make_world(db)
    key = await issue_key(inspections, world.admin)
    image = jpeg_bytes(seed=311)
    response = await inspections.post(
        "/open311/v2/requests.json",
        data=report_form(key, world.point_type.code),
        files={"media": ("stall.jpg", image, "image/jpeg")},
    )
    assert response.status_code == 201, response.text
    request_id = response.json()[0]["service_request_id"]
    case = (await inspections.get(f"/v1/cases/{request_id}", headers=auth(world.admin))).json()
    [photo_id] = case["photo_ids"]
    photo = await db.scalar(select(Photo).where(Photo.id == uuid.UUID(photo_id)))
    assert photo.sha256 == hashlib.sha256(image).hexdigest()
    got = await inspections.get(f"/v1/photos/{photo_id}", headers=auth(world.admin))
    assert got.status_code == 200 and got.content == image


async def test_media_that_is_not_an_image_is_refused_and_creates_nothing(inspections, db):
    world = await make_world(db)
    key = await issue_key(inspections, world.admin)
    response = await inspections.post(
        "/open311/v2/requests.xml",
        data=report_form(key, world.point_type.code),
        files={"media": ("evil.jpg", b"MZ\x90\x00 not an image at all", "image/jpeg")},
    )
    assert response.status_code == 415
    assert open311_errors(response)[0]["code"] == 415
    assert await count_cases(db, world.region.id) == 0


# ---------------------------------------------------------------- duplicates and crs


async def test_duplicate_candidates_are_open_cases_of_the_same_service_within_50_m(inspections, db):
    world = await make_world(db)
    key = await issue_key(inspections, world.admin)
    toilets, _ = await make_point_type(db, region=world.region, name="公厕")
    market = world.point_type.code
    first = await post_report(inspections, key, market, at=MARKET)

    near = await post_report(inspections, key, market, at=north_of(MARKET, 30))
    far = await post_report(inspections, key, market, at=north_of(MARKET, -80))  # south
    other_service = await post_report(inspections, key, toilets.code, at=north_of(MARKET, 30))

    async def candidates(request_id: str) -> list[str]:
        case = await inspections.get(f"/v1/cases/{request_id}", headers=auth(world.admin))
        return case.json()["duplicate_candidates"]

    assert await candidates(near) == [first]
    assert await candidates(far) == []
    assert await candidates(other_service) == []
    assert await candidates(first) == []


async def test_a_closed_case_is_no_duplicate_candidate(inspections, db):
    world = await make_world(db)
    key = await issue_key(inspections, world.admin)
    first = await post_report(inspections, key, world.point_type.code)
    case = (await inspections.get(f"/v1/cases/{first}", headers=auth(world.admin))).json()
    cancelled = await inspections.post(
        f"/v1/cases/{first}/actions",
        json={"action": "cancel", "note": "无效举报"},
        headers={**auth(world.admin), "If-Match": f'"{case["version"]}"'},
    )
    assert cancelled.status_code == 200, cancelled.text
    second = await post_report(inspections, key, world.point_type.code)
    assert (await inspections.get(f"/v1/cases/{second}", headers=auth(world.admin))).json()[
        "duplicate_candidates"
    ] == []


async def test_a_report_in_gcj02_is_stored_in_wgs84(inspections, db):
    world = await make_world(db)
    key = await issue_key(inspections, world.admin)
    # The published coordtransform example: WGS-84 (39.915, 116.404) is this in GCJ-02.
    request_id = await post_report(
        inspections,
        key,
        world.point_type.code,
        at=(39.91640428150164, 116.41024449916938),
        crs="gcj02",
    )
    [shown] = (
        await inspections.get(f"/open311/v2/requests/{request_id}.json", params={"api_key": key})
    ).json()
    assert metres_between((shown["lat"], shown["long"]), (39.915, 116.404)) < 1.0


# ---------------------------------------------------------------- listing


async def test_requests_page_with_page_and_page_size_and_filter_by_service(inspections, db):
    world = await make_world(db)
    key = await issue_key(inspections, world.admin)
    toilets, _ = await make_point_type(db, region=world.region, name="公厕")
    ids = [await post_report(inspections, key, world.point_type.code) for _ in range(3)]
    toilet = await post_report(inspections, key, toilets.code)

    first = await inspections.get(
        "/open311/v2/requests.json",
        params={"api_key": key, "service_code": world.point_type.code, "page_size": 2},
    )
    assert [r["service_request_id"] for r in first.json()] == [ids[2], ids[1]]
    assert 'rel="next"' in first.headers["Link"] and "page=2" in first.headers["Link"]
    second = await inspections.get(
        "/open311/v2/requests.json",
        params={"api_key": key, "service_code": world.point_type.code, "page_size": 2, "page": 2},
    )
    assert [r["service_request_id"] for r in second.json()] == [ids[0]]
    assert "Link" not in second.headers

    everything = await inspections.get("/open311/v2/requests.json", params={"api_key": key})
    assert [r["service_request_id"] for r in everything.json()] == [toilet, *reversed(ids)]

    too_wide = await inspections.get(
        "/open311/v2/requests.json",
        params={
            "api_key": key,
            "start_date": "2026-01-01T00:00:00+08:00",
            "end_date": "2026-06-01T00:00:00+08:00",
        },
    )
    assert too_wide.status_code == 400
    naive = await inspections.get(
        "/open311/v2/requests.json", params={"api_key": key, "start_date": "2026-01-01"}
    )
    assert naive.status_code == 400
    past = await inspections.get(
        "/open311/v2/requests.json",
        params={"api_key": key, "end_date": "2020-01-01T00:00:00Z"},
    )
    assert past.status_code == 200 and past.json() == []
    bad_page = await inspections.get(
        "/open311/v2/requests.json", params={"api_key": key, "page_size": 1001}
    )
    assert bad_page.status_code == 400


async def test_hostile_query_input_is_answered_4xx_never_500(inspections, db):
    world = await make_world(db)
    key = await issue_key(inspections, world.admin)
    # Control characters (PostgreSQL refuses NUL): refused or matching nothing, whichever
    # layer sees them first, but always a 4xx in Open311's format.
    control_characters = [
        ("/open311/v2/services.json", {"jurisdiction_id": "a\x00b"}),
        ("/open311/v2/services.json", {"api_key": "k\x00"}),
        ("/open311/v2/services/T%00X.json", {"api_key": key}),
        ("/open311/v2/requests.json", {"api_key": key, "service_code": "a\x00"}),
    ]
    for path, params in control_characters:
        response = await inspections.get(path, params=params)
        assert 400 <= response.status_code < 500, (path, params, response.text)
        assert open311_errors(response)[0]["code"] == response.status_code
    out_of_range = [
        {"start_date": "9999-12-31T00:00:00Z"},
        {"end_date": "0001-01-01T00:00:00Z"},
        {"page": 10**30},
        {"status": "pending"},
        {"service_request_id": "x," * 300},
    ]
    for params in out_of_range:
        response = await inspections.get(
            "/open311/v2/requests.json", params={"api_key": key, **params}
        )
        assert response.status_code == 400, (params, response.text)
        assert open311_errors(response)[0]["code"] == 400


async def test_the_openapi_document_describes_open311_errors_as_open311s_list(inspections):
    document = (await inspections.get("/openapi.json")).json()
    post = document["paths"]["/open311/v2/requests.{fmt}"]["post"]
    assert "422" not in post["responses"]
    for status in ("400", "401", "429", "503"):
        content = post["responses"][status]["content"]
        assert set(content) == {"application/json", "text/xml"}
        assert content["application/json"]["schema"]["items"]["required"] == ["code", "description"]
    keys = document["paths"]["/v1/open311/api-keys"]["post"]["responses"]["422"]["content"]
    assert set(keys) == {"application/problem+json"}


async def test_issuing_and_revoking_a_key_is_audited_without_its_hash(inspections, db):
    world = await make_world(db)
    created = await inspections.post(
        "/v1/open311/api-keys", json={"name": "12345 hotline"}, headers=auth(world.admin)
    )
    key_id = created.json()["id"]
    revoked = await inspections.post(
        f"/v1/open311/api-keys/{key_id}/revoke", headers=auth(world.admin)
    )
    assert revoked.status_code == 200
    trail = await inspections.get(
        "/v1/open311/audit", params={"record_id": key_id}, headers=auth(world.leader)
    )
    assert trail.status_code == 200, trail.text
    issued, revocation = trail.json()["items"]
    assert (issued["action"], revocation["action"]) == ("create", "update")
    assert {issued["actor_id"], revocation["actor_id"]} == {str(world.admin.id)}
    assert issued["changes"]["name"]["after"] == "12345 hotline"
    assert issued["changes"]["key_hash"] == {"before": "(hidden)", "after": "(hidden)"}
    assert set(revocation["changes"]) == {"revoked_at", "revoked_by"}
    assert created.json()["api_key"] not in trail.text
    denied = await inspections.get("/v1/open311/audit", headers=auth(world.inspector))
    assert denied.status_code == 403
