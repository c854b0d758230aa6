"""A database outage answers 503 with Retry-After and leaves nothing half-written (SPEC §7).

The inspections app here runs on a PostgreSQL server of its own (a second
embedded instance), which the test really stops and starts again; the registry
it asks for context is the in-process registry app on the main test database.
"""

from __future__ import annotations

import uuid

from tests.conftest import client_for
from tests.factories import auth, inspection_body, make_world
from tests.outage import copy_tenancy


async def test_a_database_outage_is_a_503_with_retry_after_and_writes_nothing(
    outage_app, outage_database, db
):
    w = await make_world(db)
    await copy_tenancy(outage_database, w.region, w.inspector)
    async with client_for(outage_app) as client:
        before = inspection_body(w)
        assert (
            await client.post("/v1/inspections", json=before, headers=auth(w.inspector))
        ).status_code == 201

        outage_database.stop()
        lost = inspection_body(
            w,
            results=[
                {"item_code": "M-01", "outcome": "fail", "grade": 3},
                {"item_code": "M-02", "outcome": "pass", "grade": 9},
                {"item_code": "M-03", "outcome": "pass", "grade": 9},
                {"item_code": "M-04", "outcome": "pass", "grade": 9},
            ],
            cases=[
                {
                    "id": str(uuid.uuid4()),
                    "item_code": "M-01",
                    "description": "五公示缺失",
                    "severity": "normal",
                    "photo_ids": [],
                }
            ],
        )
        during = await client.post("/v1/inspections", json=lost, headers=auth(w.inspector))
        assert during.status_code == 503, during.text
        assert during.headers["Retry-After"]
        assert during.headers["content-type"].startswith("application/problem+json")
        assert "Traceback" not in during.text

        outage_database.start()
        # Nothing of the refused submission was written, the earlier one is intact.
        assert (
            await outage_database.fetchval(
                "SELECT count(*) FROM inspections WHERE id = $1",
                uuid.UUID(lost["id"]),
            )
            == 0
        )
        assert (
            await outage_database.fetchval(
                "SELECT count(*) FROM cases WHERE inspection_id = $1",
                uuid.UUID(lost["id"]),
            )
            == 0
        )
        assert (
            await outage_database.fetchval(
                "SELECT count(*) FROM inspection_results WHERE inspection_id = $1",
                uuid.UUID(before["id"]),
            )
            == 4
        )

        # The phone retries after Retry-After; the first try may still meet a
        # connection the outage killed, which is another 503 and nothing more.
        for _ in range(3):
            again = await client.post("/v1/inspections", json=lost, headers=auth(w.inspector))
            if again.status_code != 503:
                break
        assert again.status_code == 201, again.text
        assert len(again.json()["case_ids"]) == 1
