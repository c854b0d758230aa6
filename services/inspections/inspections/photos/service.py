"""Photo rules: upload by client id (idempotent by bytes), links to the records that use them,
and who may read them.

A photo is uploaded once under its client id and then *linked* to the records
that use it (an inspection, a case, a case event). The links decide who may
read the bytes and reveal bytes reused by another inspection (anti-fraud).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from typing import Literal

from shared.models import PhotoLink
from shared.models.inspections import Photo
from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

OwnerKind = Literal["inspection", "case", "case_event"]


async def link_photos(
    session: AsyncSession,
    *,
    region_id: uuid.UUID,
    photo_ids: Iterable[uuid.UUID],
    owner_kind: OwnerKind,
    owner_id: uuid.UUID,
) -> None:
    """Record that ``owner`` uses each photo; linking twice is harmless (flush only)."""
    ids = list(dict.fromkeys(photo_ids))
    if not ids:
        return
    stmt = (
        insert(PhotoLink)
        .values(
            [
                {
                    "region_id": region_id,
                    "photo_id": photo_id,
                    "owner_kind": owner_kind,
                    "owner_id": owner_id,
                }
                for photo_id in ids
            ]
        )
        .on_conflict_do_nothing()
    )
    await session.execute(stmt)


async def missing_photos(
    session: AsyncSession, *, region_id: uuid.UUID, photo_ids: Iterable[uuid.UUID]
) -> list[uuid.UUID]:
    """The ids among ``photo_ids`` that were never uploaded in this region, in the given order."""
    ids = list(dict.fromkeys(photo_ids))
    if not ids:
        return []
    found = set(
        await session.scalars(
            select(Photo.id).where(Photo.region_id == region_id, Photo.id.in_(ids))
        )
    )
    return [photo_id for photo_id in ids if photo_id not in found]
