"""Placeholder: the demo region loader (see the demo-data work)."""

from __future__ import annotations

from shared.models import Region
from sqlalchemy.ext.asyncio import AsyncSession

from registry.regions.service import provision_region

DEMO_REGION_CODE = "guangfeng"


async def load_demo_region(session: AsyncSession) -> Region:
    return await provision_region(session, code=DEMO_REGION_CODE, name="广丰区")
