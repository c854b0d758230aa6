"""One district's burst of submissions does not hold up another district's (issue 13).

The busy region's turns are taken directly (as its phones' requests in flight would);
the submissions then go through HTTP like a phone's.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass

import pytest

from inspections.ingest.dependencies import _turns
from shared.models import Inspection
from shared.region_share import FairTurns
from tests.factories import auth, count_rows, inspection_body, make_world


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


@dataclass
class Turns:
    fair: FairTurns
    clock: Clock


@pytest.fixture
def turns(inspections_app, monkeypatch) -> Turns:
    """The process's ingest turns (a share of 2) with a controllable activity clock and
    a short wait for a turn."""
    fair = _turns(inspections_app)
    clock = Clock()
    monkeypatch.setattr(fair.activity, "clock", clock)
    monkeypatch.setattr(fair.activity, "_last_seen", {})
    monkeypatch.setattr(fair, "per_region", 2)
    monkeypatch.setattr(inspections_app.state.settings, "db_acquire_timeout_seconds", 0.2)
    return Turns(fair, clock)


@asynccontextmanager
async def in_flight(fair: FairTurns, region_id: uuid.UUID, count: int) -> AsyncIterator[None]:
    """Hold ``count`` of the region's turns, as its phones' submissions in flight would."""
    async with AsyncExitStack() as stack:
        for _ in range(count):
            await stack.enter_async_context(fair.turn(region_id))
        yield


async def test_a_busy_region_at_its_share_waits_while_another_regions_submission_goes_through(
    inspections, turns, db
):
    busy, quiet = await make_world(db), await make_world(db)
    turns.fair.activity.seen(quiet.region.id)
    async with in_flight(turns.fair, busy.region.id, 2):  # two of its phones' submissions
        refused_body = inspection_body(busy)
        refused = await inspections.post(
            "/v1/inspections", json=refused_body, headers=auth(busy.inspector)
        )
        assert refused.status_code == 503, refused.text
        assert refused.headers["content-type"] == "application/problem+json"
        assert refused.headers["retry-after"]
        assert await count_rows(db, Inspection, id=refused_body["id"]) == 0

        other = await inspections.post(
            "/v1/inspections", json=inspection_body(quiet), headers=auth(quiet.inspector)
        )
        assert other.status_code == 201, other.text
    # Its phones done, the busy region submits again.
    again = await inspections.post(
        "/v1/inspections", json=inspection_body(busy), headers=auth(busy.inspector)
    )
    assert again.status_code == 201, again.text


async def test_a_region_alone_is_not_held_to_its_share(inspections, turns, db):
    busy, quiet = await make_world(db), await make_world(db)
    turns.fair.activity.seen(quiet.region.id)
    turns.clock.now += turns.fair.activity.window_seconds + 1  # the other region has gone quiet
    async with in_flight(turns.fair, busy.region.id, 2):
        response = await inspections.post(
            "/v1/inspections", json=inspection_body(busy), headers=auth(busy.inspector)
        )
        assert response.status_code == 201, response.text
