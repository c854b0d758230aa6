"""Test harness: a throw-away database on real PostgreSQL, built by the real migrations.

The database is created fresh for each test session (on the embedded server
unless DATABASE_URL points at another one), migrated with ``alembic upgrade
head``, and dropped at the end. Tests do not share state through rollbacks:
every test builds its own region (tenancy keeps regions apart, exactly as in
production), which also lets concurrency tests commit for real.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Iterator

import httpx
import pytest
from alembic import command
from alembic.config import Config
from fastapi import FastAPI
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from shared.db import create_engine, create_sessionmaker
from shared.embedded_db import REPO_ROOT, server_url, start_embedded_postgres
from tests.statement_log import RECORDER

pytest_plugins = ["tests.factories", "tests.routing_check"]


def _admin_url() -> str:
    """A URL of the server's maintenance database, where test databases are created."""
    configured = os.environ.get("DATABASE_URL")
    if configured:
        return make_url(configured).set(database="postgres").render_as_string(hide_password=False)
    # Stopped when this process exits, unless another process (a `make run` of the
    # same checkout) still holds it: `make test` leaves no server behind.
    server = start_embedded_postgres(keep_running=False)
    admin = server_url(server, "postgres")
    if not RECORDER.active:
        RECORDER.begin(admin, server.log)  # every statement the session sends, in its log
    return admin


@pytest.fixture(scope="session")
def database_url() -> Iterator[str]:
    """Create ``cw_test_<random>``, migrate it to head, point every service at it."""
    admin = _admin_url()
    name = f"cw_test_{uuid.uuid4().hex[:12]}"
    url = make_url(admin).set(database=name).render_as_string(hide_password=False)
    _execute_autocommit(admin, f'CREATE DATABASE "{name}"')
    config = Config(str(REPO_ROOT / "alembic.ini"))
    config.attributes["database_url"] = url
    command.upgrade(config, "head")
    RECORDER.watch(admin, name)
    os.environ.update(
        DATABASE_URL=url,
        CW_ENV="test",
        CW_DEMO="0",
        CW_LOG_JSON="1",
        CW_LOG_LEVEL="WARNING",
        # No background loops in the in-process apps: a test that needs pending inspections
        # finished calls retry_pending for its own region (the daily run is off in CW_ENV=test).
        INSPECTIONS_PENDING_RETRY_SECONDS="0",
    )
    try:
        yield url
    finally:
        _execute_autocommit(admin, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _execute_autocommit(url: str, statement: str) -> None:
    import asyncio

    import asyncpg

    async def run() -> None:
        u = make_url(url)
        conn = await asyncpg.connect(
            user=u.username,
            password=u.password or None,
            database=u.database,
            host=u.query.get("host") or u.host,
            port=u.port,
        )
        try:
            await conn.execute(statement)
        finally:
            await conn.close()

    asyncio.run(run())


@pytest.fixture
def empty_database_url(database_url: str) -> Iterator[str]:
    """A second, empty database migrated to head: what a fresh deployment starts from."""
    admin = _admin_url()
    name = f"cw_boot_{uuid.uuid4().hex[:10]}"
    _execute_autocommit(admin, f'CREATE DATABASE "{name}"')
    url = make_url(admin).set(database=name).render_as_string(hide_password=False)
    config = Config(str(REPO_ROOT / "alembic.ini"))
    config.attributes["database_url"] = url
    command.upgrade(config, "head")
    RECORDER.watch(admin, name)
    yield url
    _execute_autocommit(admin, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(database_url, application_name="chuangwei.tests")
    yield engine
    await engine.dispose()


@pytest.fixture
async def db(engine: AsyncEngine) -> AsyncIterator[AsyncSession]:
    """A session for factories and for asserting what the database holds."""
    async with create_sessionmaker(engine)() as session:
        yield session


async def started(app: FastAPI) -> AsyncIterator[FastAPI]:
    """Run an app's lifespan (engine, clients, background tasks) around the tests."""
    async with app.router.lifespan_context(app):
        yield app


def client_for(app: FastAPI, *, token: str | None = None) -> httpx.AsyncClient:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://testserver", headers=headers
    )


@pytest.fixture(scope="session")
async def registry_app(database_url: str) -> AsyncIterator[FastAPI]:
    from registry.main import app

    async for started_app in started(app):
        yield started_app


@pytest.fixture
async def registry(registry_app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """An anonymous client of the registry app; pass ``headers=`` per call or use ``as_user``."""
    async with client_for(registry_app) as client:
        yield client


@pytest.fixture(scope="session")
async def inspections_app(registry_app: FastAPI) -> AsyncIterator[FastAPI]:
    """The inspections app, calling the in-process registry app for sample-point context.

    Its lifespan creates ``app.state.registry_client`` for the configured URL;
    here that client is swapped for one whose transport is the registry app, so
    service tests exercise the real registry code without a network.
    (The e2e tests run both as processes over real HTTP.)
    """
    from inspections.main import app
    from shared.http_client import ServiceClient

    async for started_app in started(app):
        real_client = getattr(started_app.state, "registry_client", None)
        settings = started_app.state.settings
        started_app.state.registry_client = ServiceClient(
            "http://registry",
            service_token=settings.service_token,
            budget=settings.registry_budget_seconds,
            transport=httpx.ASGITransport(app=registry_app),
        )
        yield started_app
        await started_app.state.registry_client.aclose()
        started_app.state.registry_client = real_client


@pytest.fixture
async def inspections(inspections_app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with client_for(inspections_app) as client:
        yield client


@pytest.fixture(scope="session")
async def reporting_app(database_url: str) -> AsyncIterator[FastAPI]:
    from reporting.main import app

    async for started_app in started(app):
        yield started_app


@pytest.fixture
async def reporting(reporting_app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with client_for(reporting_app) as client:
        yield client
