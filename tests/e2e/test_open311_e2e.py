"""A citizen's report through Open311, end to end: the off-the-shelf ``georeport`` client (PyPI,
unchanged) against the running inspections service over real HTTP.

``georeport`` 0.3.1 reads (services, service definitions, requests) but has no
call that creates a request, so the report itself is posted the way the
standard describes it — a form-encoded POST with ``api_key`` — with the same
``requests`` library the client uses.
"""

from __future__ import annotations

import asyncio
import uuid

import httpx
import requests
from georeport import GeoReport

from tests.e2e.test_woodpecker_story import Cases, login, put_photo
from tests.factories import make_world


async def test_a_citizens_report_from_georeport_to_closed(stack, db) -> None:
    w = await make_world(db)
    root = f"{stack.url('inspections')}/open311/v2"
    async with (
        httpx.AsyncClient(base_url=stack.url("registry"), timeout=10) as registry,
        httpx.AsyncClient(base_url=stack.url("inspections"), timeout=10) as inspections,
    ):
        office = await login(registry, w.admin)
        market_staff = await login(registry, w.unit_user)
        patrol = await login(registry, w.inspector)
        issued = await inspections.post(
            "/v1/open311/api-keys", json={"name": "WeChat mini-program"}, headers=office
        )
        assert issued.status_code == 201, issued.text
        api_key = issued.json()["api_key"]

        client = GeoReport(root, jurisdiction=w.region.code, api_key=api_key)
        services = await asyncio.to_thread(client.get_service_list)
        assert [s["service_code"] for s in services] == [w.point_type.code]
        definition = await asyncio.to_thread(client.get_service_definition, w.point_type.code)
        assert definition["attributes"][0]["code"] == "item"

        form = {
            "api_key": api_key,
            "jurisdiction_id": w.region.code,
            "service_code": w.point_type.code,
            "lat": "28.4400",
            "long": "118.2000",
            "description": "农贸市场南门摊外经营，占道严重",
            "attribute[item]": "M-02",
        }
        posted = await asyncio.to_thread(
            requests.post,
            f"{root}/requests.json",
            data=form,
            headers={"Idempotency-Key": str(uuid.uuid4())},
            timeout=10,
        )
        assert posted.status_code == 201, posted.text
        request_id = posted.json()[0]["service_request_id"]

        listed = await inspections.get(
            "/v1/cases", params={"source": "citizen", "status": "reported"}, headers=office
        )
        assert [c["id"] for c in listed.json()["items"]] == [request_id]

        seen = await asyncio.to_thread(client.get_service_request, request_id)
        assert seen["status"] == "open" and seen["service_code"] == w.point_type.code

        cases = Cases(inspections, office)
        await cases.act(request_id, "dispatch", unit_id=str(w.unit.id))
        after_photo = await put_photo(inspections, market_staff, seed=1201)
        await Cases(inspections, market_staff).act(
            request_id, "rectify", note="摊位已退回划定区域", photo_ids=[after_photo]
        )
        await Cases(inspections, patrol).act(request_id, "verify", note="复查合格")

        closed = await asyncio.to_thread(client.get_service_request, request_id)
        assert closed["status"] == "closed"
        assert "摊位已退回划定区域" in closed["status_notes"]
        assert closed["agency_responsible"] == "东街市场管理处"

        as_xml = GeoReport(root, jurisdiction=w.region.code, output_format="xml")
        closed_xml = await asyncio.to_thread(as_xml.get_service_request, request_id)
        assert closed_xml["status"] == "closed"
        assert closed_xml["status_notes"] == closed["status_notes"]
        listed_by_client = await asyncio.to_thread(client.get_service_requests, status="closed")
        assert [r["service_request_id"] for r in listed_by_client] == [request_id]


async def test_a_burst_over_http_hits_the_keys_rate_limit(stack, db) -> None:
    w = await make_world(db)
    async with (
        httpx.AsyncClient(base_url=stack.url("registry"), timeout=10) as registry,
        httpx.AsyncClient(base_url=stack.url("inspections"), timeout=10) as inspections,
    ):
        office = await login(registry, w.admin)
        api_key = (
            await inspections.post("/v1/open311/api-keys", json={"name": "burst"}, headers=office)
        ).json()["api_key"]
        statuses = []
        for _ in range(61):  # the default limit is 60 a minute per key
            response = await inspections.get(
                "/open311/v2/services.json", params={"api_key": api_key}
            )
            statuses.append(response.status_code)
        assert statuses[:60] == [200] * 60
        assert statuses[60] == 429
        assert response.json()[0]["code"] == 429
        assert int(response.headers["Retry-After"]) >= 1
