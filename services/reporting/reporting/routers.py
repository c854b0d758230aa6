"""Every router of the service, in the order they appear in the OpenAPI docs."""

from __future__ import annotations

from fastapi import APIRouter, Depends

from reporting.accountability.router import router as accountability_router
from reporting.bulletin.router import router as bulletin_router
from reporting.report_settings.router import router as report_settings_router
from reporting.reports.fairness import TOO_MANY_HEAVY_REPORTS, heavy_report_slot
from reporting.reports.router import router as reports_router
from shared.audit_api import audit_router

# Every report takes its region's turn for long periods (reporting/reports/fairness.py).
fair_reports_router = APIRouter(
    dependencies=[Depends(heavy_report_slot, scope="function")],
    responses=TOO_MANY_HEAVY_REPORTS,
)
fair_reports_router.include_router(reports_router)

ROUTERS: list[APIRouter] = [
    fair_reports_router,
    bulletin_router,
    accountability_router,
    report_settings_router,
    audit_router("/v1/reports/audit", record_types=frozenset({"report_settings"}), tag="reports"),
]
