"""Who sees and touches which cases: units only their own, regions never each other's."""

from __future__ import annotations

from typing import Any

import pytest

from tests.factories import World, auth, make_world, report_case, upload_photo


@pytest.fixture
async def w(db) -> World:
    return await make_world(db)


async def two_cases(inspections, w: World) -> tuple[dict[str, Any], dict[str, Any]]:
    """One case for the market's unit, one for the other unit."""
    mine = await report_case(inspections, w.inspector, sample_point_id=str(w.point.id))
    theirs = await report_case(
        inspections, w.inspector, address="西街 3 号", unit_id=str(w.other_unit.id)
    )
    assert mine["unit_id"] == str(w.unit.id) and theirs["unit_id"] == str(w.other_unit.id)
    return mine, theirs


async def test_unit_lists_only_its_own_cases(inspections, w: World) -> None:
    mine, theirs = await two_cases(inspections, w)
    unassigned = await report_case(inspections, w.inspector, address="无主")
    response = await inspections.get("/v1/cases", headers=auth(w.unit_user))
    assert [c["id"] for c in response.json()["items"]] == [mine["id"]]
    # Asking for the other unit explicitly changes nothing.
    response = await inspections.get(
        "/v1/cases", params={"unit": str(w.other_unit.id)}, headers=auth(w.unit_user)
    )
    assert response.json()["items"] == []
    response = await inspections.get("/v1/cases", headers=auth(w.other_unit_user))
    assert [c["id"] for c in response.json()["items"]] == [theirs["id"]]
    # Admins, leaders and inspectors see the whole region.
    for person in (w.admin, w.leader, w.inspector):
        response = await inspections.get("/v1/cases", headers=auth(person))
        assert {c["id"] for c in response.json()["items"]} == {
            mine["id"],
            theirs["id"],
            unassigned["id"],
        }


async def test_unit_cannot_read_another_units_case_or_its_events(inspections, w: World) -> None:
    mine, theirs = await two_cases(inspections, w)
    for path in (f"/v1/cases/{theirs['id']}", f"/v1/cases/{theirs['id']}/events"):
        response = await inspections.get(path, headers=auth(w.unit_user))
        assert response.status_code == 404
        assert theirs["description"] not in response.text
    assert (
        await inspections.get(f"/v1/cases/{mine['id']}", headers=auth(w.unit_user))
    ).status_code == 200
    assert (
        await inspections.get(f"/v1/cases/{mine['id']}/events", headers=auth(w.unit_user))
    ).status_code == 200


async def test_unit_cannot_act_on_another_units_case(inspections, w: World) -> None:
    _, theirs = await two_cases(inspections, w)
    photo = await upload_photo(inspections, w.unit_user)
    for body in (
        {"action": "rectify", "note": "done", "photo_ids": [str(photo)]},
        {"action": "return", "note": "not ours"},
        {"action": "request_extension", "note": "later"},
    ):
        response = await inspections.post(
            f"/v1/cases/{theirs['id']}/actions", json=body, headers=auth(w.unit_user)
        )
        assert response.status_code == 404
    after = (await inspections.get(f"/v1/cases/{theirs['id']}", headers=auth(w.admin))).json()
    assert after["status"] == "assigned" and after["version"] == theirs["version"]


async def test_unit_does_not_see_a_case_still_waiting_for_dispatch(inspections, w: World) -> None:
    waiting = await report_case(inspections, w.inspector, address="x")
    response = await inspections.get(f"/v1/cases/{waiting['id']}", headers=auth(w.unit_user))
    assert response.status_code == 404


async def test_another_regions_cases_are_invisible(inspections, w: World, db) -> None:
    mine, _ = await two_cases(inspections, w)
    stranger = await make_world(db)
    for person in (stranger.admin, stranger.leader, stranger.inspector, stranger.unit_user):
        response = await inspections.get("/v1/cases", headers=auth(person))
        assert response.json()["items"] == []
        assert (
            await inspections.get(f"/v1/cases/{mine['id']}", headers=auth(person))
        ).status_code == 404
        assert (
            await inspections.get(f"/v1/cases/{mine['id']}/events", headers=auth(person))
        ).status_code == 404
    response = await inspections.post(
        f"/v1/cases/{mine['id']}/actions",
        json={"action": "park", "note": "x"},
        headers=auth(stranger.admin),
    )
    assert response.status_code == 404
    # The same client id in another region is another case, not a clash.
    copy = await report_case(inspections, stranger.inspector, id=mine["id"], address="x")
    assert copy["id"] == mine["id"] and copy["status"] == "reported"
    original = (await inspections.get(f"/v1/cases/{mine['id']}", headers=auth(w.admin))).json()
    assert original["status"] == "assigned"


async def test_who_may_report_a_case(inspections, w: World) -> None:
    body = {"id": "00000000-0000-4000-8000-000000000001", "source": "self"}
    body |= {"description": "自查", "severity": "normal", "address": "x"}
    response = await inspections.post("/v1/cases", json=body, headers=auth(w.unit_user))
    assert response.status_code == 403
    assert (await inspections.post("/v1/cases", json=body)).status_code == 401
    leader_case = await report_case(inspections, w.leader, source="leader", address="领导督查")
    assert leader_case["status"] == "reported"


async def test_leaders_read_but_never_act(inspections, w: World) -> None:
    mine, _ = await two_cases(inspections, w)
    assert (
        await inspections.get(f"/v1/cases/{mine['id']}", headers=auth(w.leader))
    ).status_code == 200
    response = await inspections.post(
        f"/v1/cases/{mine['id']}/actions",
        json={"action": "park", "note": "x"},
        headers=auth(w.leader),
    )
    assert response.status_code == 403
    assert response.json()["allowed_actions"] == []


async def test_import_is_for_admins_only(inspections, w: World) -> None:
    files = {"file": ("cases.csv", b"description,severity,address\nx,normal,y\n", "text/csv")}
    for person in (w.inspector, w.leader, w.unit_user):
        response = await inspections.post("/v1/cases/import", files=files, headers=auth(person))
        assert response.status_code == 403
