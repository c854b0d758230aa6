"""The OpenAPI documents tell the truth: problem responses, valid examples, sign-in, tags."""

from __future__ import annotations

import uuid

import pytest

from tests.factories import World, auth, make_world, report_case

SERVICES = ("registry", "inspections", "reporting")


@pytest.fixture
def clients(registry, inspections, reporting):
    return {"registry": registry, "inspections": inspections, "reporting": reporting}


async def documents(clients) -> dict[str, dict]:
    out = {}
    for service, client in clients.items():
        response = await client.get("/openapi.json")
        assert response.status_code == 200
        out[service] = response.json()
    return out


def operations(document: dict):
    for path, item in document["paths"].items():
        for method, operation in item.items():
            yield path, method, operation


async def test_every_error_response_is_documented_as_problem_details(clients):
    for service, document in (await documents(clients)).items():
        assert "HTTPValidationError" not in document["components"]["schemas"], service
        for path, method, operation in operations(document):
            if path.startswith("/open311/"):
                continue  # Open311's own error list (tests/inspections/test_open311.py)
            errors = {code: r for code, r in operation["responses"].items() if code >= "400"}
            assert "422" in errors and "503" in errors, (service, method, path)
            if operation.get("security"):
                assert {"401", "403"} <= set(errors), (service, method, path)
            for code, response in errors.items():
                assert list(response["content"]) == ["application/problem+json"], (path, code)
                assert response["description"], (path, code)


async def test_swagger_signs_in_with_the_password_flow_and_every_tag_is_described(clients):
    for service, document in (await documents(clients)).items():
        schemes = document["components"]["securitySchemes"]
        assert list(schemes) == ["OAuth2Password"], service
        flow = schemes["OAuth2Password"]["flows"]["password"]
        assert flow["tokenUrl"].endswith("/v1/auth/token")
        described = {t["name"] for t in document["tags"] if t.get("description")}
        used = {t for _, _, op in operations(document) for t in op.get("tags", [])}
        assert used <= described, (service, used - described)
        assert not [p for p in document["paths"] if p.startswith("/v1/internal/")]


def _path_values(w: World, case_id: str) -> dict[str, str]:
    return {
        "division_id": str(w.street.id),
        "unit_id": str(w.unit.id),
        "person_id": str(w.inspector.id),
        "point_type_id": str(w.point_type.id),
        "point_id": str(w.point.id),
        "case_id": case_id,
        "day_date": "2026-10-01",
        "severity": "normal",
    }


async def test_every_documented_example_is_a_valid_body(clients, inspections, db):
    """Each example is posted as Swagger would send it: it succeeds or meets a documented
    error about the records it names (placeholder ids), never a complaint about its shape."""
    w = await make_world(db)
    case = await report_case(
        inspections, w.inspector, sample_point_id=str(w.point.id), source="woodpecker"
    )
    values = _path_values(w, case["id"])
    posted = 0
    for service, document in (await documents(clients)).items():
        for path, method, operation in operations(document):
            media = operation.get("requestBody", {}).get("content", {}).get("application/json")
            if media is None:
                continue
            assert "examples" in media, (service, method, path)
            body = media["examples"]["valid"]["value"]
            url = path
            for name in [p["name"] for p in operation.get("parameters", []) if p["in"] == "path"]:
                url = url.replace("{" + name + "}", values.get(name, str(uuid.uuid4())))
            user = w.unit_user if body.get("action") == "rectify" else w.admin
            response = await clients[service].request(method, url, json=body, headers=auth(user))
            posted += 1
            assert str(response.status_code) in operation["responses"], (path, response.text)
            assert response.status_code < 500, (path, response.text)
            if response.status_code == 422:
                shape = [e for e in response.json().get("errors", []) if e.get("type")]
                assert not shape, (service, method, path, shape)
    assert posted >= 25
