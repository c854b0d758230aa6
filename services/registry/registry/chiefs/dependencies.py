"""Load a chief of the caller's region, or answer 404."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import Depends
from sqlalchemy import select

from shared.auth import CurrentUser
from shared.db import SessionDep
from shared.errors import NotFound
from shared.models import Chief


async def current_chief(chief_id: uuid.UUID, session: SessionDep, principal: CurrentUser) -> Chief:
    chief = await session.scalar(
        select(Chief).where(Chief.region_id == principal.region_id, Chief.id == chief_id)
    )
    if chief is None:
        raise NotFound("No such chief.")
    return chief


CurrentChief = Annotated[Chief, Depends(current_chief)]
