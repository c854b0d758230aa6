"""Helpers of the notification tests: a dispatcher with short retries, driven by the test."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Callable
from typing import Any

from fastapi import FastAPI
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from inspections.notifications.dispatcher import Dispatcher
from tests.factories import auth


def dispatcher_for(app: FastAPI, **settings: Any) -> Dispatcher:
    """A dispatcher on the app's database; retries after 0.2 s, 0.4 s … unless told otherwise."""
    overrides = {
        "notifications_retry_first_seconds": 0.2,
        "notifications_retry_max_seconds": 1.0,
        "notifications_http_timeout_seconds": 2.0,
        # The suite shares one outbox: other tests leave thousands of events to fan out.
        "notifications_batch_size": 500,
        **settings,
    }
    return Dispatcher(app.state.sessionmaker, app.state.settings.model_copy(update=overrides))


async def run_until(
    dispatcher: Dispatcher, done: Callable[[], bool], *, within: float = 20.0
) -> None:
    """Run dispatcher rounds until ``done()`` holds (or fail after ``within`` seconds)."""
    deadline = time.monotonic() + within
    while not done():
        assert time.monotonic() < deadline, "the dispatcher did not get there in time"
        if not await dispatcher.tick():
            await asyncio.sleep(0.05)


def act(client, person, case: dict[str, Any], action: str, **fields: Any):
    """POST a case action as ``person``, ``If-Match`` the case's version as last seen."""
    return client.post(
        f"/v1/cases/{case['id']}/actions",
        json={"action": action, **fields},
        headers={**auth(person), "If-Match": f'"{case["version"]}"'},
    )


async def ok(response) -> dict[str, Any]:
    response = await response
    assert response.status_code == 200, response.text
    return response.json()


async def fan_out_everything(dispatcher: Dispatcher) -> None:
    """Fan out the whole outbox (other tests' events included: it is one database)."""
    while await dispatcher.fan_out():
        pass


async def make_webhook(client, admin, url: str, **fields: Any) -> dict[str, Any]:
    response = await client.post("/v1/webhooks", json={"url": url, **fields}, headers=auth(admin))
    assert response.status_code == 201, response.text
    return response.json()


async def events_of_subject(db: AsyncSession, subject_id: uuid.UUID | str) -> list[dict[str, Any]]:
    """The outbox rows about one case (or inspection …), in the order they were written."""
    rows = await db.execute(
        text(
            "SELECT id, type, occurred_at, data, dedupe_key FROM notification_events "
            "WHERE subject_id = :s ORDER BY seq"
        ),
        {"s": uuid.UUID(str(subject_id))},
    )
    return [dict(r._mapping) for r in rows]
