"""Chiefs: who answers for an area (片长), a grid (网格长) or a road (路长)."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Request, Response, status

from registry.chiefs import service
from registry.chiefs.dependencies import CurrentChief
from registry.chiefs.schemas import ChiefCreate, ChiefKind, ChiefRead, ChiefUpdate
from shared.auth import AdminUser, CurrentUser
from shared.concurrency import check_if_match, set_etag
from shared.db import SessionDep
from shared.pagination import CursorParam, LimitParam, Page

router = APIRouter(prefix="/v1/chiefs", tags=["chiefs"])


@router.get("", response_model=Page[ChiefRead])
async def list_chiefs(
    session: SessionDep,
    principal: CurrentUser,
    person: uuid.UUID | None = None,
    kind: ChiefKind | None = None,
    division: uuid.UUID | None = None,
    limit: LimitParam = 50,
    cursor: CursorParam = None,
) -> Page[ChiefRead]:
    """List the region's chiefs in the order they were appointed; filter by `person`, `kind` or `division` (the exact division, not its subtree)."""
    rows, next_cursor = await service.list_chiefs(
        session,
        region_id=principal.region_id,
        person=person,
        kind=kind,
        division=division,
        cursor=cursor,
        limit=limit,
    )
    return Page(items=[ChiefRead.model_validate(r) for r in rows], next_cursor=next_cursor)


@router.post("", response_model=ChiefRead, status_code=status.HTTP_201_CREATED)
async def create_chief(
    principal: AdminUser, body: ChiefCreate, session: SessionDep, response: Response
) -> ChiefRead:
    """Appoint a chief (admin): an active person of the region; `area` needs a street or community, `grid` a grid, `road` a `road_name` (division optional). The same post twice is 409."""
    chief = await service.create_chief(
        session, region_id=principal.region_id, state=body.model_dump()
    )
    set_etag(response, chief.version)
    return ChiefRead.model_validate(chief)


@router.get("/{chief_id}", response_model=ChiefRead)
async def get_chief(chief: CurrentChief, response: Response) -> ChiefRead:
    """One chief of the caller's region."""
    set_etag(response, chief.version)
    return ChiefRead.model_validate(chief)


@router.patch("/{chief_id}", response_model=ChiefRead)
async def update_chief(
    principal: AdminUser,
    body: ChiefUpdate,
    chief: CurrentChief,
    session: SessionDep,
    request: Request,
    response: Response,
) -> ChiefRead:
    """Change a chief post (admin, `If-Match` honoured); the result must satisfy the same rules as a new one."""
    check_if_match(request, chief.version)
    chief = await service.update_chief(session, chief, body.model_dump(exclude_unset=True))
    set_etag(response, chief.version)
    return ChiefRead.model_validate(chief)


@router.delete("/{chief_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_chief(
    principal: AdminUser, chief: CurrentChief, session: SessionDep, request: Request
) -> None:
    """Remove a chief post (admin, `If-Match` honoured); the person's account stays."""
    check_if_match(request, chief.version)
    await service.delete_chief(session, chief)
