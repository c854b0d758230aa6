"""Divisions: the region's street → community → grid tree."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Query, Request, Response, status

from registry.divisions import service
from registry.divisions.dependencies import CurrentDivision
from registry.divisions.schemas import DivisionCreate, DivisionRead, DivisionUpdate, Level
from shared.auth import AdminUser, CurrentUser
from shared.concurrency import check_if_match, set_etag
from shared.db import SessionDep
from shared.inputs import AwareInstant
from shared.pagination import CursorParam, LimitParam, Page

router = APIRouter(prefix="/v1/divisions", tags=["divisions"])

UpdatedSince = Query(
    None,
    description="Delta sync: rows changed at or after this time (with offset), "
    "ordered by (updated_at, id), deleted rows included as tombstones.",
)


@router.get("", response_model=Page[DivisionRead])
async def list_divisions(
    session: SessionDep,
    principal: CurrentUser,
    parent: uuid.UUID | None = Query(None, description="Only direct children of this division."),
    level: Level | None = None,
    updated_since: AwareInstant | None = UpdatedSince,
    limit: LimitParam = 50,
    cursor: CursorParam = None,
) -> Page[DivisionRead]:
    """List divisions by code; with `updated_since`, every change since then incl. tombstones (`deleted: true`)."""
    rows, next_cursor = await service.list_divisions(
        session,
        region_id=principal.region_id,
        parent=parent,
        level=level,
        updated_since=updated_since,
        cursor=cursor,
        limit=limit,
    )
    return Page(items=[DivisionRead.model_validate(r) for r in rows], next_cursor=next_cursor)


@router.post("", response_model=DivisionRead, status_code=status.HTTP_201_CREATED)
async def create_division(
    principal: AdminUser, body: DivisionCreate, session: SessionDep, response: Response
) -> DivisionRead:
    """Create a division (admin); a street has no parent, a community sits in a street, a grid in a community; codes are unique in the region (409)."""
    division = await service.create_division(session, region_id=principal.region_id, body=body)
    set_etag(response, division.version)
    return DivisionRead.model_validate(division)


@router.get("/{division_id}", response_model=DivisionRead)
async def get_division(division: CurrentDivision, response: Response) -> DivisionRead:
    """One division of the caller's region (deleted ones answer 404)."""
    set_etag(response, division.version)
    return DivisionRead.model_validate(division)


@router.patch("/{division_id}", response_model=DivisionRead)
async def update_division(
    principal: AdminUser,
    body: DivisionUpdate,
    division: CurrentDivision,
    session: SessionDep,
    request: Request,
    response: Response,
) -> DivisionRead:
    """Change a division (admin, `If-Match` honoured); a new `parent_id` moves its whole subtree, and a move into its own subtree is refused (422)."""
    check_if_match(request, division.version)
    division = await service.update_division(session, division, body.model_dump(exclude_unset=True))
    set_etag(response, division.version)
    return DivisionRead.model_validate(division)


@router.delete("/{division_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_division(
    principal: AdminUser, division: CurrentDivision, session: SessionDep, request: Request
) -> None:
    """Soft-delete a division (admin, `If-Match` honoured); refused with 409 while it has child divisions or sample points. Its code stays taken."""
    check_if_match(request, division.version)
    await service.delete_division(session, division)
