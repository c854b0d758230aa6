"""The inspections service: photos, the woodpecker patrol's inspections and the cases they open."""

from __future__ import annotations

import asyncio
import contextlib
import logging

from fastapi import FastAPI

from inspections.demo.history import ensure_demo_history
from inspections.examples import REQUEST_EXAMPLES
from inspections.ingest.pending import retry_pending
from inspections.ingest.registry import ContextCache
from inspections.notifications.dispatcher import (
    DeliveryMetrics,
    start_dispatcher,
    stop_dispatcher,
)
from inspections.open311.formats import Open311ErrorMiddleware, document_open311_errors
from inspections.photos.storage import blob_store_from_settings
from inspections.routers import ROUTERS
from inspections.settings import InspectionsSettings
from shared.app import create_app
from shared.http_client import ServiceClient

log = logging.getLogger("chuangwei.inspections")


async def pending_loop(app: FastAPI) -> None:
    """Retry pending inspections every ``pending_retry_seconds`` until cancelled (SPEC §7)."""
    settings: InspectionsSettings = app.state.settings
    while True:
        await asyncio.sleep(settings.pending_retry_seconds)
        try:
            await retry_pending(app, limit=settings.pending_batch_size)
        except asyncio.CancelledError:
            raise
        except Exception:  # the database may be down too; try again next tick
            log.exception("retrying pending inspections failed")


async def on_startup(app: FastAPI) -> None:
    settings: InspectionsSettings = app.state.settings
    app.state.registry_client = ServiceClient(
        settings.registry_url,
        service_token=settings.service_token,
        timeout=settings.http_timeout_seconds,
        retries=settings.http_retries,
        budget=settings.registry_budget_seconds,
    )
    app.state.context_cache = ContextCache(
        ttl=settings.context_cache_seconds, max_size=settings.context_cache_size
    )
    app.state.blob_store = blob_store_from_settings(settings)
    app.state.pending_task = None
    if settings.pending_retry_seconds > 0:
        app.state.pending_task = asyncio.create_task(pending_loop(app), name="pending-inspections")
    app.state.demo_task = None
    if settings.demo:
        # In the background: the registry may still be loading the demo district.
        app.state.demo_task = asyncio.create_task(demo_history(app), name="demo-history")
    app.state.delivery_metrics = DeliveryMetrics(app.state.metrics.registry)
    app.state.dispatcher = None
    app.state.dispatcher_task = None
    if settings.notifications_active:
        await start_dispatcher(app)


async def demo_history(app: FastAPI) -> None:
    """Give the demo district its history on first start (SPEC §13); never stop the service."""
    try:
        await ensure_demo_history(app)
    except asyncio.CancelledError:
        raise
    except Exception:
        log.exception("the demo history could not be recorded")


async def on_shutdown(app: FastAPI) -> None:
    await stop_dispatcher(app)
    for name in ("pending_task", "demo_task"):
        task: asyncio.Task | None = getattr(app.state, name, None)
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
    client: ServiceClient | None = getattr(app.state, "registry_client", None)
    if client is not None:
        await client.aclose()


TAGS = [
    {
        "name": "photos",
        "description": "Photos uploaded by client id, decoded, read back or as thumbnails.",
    },
    {
        "name": "inspections",
        "description": "Woodpecker visits from the phone: scored, idempotent, never lost.",
    },
    {"name": "cases", "description": "Rectification cases and their workflow, list and import."},
    {
        "name": "webhooks",
        "description": "Integrators' and group robots' webhooks (admin): every case event, "
        "signed, retried for 24 h, in order per case; deliveries and redelivery.",
    },
    {
        "name": "notifications",
        "description": "Each person's own inbox: unread count, delta sync, mark read.",
    },
    {
        "name": "open311",
        "description": (
            "Citizens' reports through Open311 GeoReport v2 (SPEC §12): `.json` or `.xml`, "
            "errors as the standard's `[{code, description}]` list, never problem details."
        ),
    },
    {
        "name": "open311 keys",
        "description": "Integrators' Open311 API keys (admin): issued per region, revocable.",
    },
]


def build_app() -> FastAPI:
    """A new inspections app (tests start a second one on a database they can stop)."""
    app = create_app(
        service="inspections",
        title="Chuangwei inspections",
        description=(
            "The woodpecker action (啄木鸟行动) and the rectification workflow: photos uploaded by "
            "client id, inspections submitted from the phone (scored, validated against the "
            "registry, idempotent by id, kept pending and never lost while the registry is down) "
            "and the cases they open; webhooks and the inbox that tell units, inspectors and "
            "integrators' systems of every change (SPEC §9). Every endpoint takes "
            "`Authorization: Bearer <JWT>` from the registry's `POST /v1/auth/token`. Errors "
            "are RFC 9457 problem details.\n\n"
            "Citizens' reports arrive through **Open311 GeoReport v2** at `/open311/v2/` "
            "(JSON and XML, keys issued per integrator at `/v1/open311/api-keys`); those "
            "paths answer errors in Open311's own format. A `location` may carry `crs` "
            "(`wgs84` default, `gcj02`, `bd09`); it is converted to WGS-84 before it is "
            "stored, checked or answered."
        ),
        settings_factory=InspectionsSettings,
        routers=ROUTERS,
        on_startup=on_startup,
        on_shutdown=on_shutdown,
        openapi_tags=TAGS,
        request_examples=REQUEST_EXAMPLES,
    )
    # Open311 paths answer errors in the standard's own list format (SPEC §12), and the
    # OpenAPI document says so.
    app.add_middleware(Open311ErrorMiddleware)
    shared_openapi = app.openapi

    def openapi() -> dict:
        first = app.openapi_schema is None
        schema = shared_openapi()
        if first:
            document_open311_errors(schema)
        return schema

    app.openapi = openapi  # type: ignore[method-assign]
    return app


app = build_app()
