"""The daily accountability run, once per region and local day even with several replicas.

Every replica wakes every ``REPORTING_DAILY_CHECK_SECONDS``. For each region whose
local time has reached ``REPORTING_DAILY_RUN_HOUR`` it opens a transaction, tries
the region's advisory lock (``pg_try_advisory_xact_lock``: a replica that does not
get it skips the region this time), checks ``accountability_runs`` for a daily
run started on the same local day, and only then applies the rules to the last
complete month. The lock is held until the run's row is committed, so the next
replica to get it sees that row and does nothing. The same run stores every settled
day the units report has not stored yet (reports/units.py), and every settled day of
the last three years the overview and inspectors reports have not (reports/days.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import structlog
from fastapi import FastAPI
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from reporting.accountability.demo import catch_up_demo
from reporting.accountability.service import apply_rules, lock_region
from reporting.report_settings.service import load_settings
from reporting.reports.chiefs import CHIEF_REFRESH_AGE, ensure_chief_months, settled_months
from reporting.reports.days import ensure_days, quota_of
from reporting.reports.period import Period, shift_month
from reporting.reports.units import ensure_rollup
from shared import clock
from shared.db import unit_of_work
from shared.models import Region

log = structlog.get_logger("chuangwei.reporting.daily")


ROLLUP_WARM_SPAN = timedelta(days=3 * 366)


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("Asia/Shanghai")


async def run_region_if_due(
    sessionmaker: async_sessionmaker[AsyncSession],
    region_id: uuid.UUID,
    tz: ZoneInfo,
    *,
    run_hour: int,
    now: datetime,
    commit_timeout: float = 5.0,
) -> uuid.UUID | None:
    """Today's run for one region, if it is time and nobody did it; the new run's id or None."""
    local = now.astimezone(tz)
    if local.hour < run_hour:
        return None
    async with unit_of_work(sessionmaker, commit_timeout=commit_timeout) as session:
        if not await lock_region(session, region_id, wait=False):
            return None
        done = await session.scalar(
            text(
                """
                SELECT 1 FROM accountability_runs
                WHERE region_id = :rid AND trigger = 'daily'
                  AND (started_at AT TIME ZONE :tz)::date = :today
                LIMIT 1
                """
            ),
            {"rid": region_id, "tz": tz.key, "today": local.date()},
        )
        if done:
            return None
        month = shift_month(f"{local.year:04d}-{local.month:02d}", -1)
        run, _, _ = await apply_rules(
            session, region_id, month, tz, trigger="daily", actor_id=None, now=now
        )
        # Keep the units report's stored days warm (every settled day, yesterday's
        # included), so the day's first report reads them instead of computing.
        stored_days = await ensure_rollup(session, region_id, tz, now)
        # The chiefs report's months of closed cases (three years, the campaign's review
        # cycle), recomputed once their run is a month old (the report counts the cases
        # closed since a month's run live).
        months = settled_months(Period(now - ROLLUP_WARM_SPAN, now, tz), now)
        await ensure_chief_months(
            session, region_id, tz.key, months, refresh_before=now - CHIEF_REFRESH_AGE
        )
        # Likewise the overview's and inspectors' stored days (three years, the
        # campaign's review cycle).
        today = local.date()
        days = [today - timedelta(days=n) for n in range(ROLLUP_WARM_SPAN.days, 0, -1)]
        settings = await load_settings(session, region_id)
        await ensure_days(session, region_id, tz, days, now, quota_of(settings))
    # Logged and reported only now that the run's transaction has committed.
    log.info(
        "daily_run",
        region_id=str(region_id),
        period=month,
        notices=run.notices_created,
        rollup_days=len(stored_days),
    )
    return run.id


async def daily_tick(
    sessionmaker: async_sessionmaker[AsyncSession],
    *,
    run_hour: int,
    now: datetime | None = None,
    commit_timeout: float = 5.0,
) -> list[uuid.UUID]:
    """One pass over every region; the ids of the runs this replica made."""
    now = now or clock.now()
    async with sessionmaker() as session:
        regions = (await session.execute(select(Region.id, Region.timezone))).all()
    made = []
    for region_id, timezone in regions:
        try:
            run_id = await run_region_if_due(
                sessionmaker,
                region_id,
                _zone(timezone),
                run_hour=run_hour,
                now=now,
                commit_timeout=commit_timeout,
            )
        except Exception:  # one region's failure must not stop the others
            log.exception("daily_run_failed", region_id=str(region_id))
            continue
        if run_id is not None:
            made.append(run_id)
    return made


# How long the first start waits for the inspections service to record the demo's history.
DEMO_WAIT_SECONDS = 300.0


async def _loop(app: FastAPI, *, daily: bool) -> None:
    settings = app.state.settings
    if settings.demo:
        # The demo's past months first, so today's run never judges them before their history.
        try:
            await catch_up_demo(
                app.state.sessionmaker,
                run_hour=settings.daily_run_hour,
                wait_seconds=DEMO_WAIT_SECONDS,
                commit_timeout=settings.db_commit_timeout_seconds,
            )
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("demo_catch_up_failed")
    while daily:
        try:
            await daily_tick(
                app.state.sessionmaker,
                run_hour=settings.daily_run_hour,
                commit_timeout=settings.db_commit_timeout_seconds,
            )
        except Exception:  # the database may be away; try again next time
            log.exception("daily_tick_failed")
        await asyncio.sleep(settings.daily_check_seconds)


async def start_daily_run(app: FastAPI) -> None:
    """The daily loop when it is active, preceded by the demo's past months with ``CW_DEMO``."""
    settings = app.state.settings
    if settings.daily_run_active or settings.demo:
        app.state.daily_task = asyncio.create_task(
            _loop(app, daily=settings.daily_run_active), name="reporting-daily-run"
        )


async def stop_daily_run(app: FastAPI) -> None:
    task = getattr(app.state, "daily_task", None)
    if task is not None:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        app.state.daily_task = None
