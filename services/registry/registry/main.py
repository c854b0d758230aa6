"""The registry service: the region's sample points, organisation, standards and checklists."""

from __future__ import annotations

from fastapi import FastAPI

from registry.auth.router import router as auth_router
from registry.bootstrap import bootstrap
from registry.routers import ROUTERS
from registry.settings import RegistrySettings
from shared.app import create_app


async def on_startup(app: FastAPI) -> None:
    await bootstrap(app.state.sessionmaker, app.state.settings)


app = create_app(
    service="registry",
    title="Chuangwei registry",
    description=(
        "The region's system of record: divisions (street → community → grid), responsible "
        "units, people and chiefs, the health-city standard and its categories, point types "
        "with versioned checklists, sample points, the working calendar, deadline policies "
        "and the 创卫 archive. Sign in at `POST /v1/auth/token`; every other endpoint takes "
        "`Authorization: Bearer <JWT>`. Errors are RFC 9457 problem details."
    ),
    settings_factory=RegistrySettings,
    routers=[auth_router, *ROUTERS],
    on_startup=on_startup,
    # The phone's sample-point lists (near, delta sync) read through a bare asyncpg pool.
    read_pool_size=10,
)
