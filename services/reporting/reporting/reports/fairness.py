"""A fair share of the reporting service for every region (issue 13: a province on one database).

A report over a long period (more than ``REPORTING_HEAVY_REPORT_DAYS`` days) can keep
PostgreSQL busy for seconds. Many regions share one database and one reporting
process, so one region's leaders asking for several such reports at once would slow
every other region's ordinary requests. Each process therefore lets a region compute
at most ``REPORTING_HEAVY_REPORTS_PER_REGION`` long-period reports at a time: the
region's next one waits for a slot up to ``REPORTING_HEAVY_REPORT_WAIT_SECONDS``, then
is refused with 429 and ``Retry-After``. Month reports (and anything shorter than the
threshold) never wait, and no region waits for another region's reports.

One slot kept busy back to back would still take a whole database core from the
others, so while another region is active (it sent this process a request within
``CW_REGION_ACTIVE_WINDOW_SECONDS``, :mod:`shared.region_share`) a region's heavy
reports also get only ``REPORTING_HEAVY_REPORT_SHARE`` of the time: after one that took
*d* seconds, the region's next one starts *d*·(1/share − 1) seconds later at the
earliest (the same wait budget, then 429). A leader asking for one long report never
notices; a region asking for them in a loop leaves the rest of the time to everyone
else — and, alone on the deployment, has it all.

The limits are per process: with N replicas a region gets at most N × the limit.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from zoneinfo import ZoneInfo

from fastapi import FastAPI, Request

from reporting.reports.period import resolve_period
from shared import clock
from shared.auth import CurrentUser
from shared.errors import AppError, TooManyRequests
from shared.region_share import RegionActivity

# What a client told to come back later should wait: about one long report.
RETRY_AFTER_SECONDS = 5

TOO_MANY_HEAVY_REPORTS = {
    429: {
        "description": (
            "Your region already has as many long-period reports (longer than "
            "`REPORTING_HEAVY_REPORT_DAYS`) being computed as it may have at once, or has "
            "had its share of time for them (`REPORTING_HEAVY_REPORT_SHARE`), and no slot "
            "freed within `REPORTING_HEAVY_REPORT_WAIT_SECONDS`: retry after "
            "`Retry-After` seconds (a problem document)."
        ),
        "content": {"application/problem+json": {}},
    }
}


@dataclass
class _Slots:
    semaphore: asyncio.Semaphore
    users: int = 0  # holding or waiting
    resume_at: float = 0.0  # the region's next heavy report starts no sooner (clock time)


@dataclass
class RegionGate:
    """At most ``limit`` heavy computations per region at once (0 means no limit), and at
    most ``share`` of the time while another region is active (always, without
    ``activity``); ``clock``/``sleep`` are injectable for tests."""

    limit: int
    share: float = 1.0
    activity: RegionActivity | None = None
    clock: Callable[[], float] = time.monotonic
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep
    _regions: dict[uuid.UUID, _Slots] = field(default_factory=dict)

    def busy(self, region_id: uuid.UUID) -> int:
        """How many of the region's heavy computations hold or wait for a slot."""
        entry = self._regions.get(region_id)
        return entry.users if entry else 0

    def _shared_with_others(self, region_id: uuid.UUID) -> bool:
        return self.activity is None or self.activity.others_active(region_id)

    def _refused(self) -> TooManyRequests:
        return TooManyRequests(
            f"Your region already has {self.limit} long-period report(s) being "
            "computed, or has had its share of time for them; retry shortly.",
            retry_after=RETRY_AFTER_SECONDS,
        )

    @asynccontextmanager
    async def slot(self, region_id: uuid.UUID, *, wait_seconds: float) -> AsyncIterator[None]:
        """Hold one of the region's slots for the block; :class:`TooManyRequests` if none
        frees (and the region's pause has not passed) within ``wait_seconds``."""
        if self.limit <= 0:
            yield
            return
        entry = self._regions.get(region_id)
        if entry is None:
            entry = self._regions[region_id] = _Slots(asyncio.Semaphore(self.limit))
        entry.users += 1
        deadline = self.clock() + wait_seconds
        try:
            if entry.semaphore.locked():
                try:
                    await asyncio.wait_for(entry.semaphore.acquire(), wait_seconds)
                except TimeoutError:
                    raise self._refused() from None
            else:
                await entry.semaphore.acquire()
            try:
                pause = entry.resume_at - self.clock()
                if pause > 0 and self._shared_with_others(region_id):
                    if entry.resume_at > deadline:
                        raise self._refused()
                    await self.sleep(pause)
                started = self.clock()
                try:
                    yield
                finally:
                    took = self.clock() - started
                    entry.resume_at = self.clock() + took * (1 / self.share - 1)
            finally:
                entry.semaphore.release()
        finally:
            entry.users -= 1
            # An idle region is forgotten once its pause is over (checked on each use).
            for rid, other in list(self._regions.items()):
                if other.users == 0 and other.resume_at <= self.clock():
                    del self._regions[rid]


def region_gate(app: FastAPI) -> RegionGate:
    """The process's gate (made on first use from the settings)."""
    gate = getattr(app.state, "heavy_report_gate", None)
    if gate is None:
        settings = app.state.settings
        gate = RegionGate(
            limit=settings.heavy_reports_per_region,
            share=settings.heavy_report_share,
            activity=app.state.region_activity,
        )
        app.state.heavy_report_gate = gate
    return gate


def is_heavy(request: Request, threshold_days: int) -> bool:
    """Whether the request asks for a period longer than ``threshold_days``.

    A month (or no period: the current month) is never heavy. The span is judged in
    UTC — a day either way does not matter against the threshold — and a period the
    report would refuse is not judged at all: the report answers it with its problem.
    """
    query = request.query_params
    from_, to = query.get("from"), query.get("to")
    if query.get("month") is not None or (from_ is None and to is None):
        return False
    try:
        period = resolve_period(from_=from_, to=to, month=None, tz=ZoneInfo("UTC"), now=clock.now())
    except AppError:
        return False
    return period.end - period.start > timedelta(days=threshold_days)


async def heavy_report_slot(request: Request, principal: CurrentUser) -> AsyncIterator[None]:
    """Dependency of every report: a long-period report holds one of its region's slots."""
    settings = request.app.state.settings
    if not is_heavy(request, settings.heavy_report_days):
        yield
        return
    gate = region_gate(request.app)
    async with gate.slot(principal.region_id, wait_seconds=settings.heavy_report_wait_seconds):
        yield
