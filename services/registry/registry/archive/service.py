"""Rules of the archive: items belong to a category of the region, files are stored by
hash, completeness is counted in SQL."""

from __future__ import annotations

import uuid
from collections import defaultdict
from typing import Any

from sqlalchemy import and_, exists, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from registry.archive.schemas import (
    ArchiveFileRead,
    ArchiveItemCreate,
    ArchiveItemRead,
    CategoryCompleteness,
)
from shared.errors import Conflict, Unprocessable
from shared.listing import keyset_page
from shared.models import ArchiveFile, ArchiveItem, Category, Standard


async def with_files(session: AsyncSession, items: list[ArchiveItem]) -> list[ArchiveItemRead]:
    """Attach the files of a page of items with one query."""
    files: dict[uuid.UUID, list[ArchiveFileRead]] = defaultdict(list)
    if items:
        rows = await session.scalars(
            select(ArchiveFile)
            .where(
                ArchiveFile.region_id == items[0].region_id,
                ArchiveFile.archive_item_id.in_([i.id for i in items]),
            )
            .order_by(ArchiveFile.uploaded_at, ArchiveFile.id)
        )
        for row in rows:
            files[row.archive_item_id].append(ArchiveFileRead.model_validate(row))
    return [
        ArchiveItemRead(
            id=i.id,
            category_id=i.category_id,
            code=i.code,
            title=i.title,
            description=i.description,
            required=i.required,
            version=i.version,
            updated_at=i.updated_at,
            files=files[i.id],
        )
        for i in items
    ]


async def list_items(
    session: AsyncSession,
    *,
    region_id: uuid.UUID,
    category: uuid.UUID | None,
    required: bool | None,
    cursor: str | None,
    limit: int,
) -> tuple[list[ArchiveItemRead], str | None]:
    stmt = select(ArchiveItem).where(ArchiveItem.region_id == region_id)
    if category is not None:
        stmt = stmt.where(ArchiveItem.category_id == category)
    if required is not None:
        stmt = stmt.where(ArchiveItem.required.is_(required))
    rows, next_cursor = await keyset_page(
        session, stmt, order_by=[ArchiveItem.code, ArchiveItem.id], cursor=cursor, limit=limit
    )
    return await with_files(session, rows), next_cursor


async def _check_category(
    session: AsyncSession, region_id: uuid.UUID, category_id: uuid.UUID
) -> None:
    found = await session.scalar(
        select(Category.id).where(Category.region_id == region_id, Category.id == category_id)
    )
    if found is None:
        raise Unprocessable(
            "The category does not exist.",
            errors=[{"loc": ["body", "category_id"], "msg": "no such category"}],
        )


async def _ensure_code_free(session: AsyncSession, region_id: uuid.UUID, code: str) -> None:
    taken = await session.scalar(
        select(ArchiveItem.id).where(ArchiveItem.region_id == region_id, ArchiveItem.code == code)
    )
    if taken is not None:
        raise Conflict(f"The archive item code {code!r} is already used.")


async def create_item(
    session: AsyncSession, *, region_id: uuid.UUID, body: ArchiveItemCreate
) -> ArchiveItem:
    await _check_category(session, region_id, body.category_id)
    await _ensure_code_free(session, region_id, body.code)
    item = ArchiveItem(region_id=region_id, id=uuid.uuid4(), **body.model_dump())
    session.add(item)
    await session.flush()
    await session.refresh(item)
    return item


async def update_item(
    session: AsyncSession, item: ArchiveItem, changes: dict[str, Any]
) -> ArchiveItem:
    if "category_id" in changes and changes["category_id"] != item.category_id:
        await _check_category(session, item.region_id, changes["category_id"])
    if "code" in changes and changes["code"] != item.code:
        await _ensure_code_free(session, item.region_id, changes["code"])
    for field, value in changes.items():
        setattr(item, field, value)
    await session.flush()
    await session.refresh(item)
    return item


async def delete_item(session: AsyncSession, item: ArchiveItem) -> None:
    await session.delete(item)  # its file rows go by ON DELETE CASCADE
    await session.flush()


async def touch(session: AsyncSession, item: ArchiveItem) -> None:
    """A file change is a change of the item: new version, new ETag, new updated_at."""
    item.updated_at = func.now()
    await session.flush()
    await session.refresh(item)


async def add_file(
    session: AsyncSession,
    item: ArchiveItem,
    *,
    filename: str,
    content_type: str,
    size: int,
    sha256: str,
    uploaded_by: uuid.UUID | None,
) -> ArchiveFile:
    row = ArchiveFile(
        region_id=item.region_id,
        id=uuid.uuid4(),
        archive_item_id=item.id,
        filename=filename,
        content_type=content_type,
        size=size,
        sha256=sha256,
        uploaded_by=uploaded_by,
    )
    session.add(row)
    await session.flush()
    await session.refresh(row)
    await touch(session, item)
    return row


async def delete_file(session: AsyncSession, item: ArchiveItem, row: ArchiveFile) -> None:
    # The stored bytes stay: other files may share the same hash.
    await session.delete(row)
    await session.flush()
    await touch(session, item)


async def completeness(
    session: AsyncSession, *, region_id: uuid.UUID, standard: uuid.UUID | None
) -> list[CategoryCompleteness]:
    has_file = exists().where(
        ArchiveFile.region_id == ArchiveItem.region_id,
        ArchiveFile.archive_item_id == ArchiveItem.id,
    )
    required_items = func.count(ArchiveItem.id).filter(ArchiveItem.required.is_(True))
    with_files = func.count(ArchiveItem.id).filter(and_(ArchiveItem.required.is_(True), has_file))
    stmt = (
        select(
            Category.id,
            Category.standard_id,
            Category.code,
            Category.name,
            required_items.label("required_items"),
            with_files.label("items_with_files"),
        )
        .join(
            Standard,
            and_(Standard.region_id == Category.region_id, Standard.id == Category.standard_id),
        )
        .outerjoin(
            ArchiveItem,
            and_(
                ArchiveItem.region_id == Category.region_id,
                ArchiveItem.category_id == Category.id,
            ),
        )
        .where(Category.region_id == region_id)
        .group_by(Category.region_id, Category.id, Standard.region_id, Standard.id)
        .order_by(Standard.version, Standard.code, Category.ordinal)
    )
    if standard is not None:
        stmt = stmt.where(Category.standard_id == standard)
    return [
        CategoryCompleteness(
            category_id=row.id,
            standard_id=row.standard_id,
            code=row.code,
            name=row.name,
            required_items=row.required_items,
            items_with_files=row.items_with_files,
            completeness=row.items_with_files / row.required_items if row.required_items else 1.0,
        )
        for row in await session.execute(stmt)
    ]
