"""A PostgreSQL server a test may stop, start, freeze and thaw, with the schema migrated.

It is a second embedded instance in a folder of its own, so the faults touch
only the app that a test points at it, never the suite's own database.
"""

from __future__ import annotations

import signal
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import psutil
from alembic import command
from alembic.config import Config
from fastapi import FastAPI

from shared.db import create_engine
from shared.embedded_db import REPO_ROOT, server_url, start_embedded_postgres
from shared.http_client import ServiceClient


class StoppableDatabase:
    """An embedded PostgreSQL in a folder of its own, with the schema migrated."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.server = start_embedded_postgres(folder)
        self.url = server_url(self.server, "postgres")
        config = Config(str(REPO_ROOT / "alembic.ini"))
        config.attributes["database_url"] = self.url
        command.upgrade(config, "head")

    def stop(self) -> None:
        self.server.cleanup()

    def start(self) -> None:
        self.server = start_embedded_postgres(self.folder)

    def _processes(self) -> list[psutil.Process]:
        postmaster = psutil.Process(self.server.get_pid())
        return [postmaster, *postmaster.children(recursive=True)]

    @contextmanager
    def frozen(self) -> Iterator[None]:
        """SIGSTOP every process of the server (a hung host, a stalled disk), SIGCONT after.

        Connections stay open and the kernel still accepts new ones; nothing answers.
        """
        processes = self._processes()
        for process in processes:
            process.send_signal(signal.SIGSTOP)
        try:
            yield
        finally:
            for process in processes:
                process.send_signal(signal.SIGCONT)

    async def fetchval(self, sql: str, *args):
        """One value from the server, on a connection of its own."""
        engine = create_engine(self.url, application_name="chuangwei.tests.outage")
        try:
            async with engine.connect() as conn:
                raw = await conn.get_raw_connection()
                return await raw.driver_connection.fetchval(sql, *args)
        finally:
            await engine.dispose()


async def copy_tenancy(database: StoppableDatabase, region, *people) -> None:
    """Copy the region row and the given people into ``database``: every database that
    holds a region's records holds its region, and every service checks a token's
    version against the people table."""
    await database.fetchval(
        "INSERT INTO regions (id, code, name, timezone) VALUES ($1, $2, $3, $4) RETURNING 1",
        region.id,
        region.code,
        region.name,
        region.timezone,
    )
    for person in people:
        await database.fetchval(
            "INSERT INTO people (region_id, id, username, password_hash, display_name, role,"
            " unit_id, active, version, token_version)"
            " VALUES ($1, $2, $3, $4, $5, $6, $7, true, 1, $8) RETURNING 1",
            region.id,
            person.id,
            person.username,
            person.password_hash,
            person.display_name,
            person.role,
            person.unit_id,
            person.token_version,
        )


async def inspections_app_on(
    database: StoppableDatabase, registry_app: FastAPI, monkeypatch
) -> AsyncIterator[FastAPI]:
    """A started inspections app on ``database`` that asks the in-process registry."""
    from inspections.main import build_app

    monkeypatch.setenv("DATABASE_URL", database.url)
    monkeypatch.setenv("INSPECTIONS_PENDING_RETRY_SECONDS", "0")
    app = build_app()
    async with app.router.lifespan_context(app):
        await app.state.registry_client.aclose()
        app.state.registry_client = ServiceClient(
            "http://registry",
            service_token=app.state.settings.service_token,
            budget=app.state.settings.registry_budget_seconds,
            transport=httpx.ASGITransport(app=registry_app),
        )
        yield app
