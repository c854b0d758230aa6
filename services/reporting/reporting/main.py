"""The reporting service."""

from __future__ import annotations

from fastapi import FastAPI

from reporting.accountability.daily import start_daily_run, stop_daily_run
from reporting.examples import REQUEST_EXAMPLES
from reporting.routers import ROUTERS
from reporting.settings import ReportingSettings
from shared.app import create_app


async def on_startup(app: FastAPI) -> None:
    await start_daily_run(app)


async def on_shutdown(app: FastAPI) -> None:
    await stop_daily_run(app)


TAGS = [
    {
        "name": "reports",
        "description": "Unit performance, coverage, patrol quotas, chiefs, overview and overdue "
        "cases, as JSON, CSV or XLSX; the report settings' audit trail.",
    },
    {
        "name": "accountability",
        "description": "Monthly runs of the rules: red and black lists, notices, acknowledgements.",
    },
    {
        "name": "report settings",
        "description": "Score weights, the patrol quota and the accountability rules (audited).",
    },
]


def build_app() -> FastAPI:
    """A new reporting app (the API fuzzing test starts one on its own event loop)."""
    return create_app(
        service="reporting",
        title="Chuangwei reporting",
        description=(
            "Chuangwei reporting service: unit performance, coverage, patrol quotas, chiefs, "
            "overview and overdue reports (JSON, CSV, XLSX) and accountability (red/black lists, "
            "notices). Reads the registry and inspections tables read-only. "
            "Errors are RFC 9457 problem details (`application/problem+json`)."
        ),
        settings_factory=ReportingSettings,
        routers=ROUTERS,
        on_startup=on_startup,
        on_shutdown=on_shutdown,
        openapi_tags=TAGS,
        request_examples=REQUEST_EXAMPLES,
    )


app = build_app()
