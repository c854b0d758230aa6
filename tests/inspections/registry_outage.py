"""A registry the inspections app cannot reach, for the pending-path tests."""

from __future__ import annotations

from contextlib import asynccontextmanager

from shared.http_client import ServiceClient


@asynccontextmanager
async def registry_unreachable(app):
    """Point the app's registry client at a closed port for the duration."""
    real = app.state.registry_client
    dead = ServiceClient(
        "http://127.0.0.1:9", service_token=app.state.settings.service_token, timeout=1, retries=0
    )
    app.state.registry_client = dead
    try:
        yield
    finally:
        app.state.registry_client = real
        await dead.aclose()
