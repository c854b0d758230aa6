"""The app factory every service uses, so all three behave alike.

It wires settings, the engine (created in the lifespan, never at import), the
error handlers, request ids, logs, metrics and health checks. A service hands
in its routers and an optional ``on_startup`` hook for its own resources.
"""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager

from fastapi import APIRouter, FastAPI
from fastapi_offline import FastAPIOffline
from sqlalchemy.orm.exc import StaleDataError

from shared import audit, clock
from shared.db import create_read_pool, create_sessionmaker, engine_from_settings
from shared.errors import install_error_handlers, problem_response
from shared.guard import RequestGuardMiddleware
from shared.health import router as health_router
from shared.observability import configure_logging, install_observability
from shared.openapi import HEALTH_TAG, install_openapi
from shared.published_docs import DocsUnderServiceName
from shared.region_share import RegionActivity
from shared.settings import CommonSettings

Hook = Callable[[FastAPI], Awaitable[None]]


def create_app(
    *,
    service: str,
    title: str,
    description: str,
    settings_factory: Callable[[], CommonSettings],
    routers: Sequence[APIRouter],
    on_startup: Hook | None = None,
    on_shutdown: Hook | None = None,
    openapi_tags: list[dict] | None = None,
    read_pool_size: int = 0,
    sign_in_url: str | None = None,
    request_examples: dict[str, dict] | None = None,
) -> FastAPI:
    """Build a service's app; ``read_pool_size > 0`` adds ``app.state.read_pool`` (ReadConnectionDep).

    ``openapi_tags`` describe the service's route groups; ``sign_in_url`` is where Swagger
    signs in (default: the registry's ``/v1/auth/token`` at ``CW_REGISTRY_URL``);
    ``request_examples`` maps request schema names to a valid example body.
    """

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        settings = settings_factory()
        configure_logging(service, level=settings.log_level, json_logs=settings.log_json)
        clock.set_offset(settings.clock_offset_seconds)
        if not settings.database_url:
            raise RuntimeError("DATABASE_URL is not set; start the services with `make run`.")
        app.state.settings = settings
        app.state.region_activity = RegionActivity(settings.region_active_window_seconds)
        app.state.engine = engine_from_settings(settings, application_name=f"chuangwei.{service}")
        app.state.sessionmaker = create_sessionmaker(app.state.engine)
        app.state.read_pool = None
        if read_pool_size:
            app.state.read_pool = await create_read_pool(
                settings.database_url,
                application_name=f"chuangwei.{service}.read",
                max_size=read_pool_size,
                connect_timeout=settings.db_connect_timeout_seconds,
                statement_timeout=settings.db_statement_timeout_seconds,
            )
        try:
            if on_startup is not None:
                await on_startup(app)
            # Everything loaded so far (modules, routes, settings) lives for the whole
            # process; moving it out of the collector's view keeps full collections
            # short, which shows in the latency tail.
            gc.freeze()
            yield
        finally:
            if on_shutdown is not None:
                await on_shutdown(app)
            if app.state.read_pool is not None:
                await app.state.read_pool.close()
            await app.state.engine.dispose()

    # /docs and /redoc serve Swagger UI and ReDoc from the files fastapi-offline ships
    # (under /static-offline-docs), not from a CDN: offices run on intranets (SPEC §11).
    # Behind the gateway they are also answered under /<service>/ (shared.published_docs);
    # the document names no server, so Swagger's "Try it out" calls /v1/… on the page's
    # own origin — the gateway, which routes it — and never /<service>/v1/….
    app = FastAPIOffline(
        title=title,
        description=description,
        version="0.1.0",
        lifespan=lifespan,
        openapi_tags=[*(openapi_tags or []), HEALTH_TAG],
        root_path_in_servers=False,
        # Metrics are Prometheus (/metrics); FastAPI's built-in OpenTelemetry would
        # look up providers on every request for nothing. Turn it on here with an
        # exporter when tracing is wanted.
        telemetry={"tracing": False, "metrics": False, "logs": False},
    )
    app.state.service = service
    audit.install()
    # Logs are JSON from the start (uvicorn's startup lines included); the lifespan
    # applies CW_LOG_LEVEL / CW_LOG_JSON once the settings are read.
    configure_logging(service)
    install_error_handlers(app)
    install_openapi(app, token_url=sign_in_url, examples=request_examples)

    @app.exception_handler(StaleDataError)
    async def _stale(request, exc):  # a concurrent writer bumped the version first
        return problem_response(
            request,
            412,
            "The record was changed by someone else; reload it and try again.",
            slug="precondition-failed",
        )

    app.add_middleware(RequestGuardMiddleware)  # inside the request-id middleware
    install_observability(app, service)
    app.add_middleware(DocsUnderServiceName, service=service)
    app.include_router(health_router)
    for router in routers:
        app.include_router(router)
    return app
