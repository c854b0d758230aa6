"""Who may read which report, and the caller's region time zone.

admin and leader read every figure of their region. A unit account reads only
its own unit's rows and figures (never another unit's). Inspectors read
coverage, the overview and the overdue list for the region, and only their own
row of the inspectors and chiefs reports. Any other combination is 403.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Annotated
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from fastapi import Depends
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from shared.auth import CurrentUser, Principal, Role
from shared.db import SessionDep
from shared.errors import Forbidden, NotFound
from shared.models import Region


@dataclass(frozen=True)
class Reader:
    """The caller of a report: their region and, for unit accounts, the one unit they may see."""

    principal: Principal
    tz: ZoneInfo
    region_name: str = ""  # for the title row of exports

    @property
    def region_id(self) -> uuid.UUID:
        return self.principal.region_id

    @property
    def role(self) -> str:
        return self.principal.role

    @property
    def own_unit(self) -> uuid.UUID | None:
        """The unit a unit account is confined to (``None`` for everyone else)."""
        return self.principal.unit_id if self.principal.role == "unit" else None

    @property
    def person_id(self) -> uuid.UUID | None:
        return self.principal.person_id


async def region_timezone(session: AsyncSession, region_id: uuid.UUID) -> ZoneInfo:
    return (await region_of(session, region_id))[1]


async def region_of(session: AsyncSession, region_id: uuid.UUID) -> tuple[str, ZoneInfo]:
    """The region's name and time zone."""
    row = (
        await session.execute(select(Region.name, Region.timezone).where(Region.id == region_id))
    ).first()
    if row is None:
        raise NotFound("The caller's region does not exist.")
    try:
        return row.name, ZoneInfo(row.timezone)
    except (ZoneInfoNotFoundError, ValueError):
        return row.name, ZoneInfo("Asia/Shanghai")


def reader(*roles: Role):
    async def _dependency(principal: CurrentUser, session: SessionDep) -> Reader:
        if principal.role not in roles:
            raise Forbidden(
                f"The role '{principal.role}' may not read this report; allowed: {', '.join(roles)}."
            )
        if principal.role == "unit" and principal.unit_id is None:
            raise Forbidden("This unit account is not attached to a unit.")
        name, tz = await region_of(session, principal.region_id)
        return Reader(principal, tz, name)

    return _dependency


UnitsReader = Annotated[Reader, Depends(reader("admin", "leader", "unit"))]
CoverageReader = Annotated[Reader, Depends(reader("admin", "leader", "inspector", "unit"))]
InspectorsReader = Annotated[Reader, Depends(reader("admin", "leader", "inspector"))]
ChiefsReader = Annotated[Reader, Depends(reader("admin", "leader", "inspector"))]
OverviewReader = Annotated[Reader, Depends(reader("admin", "leader", "inspector", "unit"))]
OverdueReader = Annotated[Reader, Depends(reader("admin", "leader", "inspector", "unit"))]
BulletinReader = Annotated[Reader, Depends(reader("admin", "leader"))]
