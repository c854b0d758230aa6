"""A patrol's visit over real HTTP: sign in at the registry, upload a photo, submit the
inspection to the inspections process, and find the case assigned to the point's unit."""

from __future__ import annotations

import uuid

import httpx

from tests.factories import PASSWORD, auth, inspection_body, jpeg_bytes, make_world


async def test_a_visit_from_sign_in_to_an_assigned_case(stack, db):
    world = await make_world(db)
    async with httpx.AsyncClient(timeout=15) as http:
        signed_in = await http.post(
            f"{stack.url('registry')}/v1/auth/token",
            data={"username": world.inspector.username, "password": PASSWORD},
        )
        assert signed_in.status_code == 200, signed_in.text
        inspector = {"Authorization": f"Bearer {signed_in.json()['access_token']}"}
        inspections = stack.url("inspections")

        photo_id = uuid.uuid4()
        data = jpeg_bytes(seed=9001)
        put = await http.put(f"{inspections}/v1/photos/{photo_id}", content=data, headers=inspector)
        assert put.status_code == 201, put.text

        case_id = str(uuid.uuid4())
        body = inspection_body(
            world,
            cases=[
                {
                    "id": case_id,
                    "item_code": "M-03",
                    "description": "防鼠板缺失",
                    "severity": "normal",
                    "photo_ids": [str(photo_id)],
                }
            ],
        )
        body["results"][2] = {"item_code": "M-03", "outcome": "fail", "grade": 4}
        submitted = await http.post(f"{inspections}/v1/inspections", json=body, headers=inspector)
        assert submitted.status_code == 201, submitted.text
        assert submitted.json()["score"] == 88.0  # (10 + 10 + 4 + 20) / 50
        assert submitted.json()["case_ids"] == [case_id]

        replay = await http.post(f"{inspections}/v1/inspections", json=body, headers=inspector)
        assert replay.status_code == 200

        case = await http.get(f"{inspections}/v1/cases/{case_id}", headers=auth(world.unit_user))
        assert case.status_code == 200, case.text
        assert case.json()["status"] == "assigned"
        assert case.json()["unit_id"] == str(world.unit.id)
        assert case.json()["due_at"]

        photo = await http.get(f"{inspections}/v1/photos/{photo_id}", headers=auth(world.unit_user))
        assert photo.status_code == 200
        assert photo.content == data
        hidden = await http.get(
            f"{inspections}/v1/photos/{photo_id}", headers=auth(world.other_unit_user)
        )
        assert hidden.status_code == 404
