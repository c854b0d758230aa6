"""checklists endpoints: publish and read the versioned 测评细则 of each point type."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Path, Query, Response, status

from registry.checklists import service
from registry.checklists.schemas import ChecklistCreate, ChecklistRead
from registry.point_types.dependencies import CurrentPointType
from shared.auth import AdminUser, CurrentUser
from shared.db import SessionDep
from shared.inputs import Instant
from shared.pagination import DEFAULT_LIMIT, CursorParam, LimitParam, Page

router = APIRouter(prefix="/v1", tags=["checklists"])


@router.get("/checklists", response_model=Page[ChecklistRead])
async def list_checklists(
    principal: CurrentUser,
    session: SessionDep,
    point_type_id: uuid.UUID | None = None,
    updated_since: Annotated[
        Instant | None, Query(description="Delta sync: versions published at or after this time.")
    ] = None,
    limit: LimitParam = DEFAULT_LIMIT,
    cursor: CursorParam = None,
) -> Page[ChecklistRead]:
    """Every checklist version of the region by `(updated_at, id)`, for the phone's delta sync across types (versions are never deleted)."""
    items, next_cursor = await service.list_changed(
        session,
        principal.region_id,
        point_type_id=point_type_id,
        updated_since=updated_since,
        cursor=cursor,
        limit=limit,
    )
    return Page(items=items, next_cursor=next_cursor)


@router.get("/point-types/{point_type_id}/checklists", response_model=Page[ChecklistRead])
async def list_checklist_versions(
    point_type: CurrentPointType,
    session: SessionDep,
    limit: LimitParam = DEFAULT_LIMIT,
    cursor: CursorParam = None,
) -> Page[ChecklistRead]:
    """The point type's checklist versions, oldest first."""
    items, next_cursor = await service.list_versions(
        session, point_type, cursor=cursor, limit=limit
    )
    return Page(items=items, next_cursor=next_cursor)


@router.post(
    "/point-types/{point_type_id}/checklists",
    response_model=ChecklistRead,
    status_code=status.HTTP_201_CREATED,
)
async def publish_checklist(
    data: ChecklistCreate,
    point_type: CurrentPointType,
    principal: AdminUser,
    session: SessionDep,
    response: Response,
) -> ChecklistRead:
    """Publish the next version (admin): at least one item, unique item codes, points > 0; `max_points` is their sum. Older versions stay as they were."""
    checklist = await service.publish(session, point_type, data)
    response.headers["Location"] = f"/v1/point-types/{point_type.id}/checklists/{checklist.version}"
    return checklist


@router.get("/point-types/{point_type_id}/checklists/{version}", response_model=ChecklistRead)
async def get_checklist_version(
    point_type: CurrentPointType,
    session: SessionDep,
    version: Annotated[int, Path(ge=1)],
) -> ChecklistRead:
    """One published checklist version (immutable: there is no PATCH)."""
    return await service.get_version(session, point_type, version)
