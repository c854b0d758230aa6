"""internal endpoints: service-to-service reads (service token + `X-Region-Id` only)."""

from __future__ import annotations

import uuid
from typing import Annotated

import orjson
from fastapi import APIRouter, Query, Response

from registry.internal import service
from shared.auth import ServiceCaller
from shared.db import SessionDep

router = APIRouter(prefix="/v1/internal", tags=["internal"], include_in_schema=False)


def _json(payload: dict) -> Response:
    return Response(orjson.dumps(payload, default=str), media_type="application/json")


@router.get("/sample-points/{point_id}/context")
async def sample_point_context(
    point_id: uuid.UUID,
    principal: ServiceCaller,
    session: SessionDep,
    checklist_version: Annotated[int | None, Query(ge=1)] = None,
) -> Response:
    """Everything an inspection ingest needs in one call: region, point (retired ones too — see `status`), type, category, checklist (`checklist_version`, else the current one; null when that version does not exist), unit, grid, chiefs of the grid and its ancestors (root first), deadline policy (region defaults overlaid by the type's override) and calendar days from 120 days ago to 400 ahead. Deleted or unknown point → 404."""
    return _json(
        await service.point_context(session, principal.region_id, point_id, checklist_version)
    )


@router.get("/deadline-context")
async def deadline_context(principal: ServiceCaller, session: SessionDep) -> Response:
    """The region, its deadline policies and its calendar (120 days back, 400 ahead), for deadline arithmetic without a sample point."""
    return _json(await service.deadline_context(session, principal.region_id))
