"""The demo district's past accountability runs (SPEC §13), raised by this service's own rules.

On first start with ``CW_DEMO`` on, the inspections service records about 90 days
of patrols and cases in the demo region (in one transaction). The daily run
would have judged each month of that history on the first day of the next;
this module does what those runs would have done, "at" those moments
(``shared.clock.travel_to``), through :func:`apply_rules` — so the red/black lists
and notices (通报, and 约谈 for a unit black-listed twice) of the past months
exist, written by the service that owns them.

It runs once per region: under the region's run lock, and only while the region
has no accountability run at all. The daily loop waits for it (``daily.py``), so
today's run never comes first and leaves the past months unjudged.
"""

from __future__ import annotations

import asyncio
import uuid
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import structlog
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from reporting.accountability.service import apply_rules, lock_region
from reporting.reports.period import shift_month
from shared import clock
from shared.db import unit_of_work
from shared.demo import DEMO_REGION_CODE
from shared.models import AccountabilityRun, Case, Inspection, Region

log = structlog.get_logger("chuangwei.reporting.demo")


async def _history_ready(session: AsyncSession, region_code: str) -> tuple[bool, Region | None]:
    """(whether to keep waiting, the region once its history is recorded)."""
    any_region = await session.scalar(select(Region.id).limit(1))
    region = await session.scalar(select(Region).where(Region.code == region_code))
    if region is None:
        return any_region is None, None  # bootstrapped without the demo: stop waiting
    recorded = await session.scalar(
        select(Inspection.id).where(Inspection.region_id == region.id).limit(1)
    )
    return recorded is None, region if recorded is not None else None


async def judge_past_months(
    session: AsyncSession, region_id: uuid.UUID, tz: ZoneInfo, *, run_hour: int, now: datetime
) -> list[str]:
    """Apply the rules to every ended month of the region's history, each at the moment
    its daily run would have; the months judged (none when the region has runs)."""
    await lock_region(session, region_id, wait=True)
    if await session.scalar(
        select(AccountabilityRun.id).where(AccountabilityRun.region_id == region_id).limit(1)
    ):
        return []
    first = await session.scalar(
        select(Case.reported_at)
        .where(Case.region_id == region_id)
        .order_by(Case.reported_at)
        .limit(1)
    )
    if first is None:
        return []
    local = first.astimezone(tz)
    month = f"{local.year:04d}-{local.month:02d}"
    judged = []
    while True:
        following = shift_month(month, 1)
        year, number = (int(part) for part in following.split("-"))
        moment = datetime.combine(
            datetime(year, number, 1).date(), time(run_hour), tzinfo=tz
        ) + timedelta(minutes=7)
        if moment > now:
            break
        with clock.travel_to(moment):
            await apply_rules(
                session, region_id, month, tz, trigger="daily", actor_id=None, now=clock.now()
            )
        judged.append(month)
        month = following
    return judged


async def catch_up_demo(
    sessionmaker: async_sessionmaker[AsyncSession],
    *,
    run_hour: int,
    wait_seconds: float,
    region_code: str = DEMO_REGION_CODE,
    commit_timeout: float = 5.0,
) -> list[str]:
    """Wait (up to ``wait_seconds``) for the demo region's history, then judge its past
    months once; the months judged by this call."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + wait_seconds
    region: Region | None = None
    while loop.time() < deadline:
        try:
            async with sessionmaker() as session:
                waiting, region = await _history_ready(session, region_code)
        except Exception as exc:  # the database may still be starting
            log.debug("demo_wait", error=str(exc))
            waiting = True
        if not waiting:
            break
        await asyncio.sleep(1.0)
    if region is None:
        return []
    async with unit_of_work(sessionmaker, commit_timeout=commit_timeout) as session:
        months = await judge_past_months(
            session,
            region.id,
            ZoneInfo(region.timezone),
            run_hour=run_hour,
            now=clock.now(),
        )
    log.info("demo_months_judged", region=region_code, months=months)
    return months
