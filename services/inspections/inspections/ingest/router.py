"""Inspection endpoints: the woodpecker patrol's submissions, one by one or in batches."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response

from inspections.ingest import repository, service
from inspections.ingest.batch import submit_batch as submit_inspection_batch
from inspections.ingest.dependencies import IngestSession
from inspections.ingest.schemas import (
    BatchResult,
    InspectionBatch,
    InspectionCreate,
    InspectionDetail,
    InspectionRead,
    Source,
    Validation,
)
from inspections.ingest.views import to_detail, to_read
from shared.auth import CurrentUser, Principal, require_roles
from shared.db import SessionDep
from shared.inputs import AwareInstant
from shared.pagination import DEFAULT_LIMIT, CursorParam, LimitParam, Page

router = APIRouter(prefix="/v1/inspections", tags=["inspections"])

Submitter = Annotated[Principal, Depends(require_roles("admin", "inspector", "leader"))]

_SUBMIT_RESPONSES = {
    200: {"description": "The same inspection was already stored; the stored record."},
    202: {"description": "Accepted while the registry is unreachable: `validation: pending`."},
    409: {"description": "Another body was already stored under this id."},
    422: {"description": "Not valid: one `errors` entry per problem."},
    503: {
        "description": (
            "The database is unavailable, or the submission waited too long for its turn "
            "(while other regions are active, one region's submissions take "
            "`INSPECTIONS_INGEST_TURNS_PER_REGION` turns at a time); nothing was saved "
            "(see Retry-After)."
        )
    },
}


@router.post("", response_model=InspectionDetail, status_code=201, responses=_SUBMIT_RESPONSES)
async def submit_inspection(
    body: InspectionCreate,
    request: Request,
    response: Response,
    principal: Submitter,
    session: IngestSession,  # a fair turn at the database, then the session
) -> InspectionDetail | Response:
    """Submit one visit (201), idempotent by its client id: the same body again answers 200 with the stored record, another body 409; when the registry is unreachable it is kept `pending` (202) and validated, scored and its cases opened once the registry answers (a pending one found invalid becomes `rejected` with `validation_error`). `inspector_id` is the caller; admins and inspectors submit any source, leaders only `source: leader`. Every item of the checklist version must be answered (`na` when it does not apply); a result takes a `grade` 0–10 or a `deduction`, or neither (`pass` = full points, `fail` = 0). Times may not be more than 5 minutes ahead nor older than 30 days; all photos must be uploaded first. `off_site` is set past 300 m from the point (and when no location is sent), `suspect_photos` when a photo's bytes were used by another inspection or its EXIF time is over a day from the visit; neither rejects."""
    outcome = await service.submit(session, request.app, principal=principal, body=body)
    location = {"Location": f"/v1/inspections/{outcome.id}"}
    if outcome.detail is not None:  # a new record, answered from memory (no reload)
        content = InspectionDetail.model_validate(outcome.detail).model_dump_json()
        return Response(content, outcome.status, location, media_type="application/json")
    response.status_code = outcome.status
    response.headers.update(location)
    assert outcome.inspection is not None
    return await to_detail(session, outcome.inspection)


@router.post("/batch", response_model=BatchResult)
async def submit_batch(
    batch: InspectionBatch,
    request: Request,
    principal: Submitter,
    session: IngestSession,
) -> BatchResult:
    """Submit up to 100 inspections (an offline phone catching up); each is stored or refused on its own and the answer lists, in the order given, `{id, status: 201|200|202|409|422|403, error?}` with a problem-details `error` for refused ones. The batch itself answers 200 (503 and nothing saved when the database fails)."""
    results = await submit_inspection_batch(
        session, request.app, principal=principal, items=batch.inspections
    )
    return BatchResult.model_validate({"results": results})


@router.get("", response_model=Page[InspectionRead])
async def list_inspections(
    session: SessionDep,
    principal: CurrentUser,
    sample_point: uuid.UUID | None = None,
    inspector: uuid.UUID | None = None,
    unit: uuid.UUID | None = None,
    source: Source | None = None,
    passed: bool | None = None,
    validation: Validation | None = None,
    off_site: bool | None = None,
    suspect_photos: bool | None = None,
    epidemic_incomplete: Annotated[
        bool | None,
        Query(
            description="true: visits where any epidemic check (health code, temperature, "
            "masks) is not confirmed true; false: all three confirmed."
        ),
    ] = None,
    from_: Annotated[
        AwareInstant | None, Query(alias="from", description="finished_at ≥ from")
    ] = None,
    to: Annotated[AwareInstant | None, Query(description="finished_at < to")] = None,
    limit: LimitParam = DEFAULT_LIMIT,
    cursor: CursorParam = None,
) -> Page[InspectionRead]:
    """Inspections of the region, oldest visit first (by `finished_at`, then id); units see the inspections of their own points only. Pending ones are listed with their submitted fields and no score."""
    filters = repository.InspectionFilters(
        sample_point=sample_point,
        inspector=inspector,
        unit=unit,
        source=source,
        passed=passed,
        validation=validation,
        off_site=off_site,
        suspect_photos=suspect_photos,
        epidemic_incomplete=epidemic_incomplete,
        from_at=from_,
        to_at=to,
    )
    rows, next_cursor = await repository.list_inspections(
        session, principal, filters, cursor=cursor, limit=limit
    )
    return Page[InspectionRead](items=[to_read(r) for r in rows], next_cursor=next_cursor)


@router.get("/{inspection_id}", response_model=InspectionDetail)
async def get_inspection(
    inspection_id: uuid.UUID, session: SessionDep, principal: CurrentUser
) -> InspectionDetail:
    """One inspection with its item results (points, earned) and the ids of the cases it opened; 404 outside the caller's region or unit."""
    inspection = await repository.get_visible(session, principal, inspection_id)
    return await to_detail(session, inspection)
