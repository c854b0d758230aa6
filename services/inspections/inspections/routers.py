"""Every router of the service, in the order they appear in the OpenAPI docs."""

from __future__ import annotations

from fastapi import APIRouter

from inspections.cases.router import router as cases_router
from inspections.ingest.router import router as ingest_router
from inspections.notifications.inbox_router import router as inbox_router
from inspections.notifications.webhooks_router import router as webhooks_router
from inspections.open311.router import keys_router as open311_keys_router
from inspections.open311.router import router as open311_router
from inspections.photos.router import router as photos_router
from shared.audit_api import audit_router

ROUTERS: list[APIRouter] = [
    photos_router,
    ingest_router,
    cases_router,
    webhooks_router,
    inbox_router,
    open311_keys_router,
    audit_router(
        "/v1/open311/audit", record_types=frozenset({"open311_api_keys"}), tag="open311 keys"
    ),
    open311_router,
]
