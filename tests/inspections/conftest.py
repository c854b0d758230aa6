"""Fixtures of the inspections tests that need a database of their own to break."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest
from fastapi import FastAPI

from tests.outage import StoppableDatabase, inspections_app_on


@pytest.fixture
def outage_database(tmp_path_factory) -> Iterator[StoppableDatabase]:
    # A short path: the server's Unix socket lives in this folder.
    database = StoppableDatabase(tmp_path_factory.mktemp("pg"))
    yield database
    database.stop()


@pytest.fixture
async def outage_app(outage_database, registry_app, monkeypatch) -> AsyncIterator[FastAPI]:
    async for app in inspections_app_on(outage_database, registry_app, monkeypatch):
        yield app
