"""``/healthz`` (the process is alive) and ``/readyz`` (database reachable, schema at head)."""

from __future__ import annotations

import ast
from functools import lru_cache

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from sqlalchemy import text

from shared.embedded_db import REPO_ROOT

router = APIRouter(tags=["health"])


MIGRATIONS = REPO_ROOT / "migrations" / "versions"


def _revision_ids(node: ast.expr | None) -> set[str]:
    value = ast.literal_eval(node) if node is not None else None
    if value is None:
        return set()
    return {value} if isinstance(value, str) else set(value)


@lru_cache
def alembic_head() -> str | None:
    """The head revision of the one Alembic history shipped with the code.

    Read from the migration files' ``revision`` and ``down_revision`` assignments, not
    through Alembic's ``ScriptDirectory``: that would import Alembic and every migration
    into each service, about 12 MB of resident memory for one string
    (tests/shared/test_foundation.py checks both agree). Several heads: an error, as in Alembic.
    """
    revisions: set[str] = set()
    parents: set[str] = set()
    for path in MIGRATIONS.glob("*.py"):
        for node in ast.parse(path.read_text(encoding="utf-8")).body:
            target = node.target if isinstance(node, ast.AnnAssign) else None
            if isinstance(node, ast.Assign) and len(node.targets) == 1:
                target = node.targets[0]
            if not isinstance(target, ast.Name):
                continue
            if target.id == "revision":
                revisions |= _revision_ids(node.value)
            elif target.id == "down_revision":
                parents |= _revision_ids(node.value)
    heads = revisions - parents
    if len(heads) > 1:
        raise RuntimeError(f"the migrations have several heads: {sorted(heads)}")
    return next(iter(heads), None)


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
