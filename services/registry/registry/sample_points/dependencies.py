"""``CurrentSamplePoint``: a live point the caller may see, or 404."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import Depends

from registry.sample_points.service import get_point
from shared.auth import CurrentUser
from shared.db import SessionDep
from shared.models import SamplePoint


async def current_sample_point(
    point_id: uuid.UUID, principal: CurrentUser, session: SessionDep
) -> SamplePoint:
    return await get_point(session, principal, point_id)


CurrentSamplePoint = Annotated[SamplePoint, Depends(current_sample_point)]
