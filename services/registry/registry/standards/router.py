"""Standards and their categories: the health-city standard's editions and sections."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Query, status

from registry.standards import service
from registry.standards.schemas import CategoryRead, StandardCreate, StandardRead
from shared.auth import AdminUser, CurrentUser
from shared.db import SessionDep
from shared.pagination import CursorParam, LimitParam, Page

router = APIRouter(prefix="/v1", tags=["standards"])


@router.get("/standards", response_model=Page[StandardRead])
async def list_standards(
    session: SessionDep, principal: CurrentUser, limit: LimitParam = 50, cursor: CursorParam = None
) -> Page[StandardRead]:
    """List the region's standards by edition, each with its categories in order (every region starts with the 2014 standard's eight)."""
    items, next_cursor = await service.list_standards(
        session, region_id=principal.region_id, cursor=cursor, limit=limit
    )
    return Page(items=items, next_cursor=next_cursor)


@router.post("/standards", response_model=StandardRead, status_code=status.HTTP_201_CREATED)
async def create_standard(
    principal: AdminUser, body: StandardCreate, session: SessionDep
) -> StandardRead:
    """Add a standard edition with its ordered categories (admin); the same code and version twice is 409. Standards are immutable once added, since point types and the archive refer to their categories."""
    return await service.create_standard(session, region_id=principal.region_id, body=body)


@router.get("/standards/{standard_id}", response_model=StandardRead)
async def get_standard(
    standard_id: uuid.UUID, session: SessionDep, principal: CurrentUser
) -> StandardRead:
    """One standard of the caller's region with its categories in order."""
    return await service.get_standard(
        session, region_id=principal.region_id, standard_id=standard_id
    )


@router.get("/categories", response_model=Page[CategoryRead])
async def list_categories(
    session: SessionDep,
    principal: CurrentUser,
    standard: uuid.UUID | None = Query(None, description="Only this standard's categories."),
    limit: LimitParam = 50,
    cursor: CursorParam = None,
) -> Page[CategoryRead]:
    """List categories grouped by standard, in section order."""
    rows, next_cursor = await service.list_categories(
        session, region_id=principal.region_id, standard=standard, cursor=cursor, limit=limit
    )
    return Page(items=[CategoryRead.model_validate(r) for r in rows], next_cursor=next_cursor)


@router.get("/categories/{category_id}", response_model=CategoryRead)
async def get_category(
    category_id: uuid.UUID, session: SessionDep, principal: CurrentUser
) -> CategoryRead:
    """One category of the caller's region."""
    category = await service.get_category(
        session, region_id=principal.region_id, category_id=category_id
    )
    return CategoryRead.model_validate(category)
