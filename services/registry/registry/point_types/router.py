"""point-types endpoints: what kinds of sample points exist, their pass mark and visit rhythm."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response, status

from registry.point_types import service
from registry.point_types.dependencies import CurrentPointType
from registry.point_types.schemas import PointTypeCreate, PointTypeRead, PointTypeUpdate
from shared.auth import AdminUser, CurrentUser
from shared.concurrency import check_if_match, set_etag
from shared.db import SessionDep
from shared.inputs import Instant
from shared.pagination import DEFAULT_LIMIT, CursorParam, LimitParam, Page

router = APIRouter(prefix="/v1/point-types", tags=["point-types"])


@router.get("", response_model=Page[PointTypeRead])
async def list_point_types(
    principal: CurrentUser,
    session: SessionDep,
    category_id: uuid.UUID | None = None,
    updated_since: Annotated[
        Instant | None,
        Query(
            description="Delta sync: changes at or after this time, deleted types as tombstones."
        ),
    ] = None,
    limit: LimitParam = DEFAULT_LIMIT,
    cursor: CursorParam = None,
) -> Page[PointTypeRead]:
    """List the region's point types by code; with `updated_since`, every change (tombstones included) by `updated_at`."""
    items, next_cursor = await service.list_point_types(
        session,
        principal,
        category_id=category_id,
        updated_since=updated_since,
        cursor=cursor,
        limit=limit,
    )
    return Page(items=items, next_cursor=next_cursor)


@router.post("", response_model=PointTypeRead, status_code=status.HTTP_201_CREATED)
async def create_point_type(
    data: PointTypeCreate, principal: AdminUser, session: SessionDep, response: Response
) -> PointTypeRead:
    """Create a point type (admin); its category must belong to the region. Publish a checklist next."""
    point_type = await service.create_point_type(session, principal.region_id, data)
    set_etag(response, point_type.version)
    response.headers["Location"] = f"/v1/point-types/{point_type.id}"
    return service.to_read(point_type, None)


@router.get("/{point_type_id}", response_model=PointTypeRead)
async def get_point_type(
    point_type: CurrentPointType, session: SessionDep, response: Response
) -> PointTypeRead:
    """One point type with its current checklist version; deleted or unknown → 404."""
    set_etag(response, point_type.version)
    return await service.read(session, point_type)


@router.patch("/{point_type_id}", response_model=PointTypeRead)
async def update_point_type(
    data: PointTypeUpdate,
    point_type: CurrentPointType,
    principal: AdminUser,
    session: SessionDep,
    request: Request,
    response: Response,
) -> PointTypeRead:
    """Change a point type (admin); `If-Match: "<version>"` guards against lost updates (412 when stale)."""
    check_if_match(request, point_type.version)
    point_type = await service.update_point_type(session, point_type, data)
    set_etag(response, point_type.version)
    return await service.read(session, point_type)


@router.delete("/{point_type_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_point_type(
    point_type: CurrentPointType, principal: AdminUser, session: SessionDep, request: Request
) -> Response:
    """Soft-delete a point type (admin; 409 while live sample points use it); it stays a tombstone in delta sync and its code is not reused."""
    check_if_match(request, point_type.version)
    await service.delete_point_type(session, point_type)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
