"""Fair turns across regions: one region's burst does not take a process from the others.

Many regions (a province's districts) share one deployment. Sixteen phones of one
district syncing at once would otherwise hold sixteen of the process's turns at the
database, and every other district's request would queue behind them and then share
the CPU sixteen ways (issue 13 measured a quiet district's p95 at 2.7× its usual while
another district's phones synced).

So a process remembers which regions it has served lately (:class:`RegionActivity`,
fed by authentication), and a region's requests take a turn from :class:`FairTurns`:

- while **no other region** has sent this process a request within
  ``CW_REGION_ACTIVE_WINDOW_SECONDS``, a region may hold every turn (a one-district
  deployment, or a quiet hour, loses nothing);
- while **another region is active**, a region holds at most ``per_region`` turns at
  once; its further requests wait, first come first served within the region, while
  every other region's requests go straight past them.

Waiting holds nothing (no connection, no lock) and is bounded by the caller's
timeout. The limits are per process: with N replicas a region gets at most N × the
share.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections import deque
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field


@dataclass
class RegionActivity:
    """When this process last served each region (monotonic clock, injectable for tests)."""

    window_seconds: float
    clock: Callable[[], float] = time.monotonic
    _last_seen: dict[uuid.UUID, float] = field(default_factory=dict)

    def seen(self, region_id: uuid.UUID) -> None:
        """Note a request of the region (called once per authenticated request)."""
        self._last_seen[region_id] = self.clock()

    def others_active(self, region_id: uuid.UUID) -> bool:
        """Whether another region was served within the window; forgets the stale ones."""
        horizon = self.clock() - self.window_seconds
        active = False
        for other, at in list(self._last_seen.items()):
            if at < horizon:
                del self._last_seen[other]
            elif other != region_id:
                active = True
        return active


class FairTurns:
    """``turns`` turns for the whole process, at most ``per_region`` of them per region
    while another region is active (``per_region`` ≤ 0: no per-region limit)."""

    def __init__(self, turns: int, per_region: int, activity: RegionActivity) -> None:
        self.turns = max(1, turns)
        self.per_region = per_region
        self.activity = activity
        self._free = self.turns
        self._held: dict[uuid.UUID, int] = {}
        self._waiting: deque[tuple[uuid.UUID, asyncio.Future[None]]] = deque()

    def held(self, region_id: uuid.UUID) -> int:
        """How many turns the region holds now."""
        return self._held.get(region_id, 0)

    def waiting(self, region_id: uuid.UUID) -> int:
        """How many of the region's requests wait for a turn."""
        return sum(1 for rid, _ in self._waiting if rid == region_id)

    def _may_take(self, region_id: uuid.UUID) -> bool:
        if self._free <= 0:
            return False
        if self.per_region <= 0 or self.held(region_id) < self.per_region:
            return True
        return not self.activity.others_active(region_id)

    def _take(self, region_id: uuid.UUID) -> None:
        self._free -= 1
        self._held[region_id] = self.held(region_id) + 1

    def _give_back(self, region_id: uuid.UUID) -> None:
        self._free += 1
        left = self._held[region_id] - 1
        if left:
            self._held[region_id] = left
        else:
            del self._held[region_id]

    def _wake(self) -> None:
        """Hand free turns to the waiters that may take one, oldest first; a region at
        its share is skipped (its waiters keep their place), the others go past it."""
        blocked: set[uuid.UUID] = set()  # keeps each region first-come-first-served
        for entry in list(self._waiting):
            if self._free <= 0:
                return
            region_id, waiter = entry
            if region_id in blocked:
                continue
            if waiter.done():  # timed out or cancelled: already gone
                self._waiting.remove(entry)
                continue
            if not self._may_take(region_id):
                blocked.add(region_id)
                continue
            self._waiting.remove(entry)
            self._take(region_id)
            waiter.set_result(None)

    async def acquire(self, region_id: uuid.UUID) -> None:
        """Take a turn for the region, waiting while none may be taken (cancellable:
        wrap in ``asyncio.timeout`` to bound the wait)."""
        if not self._waiting and self._may_take(region_id):
            self._take(region_id)
            return
        waiter = asyncio.get_running_loop().create_future()
        entry = (region_id, waiter)
        self._waiting.append(entry)
        self._wake()  # others may have gone quiet since the last hand-over
        try:
            await waiter
        except BaseException:
            if waiter.done() and not waiter.cancelled():
                # Granted in the same instant as the cancellation: hand it on.
                self._give_back(region_id)
                self._wake()
            elif entry in self._waiting:
                self._waiting.remove(entry)
            raise

    def release(self, region_id: uuid.UUID) -> None:
        """Give a turn back and hand it on."""
        self._give_back(region_id)
        self._wake()

    @asynccontextmanager
    async def turn(self, region_id: uuid.UUID) -> AsyncIterator[None]:
        """Hold a turn for the block."""
        await self.acquire(region_id)
        try:
            yield
        finally:
            self.release(region_id)
