"""The test helpers catch the mistakes they exist for.

A helper that cannot fail proves nothing, so each is shown failing once against a
deliberately broken peer: a list that ignores ``limit`` (or has only one page) makes
:func:`tests.paging.all_pages` fail, and an on-time rule broken inside the product
makes the reporting world's expectations fail — they are the product's own verdicts,
no longer a test helper's.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import httpx
import pytest
from fastapi import FastAPI, Query

from inspections.cases import service as cases_service
from tests.factories import auth
from tests.paging import all_pages
from tests.reporting.helpers import by_unit
from tests.reporting.world import EXPECTED_A, EXPECTED_VERDICTS, build_october, verdicts

NUMBERS = [{"n": n} for n in range(7)]


def listing_app() -> FastAPI:
    """Seven items behind a correct cursor list and behind one that ignores ``limit``."""
    app = FastAPI()

    @app.get("/paged")
    def paged(limit: int = 50, cursor: Annotated[int | None, Query()] = None) -> dict:
        start = cursor or 0
        end = start + limit
        return {"items": NUMBERS[start:end], "next_cursor": end if end < len(NUMBERS) else None}

    @app.get("/ignores-limit")
    def ignores_limit(limit: int = 50) -> dict:
        return {"items": NUMBERS, "next_cursor": None}

    @app.get("/restarts")
    def restarts(limit: int = 50, cursor: Annotated[int | None, Query()] = None) -> dict:
        # A cursor that loses its place: the second page repeats the first.
        return {"items": NUMBERS[:limit], "next_cursor": None if cursor else limit}

    return app


@pytest.fixture
async def lists():
    transport = httpx.ASGITransport(app=listing_app())
    async with httpx.AsyncClient(transport=transport, base_url="http://lists") as client:
        yield client


async def test_all_pages_reads_a_paged_list_in_full(lists):
    assert await all_pages(lists, "/paged", headers={}, limit=3) == NUMBERS


async def test_all_pages_fails_on_a_list_that_ignores_limit(lists):
    with pytest.raises(AssertionError, match="not paged"):
        await all_pages(lists, "/ignores-limit", headers={}, limit=3)


async def test_all_pages_fails_when_fed_a_single_page(lists):
    with pytest.raises(AssertionError, match="not paged"):
        await all_pages(lists, "/paged", headers={}, limit=10)


async def test_all_pages_fails_on_a_cursor_that_repeats_items(lists):
    with pytest.raises(AssertionError, match="twice"):
        await all_pages(lists, "/restarts", headers={}, limit=3)


async def test_a_broken_on_time_rule_in_the_product_fails_the_reporting_expectations(
    inspections, registry, reporting, db, monkeypatch
):
    def strictly_before(rectified_at: datetime | None, due_at: datetime | None) -> bool:
        # The classic off-by-one: "at the deadline" counted as late.
        return rectified_at is not None and due_at is not None and rectified_at < due_at

    monkeypatch.setattr(cases_service, "on_time", strictly_before)
    world = await build_october(inspections, registry, db)
    broken = await verdicts(inspections, world)
    assert broken != EXPECTED_VERDICTS
    assert broken["a1"] == ("closed", False)  # rectified exactly at the deadline
    response = await reporting.get("/v1/reports/units?month=2026-10", headers=auth(world.w.leader))
    unit_a = by_unit(response.json()["items"], world.w.unit.id)
    assert unit_a["closed_on_time"] == EXPECTED_A["closed_on_time"] - 1
