"""``CurrentPointType``: a live point type of the caller's region, or 404."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import Depends

from registry.point_types.service import get_point_type
from shared.auth import CurrentUser
from shared.db import SessionDep
from shared.models import PointType


async def current_point_type(
    point_type_id: uuid.UUID, principal: CurrentUser, session: SessionDep
) -> PointType:
    return await get_point_type(session, principal.region_id, point_type_id)


CurrentPointType = Annotated[PointType, Depends(current_point_type)]
