"""First start on an empty database: the bootstrap region and admin, then the demo region.

Runs in the registry's lifespan under a PostgreSQL advisory lock, so several
replicas starting together provision exactly once.
"""

from __future__ import annotations

import structlog
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from registry.regions.service import count_regions, parse_credentials, provision_region
from shared.errors import Conflict
from shared.models import Region
from shared.settings import CommonSettings

log = structlog.get_logger("chuangwei.bootstrap")

BOOTSTRAP_LOCK_KEY = 0x43570001  # "CW" + 1: pg_advisory_xact_lock key for provisioning


async def bootstrap(
    sessionmaker: async_sessionmaker[AsyncSession], settings: CommonSettings
) -> None:
    async with sessionmaker() as session, session.begin():
        await session.execute(text("select pg_advisory_xact_lock(:k)"), {"k": BOOTSTRAP_LOCK_KEY})
        if await count_regions(session) > 0:
            return
        code, _, name = settings.bootstrap_region.partition(":")
        username = password = None
        if settings.bootstrap_admin:
            username, password = parse_credentials(settings.bootstrap_admin)
        region = await provision_region(
            session,
            code=code.strip() or "default",
            name=name.strip() or "Default region",
            admin_username=username,
            admin_password=password,
        )
        log.info("bootstrap_region_created", region=region.code, admin=username)
        if settings.demo:
            from registry.demo.loader import DEMO_REGION_CODE, load_demo_region

            if not await session.scalar(select(Region.id).where(Region.code == DEMO_REGION_CODE)):
                try:
                    async with session.begin_nested():
                        demo = await load_demo_region(session)
                    log.info("demo_region_loaded", region=demo.code)
                except Conflict as exc:
                    # e.g. CW_BOOTSTRAP_ADMIN took a demo username: serve without the demo.
                    log.warning("demo_region_skipped", reason=exc.detail)
