"""Hostile input: control characters, extreme dates, oversized bodies — a 4xx, never a 500."""

from __future__ import annotations

import json
import uuid

import httpx
import pytest
from sqlalchemy import func, select

from shared.models import Case, Person, Unit
from tests.factories import World, auth, make_world


@pytest.fixture
async def w(db) -> World:
    return await make_world(db)


def assert_problem(response: httpx.Response, status: int) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    assert body["status"] == status
    return body


async def test_a_nul_in_an_unauthenticated_username_is_422(registry, db):
    response = await registry.post(
        "/v1/auth/token", data={"username": "admin\x00", "password": "x"}
    )
    body = assert_problem(response, 422)
    assert body["errors"][0]["loc"] == ["body", "username"]


@pytest.mark.parametrize("character", ["\x00", "\x0b", "\x1b", "\r", "\x85", "\ud800"])
async def test_a_control_character_in_a_name_is_refused_and_nothing_is_stored(
    registry, w: World, db, character
):
    name = f"城管{character}执法局"
    response = await registry.post(  # ASCII JSON, so a lone surrogate travels as \ud800
        "/v1/units",
        content=json.dumps({"code": "CTL-1", "name": name}),
        headers={**auth(w.admin), "Content-Type": "application/json"},
    )
    body = assert_problem(response, 422)
    assert body["errors"][0]["loc"] == ["body", "name"]
    if character != "\ud800":  # pydantic itself refuses a lone surrogate, in its own words
        assert "control character" in body["errors"][0]["msg"]
    stored = await db.scalar(
        select(func.count()).where(Unit.region_id == w.region.id, Unit.code == "CTL-1")
    )
    assert stored == 0


async def post_case(inspections, person, **fields) -> httpx.Response:
    """``POST /v1/cases``: an expert's finding at an address, with ``fields`` on top."""
    body = {"id": str(uuid.uuid4()), "source": "expert", "severity": "normal", **fields}
    return await inspections.post("/v1/cases", json=body, headers=auth(person))


async def test_tab_newline_and_windows_line_ends_are_text(inspections, w: World, db):
    response = await post_case(
        inspections, w.inspector, description="第一行\r\n第二行\t(tab)", address="东街 1 号"
    )
    assert response.status_code == 201, response.text
    assert response.json()["description"] == "第一行\n第二行\t(tab)"


async def test_a_control_character_in_a_path_or_query_is_422(registry, inspections, w: World):
    for client, url in (
        (registry, "/v1/sample-points?q=%00"),
        (registry, "/v1/sample-points?q=a%0Bb"),
        (inspections, "/v1/cases?unit=%00"),
        (registry, "/v1/units/%00"),
    ):
        assert_problem(await client.get(url, headers=auth(w.admin)), 422)


@pytest.mark.parametrize(
    ("service", "url"),
    [
        ("inspections", "/v1/cases?from=0001-01-01T00:00:02%2B01:00"),
        ("inspections", "/v1/inspections?from=0001-01-01T00:00:02%2B01:00"),
        ("registry", "/v1/sample-points?updated_since=0001-01-01T00:00:02%2B01:00"),
        ("registry", "/v1/units?updated_since=9999-12-31T23:59:59%2B00:00"),
        ("registry", "/v1/calendar?from=0001-01-01"),
        ("reporting", "/v1/reports/units?to=9999-12-31"),
        ("reporting", "/v1/reports/units?from=0001-01-01T00:00:02%2B01:00"),
        ("reporting", "/v1/reports/red-black-list?month=0000-10"),
    ],
)
async def test_extreme_dates_are_422(registry, inspections, reporting, w: World, service, url):
    client = {"registry": registry, "inspections": inspections, "reporting": reporting}[service]
    body = assert_problem(await client.get(url, headers=auth(w.admin)), 422)
    assert "1900" in str(body["errors"])


async def test_an_extreme_date_in_a_body_is_422_and_changes_nothing(inspections, w: World, db):
    response = await post_case(
        inspections,
        w.admin,
        description="积水",
        address="东街 1 号",
        reported_at="0001-01-01T00:00:02+01:00",
    )
    assert_problem(response, 422)
    assert await db.scalar(select(func.count()).where(Case.region_id == w.region.id)) == 0


async def test_a_bare_cr_in_a_cases_csv_is_not_a_server_error(inspections, w: World, db):
    text = 'description,severity,address\r积水\rnormal,东街\n后巷,normal,"西\r街"\n'
    response = await inspections.post(
        "/v1/cases/import",
        files={"file": ("cases.csv", text.encode(), "text/csv")},
        headers=auth(w.admin),
    )
    body = assert_problem(response, 422)
    assert any("U+000D" in e["msg"] for e in body["errors"]), body
    assert await db.scalar(select(func.count()).where(Case.region_id == w.region.id)) == 0


async def test_a_control_character_in_an_import_is_a_row_error(registry, w: World, db):
    text = (
        "code,name,point_type_code,division_code,address,lat,lon,unit_code\n"
        f"P-CTL,市场\x0b一,{w.point_type.code},{w.grid.code},东街,28.44,118.2,{w.unit.code}\n"
    )
    response = await registry.post(
        "/v1/sample-points/import",
        files={"file": ("points.csv", text.encode(), "text/csv")},
        headers=auth(w.admin),
    )
    body = assert_problem(response, 422)
    assert body["errors"][0]["row"] == 2 and body["errors"][0]["column"] == "name"


async def test_a_body_over_2_mb_is_413_before_it_is_read(registry, inspections, w: World, db):
    big = b'{"code": "X", "name": "' + b"a" * (3 * 1024 * 1024) + b'"}'
    headers = {**auth(w.admin), "Content-Type": "application/json"}
    declared = await registry.post("/v1/units", content=big, headers=headers)
    assert_problem(declared, 413)

    async def chunks():  # no Content-Length: counted as it streams
        for start in range(0, len(big), 64 * 1024):
            yield big[start : start + 64 * 1024]

    streamed = await registry.post("/v1/units", content=chunks(), headers=headers)
    assert_problem(streamed, 413)
    assert await db.scalar(select(func.count()).where(Unit.region_id == w.region.id)) == 2

    # A batch may be larger (10 MB): 3 MB of it is read, and refused for its content.
    batch = b'{"inspections": [], "pad": "' + b"a" * (3 * 1024 * 1024) + b'"}'
    response = await inspections.post("/v1/inspections/batch", content=batch, headers=headers)
    assert_problem(response, 422)


async def test_sign_in_with_undecodable_or_nul_usernames_is_a_4xx(registry, w: World, db):
    before = await db.scalar(select(func.count()).where(Person.region_id == w.region.id))
    for username in ("%00", "a%ED%A0%80", "%FF%FE", "a%0D"):
        response = await registry.post(
            "/v1/auth/token",
            content=f"username={username}&password=x",
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
        assert response.status_code in (401, 422), (username, response.text)
        assert response.headers["content-type"].startswith("application/problem+json")
    assert await db.scalar(select(func.count()).where(Person.region_id == w.region.id)) == before
