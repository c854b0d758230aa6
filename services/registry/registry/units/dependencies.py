"""Load a unit in the caller's scope (region, and own unit for unit accounts), or 404."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import Depends
from sqlalchemy import select

from shared.auth import CurrentUser
from shared.db import SessionDep
from shared.errors import NotFound
from shared.models import Unit


async def current_unit(unit_id: uuid.UUID, session: SessionDep, principal: CurrentUser) -> Unit:
    if principal.role == "unit" and principal.unit_id != unit_id:
        raise NotFound("No such unit.")
    unit = await session.scalar(
        select(Unit).where(
            Unit.region_id == principal.region_id,
            Unit.id == unit_id,
            Unit.deleted_at.is_(None),
        )
    )
    if unit is None:
        raise NotFound("No such unit.")
    return unit


CurrentUnit = Annotated[Unit, Depends(current_unit)]
