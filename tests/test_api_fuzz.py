"""Schemathesis over the three OpenAPI documents: no 5xx, nothing the documents do not describe.

Bounded for `make test`: a fixed number of generated requests per operation, valid
ones (positive) and invalid ones (negative), and a fixed seed (the same requests every run, so a failure reproduces). The apps
are fresh instances of the three services, on the test database (real
PostgreSQL), reached over ASGI; schemathesis runs them on an event loop of its
own. Every request carries an admin's token of a region made for the run, so
the generated requests reach the code behind authentication.

Checks: no server error, every status and content type documented, every body
matching its documented schema (problem details included).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager

import httpx
import pytest
import schemathesis
from fastapi import FastAPI
from hypothesis import HealthCheck, given, seed, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from shared.http_client import ServiceClient
from tests.factories import auth, make_world

EXAMPLES_PER_OPERATION = 25
SEED = 20261206
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


@pytest.fixture(scope="session")
def fuzz_apps(database_url):
    from inspections.main import build_app as inspections_app
    from registry.main import build_app as registry_app
    from reporting.main import build_app as reporting_app

    apps = {
        "registry": registry_app(),
        "inspections": inspections_app(),
        "reporting": reporting_app(),
    }
    _call_registry_in_process(apps["inspections"], apps["registry"])
    return apps


def _call_registry_in_process(inspections: FastAPI, registry: FastAPI) -> None:
    """Inspections asks the registry for context over HTTP; here that HTTP is the fuzzed
    registry app itself (both run on schemathesis's event loop, started together)."""
    own_lifespan = inspections.router.lifespan_context

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with AsyncExitStack() as stack:
            if getattr(registry.state, "engine", None) is None:
                await stack.enter_async_context(registry.router.lifespan_context(registry))
            await stack.enter_async_context(own_lifespan(app))
            await app.state.registry_client.aclose()
            app.state.registry_client = ServiceClient(
                "http://registry",
                service_token=app.state.settings.service_token,
                transport=httpx.ASGITransport(app=registry),
            )
            yield

    inspections.router.lifespan_context = lifespan


@pytest.fixture(scope="session")
async def admin_headers(engine) -> dict[str, str]:
    from shared.db import create_sessionmaker

    async with create_sessionmaker(engine)() as session:
        world = await make_world(session)
        await session.commit()
        return auth(world.admin)


BOUNDED = settings(
    max_examples=EXAMPLES_PER_OPERATION,
    database=None,
    deadline=None,
    suppress_health_check=list(HealthCheck),
)


@pytest.mark.parametrize("service", ["registry", "inspections", "reporting"])
def test_no_request_breaks_the_api_or_its_documented_schema(fuzz_apps, admin_headers, service):
    schema = schemathesis.openapi.from_asgi("/openapi.json", fuzz_apps[service])
    operations = [result.ok() for result in schema.get_all_operations()]
    assert operations, f"{service} documents no operations"
    failures: list[str] = []
    for operation in operations:
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):

            @BOUNDED
            @seed(SEED)
            @given(case=operation.as_strategy(generation_mode=mode))
            def exercise(case) -> None:
                response = case.call(headers=admin_headers)
                case.validate_response(response, checks=CHECKS, headers=admin_headers)

            try:
                exercise()
            except Unsatisfiable:  # nothing to get wrong: no parameters and no body
                assert mode == GenerationMode.NEGATIVE, operation.label
            except Exception as exc:  # every operation is exercised; all failures reported at once
                failures.append(f"{operation.label} ({mode}): {str(exc)[:1500]}")
    assert not failures, "\n\n".join(failures)
