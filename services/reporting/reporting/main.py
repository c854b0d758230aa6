"""The reporting service."""

from __future__ import annotations

from shared.app import create_app

from reporting.routers import ROUTERS
from reporting.settings import ReportingSettings

app = create_app(
    service="reporting",
    title="Chuangwei reporting",
    description="Chuangwei reporting service. Errors are RFC 9457 problem details.",
    settings_factory=ReportingSettings,
    routers=ROUTERS,
)
