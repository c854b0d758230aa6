"""The registry service: the region's sample points, organisation, standards and checklists."""

from __future__ import annotations

from fastapi import FastAPI

from registry.auth.router import router as auth_router
from registry.bootstrap import bootstrap
from registry.examples import REQUEST_EXAMPLES
from registry.routers import ROUTERS
from registry.settings import RegistrySettings
from shared.app import create_app


async def on_startup(app: FastAPI) -> None:
    await bootstrap(app.state.sessionmaker, app.state.settings)


TAGS = [
    {"name": "auth", "description": "Sign in (OAuth2 password form) for a bearer JWT; throttled."},
    {"name": "divisions", "description": "The street → community → grid tree."},
    {"name": "units", "description": "Responsible units (责任单位) that rectify cases."},
    {"name": "people", "description": "Accounts, roles and passwords (admins manage them)."},
    {"name": "chiefs", "description": "Area, grid and road chiefs (片长, 网格长, 路长)."},
    {"name": "standards", "description": "The health-city standard and its categories."},
    {"name": "point-types", "description": "Kinds of sample point and their deadline overrides."},
    {"name": "checklists", "description": "Versioned checklists of a point type."},
    {
        "name": "sample-points",
        "description": "Sites to inspect: map search, delta sync, import/export.",
    },
    {"name": "calendar", "description": "Holidays and make-up working days (调休)."},
    {"name": "deadline-policies", "description": "How long a unit has per severity."},
    {"name": "archive", "description": "The 创卫 archive: required documents and their files."},
    {"name": "audit", "description": "Who changed which registry record, when, before → after."},
]


def build_app() -> FastAPI:
    """A new registry app (the API fuzzing test starts one on its own event loop)."""
    return create_app(
        service="registry",
        title="Chuangwei registry",
        description=(
            "The region's system of record: divisions (street → community → grid), responsible "
            "units, people and chiefs, the health-city standard and its categories, point types "
            "with versioned checklists, sample points, the working calendar, deadline policies "
            "and the 创卫 archive. Sign in at `POST /v1/auth/token` (Swagger: Authorize); every "
            "other endpoint takes `Authorization: Bearer <JWT>`. Errors are RFC 9457 problem "
            "details (`application/problem+json`)."
        ),
        settings_factory=RegistrySettings,
        routers=[auth_router, *ROUTERS],
        on_startup=on_startup,
        # The phone's sample-point lists (near, delta sync) read through a bare asyncpg pool.
        read_pool_size=10,
        openapi_tags=TAGS,
        request_examples=REQUEST_EXAMPLES,
        sign_in_url="/v1/auth/token",
    )


app = build_app()
