"""A database outage on an Open311 path is a 503 with Retry-After in Open311's own error format.

The inspections app runs on a PostgreSQL server of its own that the test really
stops (see tests/inspections/test_database_outage.py).
"""

from __future__ import annotations

import hashlib
import uuid
import xml.etree.ElementTree as ET

from tests.conftest import client_for
from tests.factories import make_world


async def test_an_outage_answers_open311s_error_list_with_retry_after(
    outage_app, outage_database, db
):
    w = await make_world(db)
    secret = "cw311_" + uuid.uuid4().hex
    await outage_database.fetchval(
        "INSERT INTO regions (id, code, name, timezone) VALUES ($1, $2, $3, $4) RETURNING 1",
        w.region.id,
        w.region.code,
        w.region.name,
        w.region.timezone,
    )
    await outage_database.fetchval(
        "INSERT INTO open311_api_keys (region_id, id, name, key_hash, key_prefix)"
        " VALUES ($1, $2, 'hotline', $3, 'cw311_x') RETURNING 1",
        w.region.id,
        uuid.uuid4(),
        hashlib.sha256(secret.encode()).hexdigest(),
    )
    form = {
        "api_key": secret,
        "service_code": "ANY",
        "address_string": "东街口",
        "description": "垃圾满溢",
    }
    async with client_for(outage_app) as client:
        before = await client.get("/open311/v2/requests.json", params={"api_key": secret})
        assert before.status_code == 200 and before.json() == []

        outage_database.stop()
        during = await client.post("/open311/v2/requests.json", data=form)
        assert during.status_code == 503, during.text
        assert during.headers["Retry-After"]
        assert during.headers["content-type"].startswith("application/json")
        [error] = during.json()
        assert error["code"] == 503 and "Traceback" not in error["description"]

        listed = await client.get("/open311/v2/requests.xml", params={"api_key": secret})
        assert listed.status_code == 503 and listed.headers["Retry-After"]
        assert ET.fromstring(listed.content).findtext("error/code") == "503"

        outage_database.start()
        assert await outage_database.fetchval("SELECT count(*) FROM cases") == 0
