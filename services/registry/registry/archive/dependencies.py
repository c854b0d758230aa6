"""Load an archive item (and one of its files) in the caller's region, or answer 404."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import Depends
from sqlalchemy import select

from shared.auth import CurrentUser
from shared.db import SessionDep
from shared.errors import NotFound
from shared.models import ArchiveFile, ArchiveItem


async def current_item(
    item_id: uuid.UUID, session: SessionDep, principal: CurrentUser
) -> ArchiveItem:
    item = await session.scalar(
        select(ArchiveItem).where(
            ArchiveItem.region_id == principal.region_id, ArchiveItem.id == item_id
        )
    )
    if item is None:
        raise NotFound("No such archive item.")
    return item


CurrentItem = Annotated[ArchiveItem, Depends(current_item)]


async def current_file(file_id: uuid.UUID, item: CurrentItem, session: SessionDep) -> ArchiveFile:
    found = await session.scalar(
        select(ArchiveFile).where(
            ArchiveFile.region_id == item.region_id,
            ArchiveFile.archive_item_id == item.id,
            ArchiveFile.id == file_id,
        )
    )
    if found is None:
        raise NotFound("No such file on this archive item.")
    return found


CurrentFile = Annotated[ArchiveFile, Depends(current_file)]
