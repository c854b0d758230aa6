"""Load a division in the caller's region, or answer 404."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import Depends
from sqlalchemy import select

from shared.auth import CurrentUser
from shared.db import SessionDep
from shared.errors import NotFound
from shared.models import Division


async def current_division(
    division_id: uuid.UUID, session: SessionDep, principal: CurrentUser
) -> Division:
    division = await session.scalar(
        select(Division).where(
            Division.region_id == principal.region_id,
            Division.id == division_id,
            Division.deleted_at.is_(None),
        )
    )
    if division is None:
        raise NotFound("No such division.")
    return division


CurrentDivision = Annotated[Division, Depends(current_division)]
