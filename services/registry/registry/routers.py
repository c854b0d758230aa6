"""Every router of the service, in the order they appear in the OpenAPI docs."""

from __future__ import annotations

from fastapi import APIRouter

from registry.archive.router import router as archive_router
from registry.calendar.router import router as calendar_router
from registry.checklists.router import router as checklists_router
from registry.chiefs.router import router as chiefs_router
from registry.deadline_policies.router import router as deadline_policies_router
from registry.divisions.router import router as divisions_router
from registry.internal.router import router as internal_router
from registry.people.router import router as people_router
from registry.point_types.router import router as point_types_router
from registry.sample_points.router import router as sample_points_router
from registry.standards.router import router as standards_router
from registry.units.router import router as units_router
from shared.audit import AUDITED_TABLES
from shared.audit_api import audit_router

# Everything audited except the report settings, which the reporting service serves.
REGISTRY_RECORDS = AUDITED_TABLES - {"report_settings"}

ROUTERS: list[APIRouter] = [
    divisions_router,
    units_router,
    people_router,
    chiefs_router,
    standards_router,
    point_types_router,
    checklists_router,
    sample_points_router,
    calendar_router,
    deadline_policies_router,
    archive_router,
    audit_router("/v1/audit", record_types=REGISTRY_RECORDS, tag="audit"),
    internal_router,
]
