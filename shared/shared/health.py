"""``/healthz`` (the process is alive) and ``/readyz`` (database reachable, schema at head)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from alembic.config import Config
from alembic.script import ScriptDirectory
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from sqlalchemy import text

from shared.embedded_db import REPO_ROOT

router = APIRouter(tags=["health"])


@lru_cache
def alembic_head() -> str | None:
    """The head revision of the one Alembic history shipped with the code."""
    config = Config(str(REPO_ROOT / "alembic.ini"))
    config.set_main_option("script_location", str(Path(REPO_ROOT, "migrations")))
    return ScriptDirectory.from_config(config).get_current_head()


@router.get("/healthz")
async def healthz() -> dict[str, str]:
    """The process is alive."""
    return {"status": "ok"}


@router.get("/readyz")
async def readyz(request: Request) -> JSONResponse:
    """Ready when the database answers and its schema is at the Alembic head."""
    head = alembic_head()
    try:
        async with request.app.state.engine.connect() as conn:
            current = (await conn.execute(text("select version_num from alembic_version"))).scalar()
    except Exception as exc:  # any failure to reach or read the database means "not ready"
        return JSONResponse(
            {"status": "unavailable", "detail": f"database: {type(exc).__name__}"},
            status_code=503,
            headers={"Retry-After": "5"},
        )
    if current != head:
        return JSONResponse(
            {"status": "migrating", "schema": current, "head": head},
            status_code=503,
            headers={"Retry-After": "5"},
        )
    return JSONResponse({"status": "ok", "schema": current})
