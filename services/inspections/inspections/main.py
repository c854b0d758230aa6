"""The inspections service."""

from __future__ import annotations

from shared.app import create_app

from inspections.routers import ROUTERS
from inspections.settings import InspectionsSettings

app = create_app(
    service="inspections",
    title="Chuangwei inspections",
    description="Chuangwei inspections service. Errors are RFC 9457 problem details.",
    settings_factory=InspectionsSettings,
    routers=ROUTERS,
)
