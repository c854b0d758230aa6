"""Units: the responsible organisations (责任单位) that rectify cases."""

from __future__ import annotations

from fastapi import APIRouter, Query, Request, Response, status

from registry.units import service
from registry.units.dependencies import CurrentUnit
from registry.units.schemas import Kind, UnitCreate, UnitRead, UnitUpdate
from shared.auth import AdminUser, CurrentUser
from shared.concurrency import check_if_match, set_etag
from shared.db import SessionDep
from shared.inputs import AwareInstant
from shared.pagination import CursorParam, LimitParam, Page

router = APIRouter(prefix="/v1/units", tags=["units"])


@router.get("", response_model=Page[UnitRead])
async def list_units(
    session: SessionDep,
    principal: CurrentUser,
    kind: Kind | None = None,
    updated_since: AwareInstant | None = Query(
        None,
        description="Delta sync: rows changed at or after this time (with offset), "
        "ordered by (updated_at, id), deleted rows included as tombstones.",
    ),
    limit: LimitParam = 50,
    cursor: CursorParam = None,
) -> Page[UnitRead]:
    """List units by code (a unit account sees only its own unit); with `updated_since`, every change incl. tombstones (`deleted: true`)."""
    rows, next_cursor = await service.list_units(
        session,
        principal=principal,
        kind=kind,
        updated_since=updated_since,
        cursor=cursor,
        limit=limit,
    )
    return Page(items=[UnitRead.model_validate(r) for r in rows], next_cursor=next_cursor)


@router.post("", response_model=UnitRead, status_code=status.HTTP_201_CREATED)
async def create_unit(
    principal: AdminUser, body: UnitCreate, session: SessionDep, response: Response
) -> UnitRead:
    """Create a unit (admin); codes are unique in the region (409)."""
    unit = await service.create_unit(session, region_id=principal.region_id, body=body)
    set_etag(response, unit.version)
    return UnitRead.model_validate(unit)


@router.get("/{unit_id}", response_model=UnitRead)
async def get_unit(unit: CurrentUnit, response: Response) -> UnitRead:
    """One unit of the caller's region; a unit account can read only its own (others 404)."""
    set_etag(response, unit.version)
    return UnitRead.model_validate(unit)


@router.patch("/{unit_id}", response_model=UnitRead)
async def update_unit(
    principal: AdminUser,
    body: UnitUpdate,
    unit: CurrentUnit,
    session: SessionDep,
    request: Request,
    response: Response,
) -> UnitRead:
    """Change a unit (admin, `If-Match` honoured)."""
    check_if_match(request, unit.version)
    unit = await service.update_unit(session, unit, body.model_dump(exclude_unset=True))
    set_etag(response, unit.version)
    return UnitRead.model_validate(unit)


@router.delete("/{unit_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_unit(
    principal: AdminUser, unit: CurrentUnit, session: SessionDep, request: Request
) -> None:
    """Soft-delete a unit (admin, `If-Match` honoured); refused with 409 while sample points or active unit-role accounts belong to it. Its code stays taken."""
    check_if_match(request, unit.version)
    await service.delete_unit(session, unit)
