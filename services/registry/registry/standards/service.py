"""Standards are data, not code: each region holds editions with ordered sections."""

from __future__ import annotations

import uuid
from collections import defaultdict

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from registry.standards.schemas import CategoryRead, StandardCreate, StandardRead
from shared.errors import Conflict, NotFound, Unprocessable
from shared.listing import keyset_page
from shared.models import Category, Standard


async def _with_categories(session: AsyncSession, standards: list[Standard]) -> list[StandardRead]:
    """Attach the categories of a page of standards with one query."""
    by_standard: dict[uuid.UUID, list[CategoryRead]] = defaultdict(list)
    if standards:
        rows = await session.scalars(
            select(Category)
            .where(
                Category.region_id == standards[0].region_id,
                Category.standard_id.in_([s.id for s in standards]),
            )
            .order_by(Category.standard_id, Category.ordinal, Category.id)
        )
        for category in rows:
            by_standard[category.standard_id].append(CategoryRead.model_validate(category))
    return [
        StandardRead(
            id=s.id,
            code=s.code,
            name=s.name,
            version=s.version,
            created_at=s.created_at,
            categories=by_standard[s.id],
        )
        for s in standards
    ]


async def list_standards(
    session: AsyncSession, *, region_id: uuid.UUID, cursor: str | None, limit: int
) -> tuple[list[StandardRead], str | None]:
    rows, next_cursor = await keyset_page(
        session,
        select(Standard).where(Standard.region_id == region_id),
        order_by=[Standard.version, Standard.code, Standard.id],
        cursor=cursor,
        limit=limit,
    )
    return await _with_categories(session, rows), next_cursor


async def get_standard(
    session: AsyncSession, *, region_id: uuid.UUID, standard_id: uuid.UUID
) -> StandardRead:
    standard = await session.scalar(
        select(Standard).where(Standard.region_id == region_id, Standard.id == standard_id)
    )
    if standard is None:
        raise NotFound("No such standard.")
    return (await _with_categories(session, [standard]))[0]


async def create_standard(
    session: AsyncSession, *, region_id: uuid.UUID, body: StandardCreate
) -> StandardRead:
    seen: set[str] = set()
    errors = []
    for index, category in enumerate(body.categories):
        if category.code in seen:
            errors.append({"loc": ["body", "categories", index, "code"], "msg": "duplicate code"})
        seen.add(category.code)
    if errors:
        raise Unprocessable("Category codes must be unique within a standard.", errors=errors)
    taken = await session.scalar(
        select(Standard.id).where(
            Standard.region_id == region_id,
            Standard.code == body.code,
            Standard.version == body.version,
        )
    )
    if taken is not None:
        raise Conflict(f"The standard {body.code} {body.version} already exists.")
    standard = Standard(
        region_id=region_id, id=uuid.uuid4(), code=body.code, name=body.name, version=body.version
    )
    session.add(standard)
    await session.flush()
    session.add_all(
        Category(
            region_id=region_id,
            id=uuid.uuid4(),
            standard_id=standard.id,
            code=category.code,
            name=category.name,
            ordinal=ordinal,
        )
        for ordinal, category in enumerate(body.categories, start=1)
    )
    await session.flush()
    await session.refresh(standard)
    return (await _with_categories(session, [standard]))[0]


async def list_categories(
    session: AsyncSession,
    *,
    region_id: uuid.UUID,
    standard: uuid.UUID | None,
    cursor: str | None,
    limit: int,
) -> tuple[list[Category], str | None]:
    stmt = select(Category).where(Category.region_id == region_id)
    if standard is not None:
        stmt = stmt.where(Category.standard_id == standard)
    return await keyset_page(
        session,
        stmt,
        order_by=[Category.standard_id, Category.ordinal, Category.id],
        cursor=cursor,
        limit=limit,
    )


async def get_category(
    session: AsyncSession, *, region_id: uuid.UUID, category_id: uuid.UUID
) -> Category:
    category = await session.scalar(
        select(Category).where(Category.region_id == region_id, Category.id == category_id)
    )
    if category is None:
        raise NotFound("No such category.")
    return category
