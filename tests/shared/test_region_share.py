"""Fair turns across regions: a busy region is held to its share only while another is active."""

from __future__ import annotations

import asyncio
import uuid

import pytest

from shared.region_share import FairTurns, RegionActivity

BUSY, QUIET = uuid.uuid4(), uuid.uuid4()


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def make(turns: int = 4, per_region: int = 2) -> tuple[FairTurns, RegionActivity, Clock]:
    clock = Clock()
    activity = RegionActivity(window_seconds=5.0, clock=clock)
    return FairTurns(turns, per_region, activity), activity, clock


async def settle() -> None:
    for _ in range(5):
        await asyncio.sleep(0)


def started(turns: FairTurns, region: uuid.UUID) -> asyncio.Task[None]:
    return asyncio.create_task(turns.acquire(region))


async def test_a_region_alone_may_hold_every_turn():
    turns, activity, _ = make(turns=4, per_region=2)
    activity.seen(BUSY)
    for _ in range(4):
        await turns.acquire(BUSY)
    assert turns.held(BUSY) == 4
    fifth = started(turns, BUSY)
    await settle()
    assert not fifth.done()  # the process's turns are all taken
    turns.release(BUSY)
    await settle()
    assert fifth.done() and turns.held(BUSY) == 4


async def test_while_another_region_is_active_a_region_holds_its_share_and_the_other_goes_past():
    turns, activity, _ = make(turns=4, per_region=2)
    activity.seen(BUSY)
    activity.seen(QUIET)
    await turns.acquire(BUSY)
    await turns.acquire(BUSY)
    third = started(turns, BUSY)
    await settle()
    assert not third.done() and turns.waiting(BUSY) == 1
    # The quiet region arrives after the busy one's waiter and still goes first.
    await asyncio.wait_for(turns.acquire(QUIET), 1)
    assert turns.held(QUIET) == 1 and turns.held(BUSY) == 2
    turns.release(BUSY)
    await settle()
    assert third.done() and turns.held(BUSY) == 2


async def test_a_regions_waiters_are_served_in_arrival_order():
    turns, activity, _ = make(turns=4, per_region=1)
    activity.seen(QUIET)
    await turns.acquire(BUSY)
    order: list[int] = []

    async def wait(k: int) -> None:
        await turns.acquire(BUSY)
        order.append(k)

    waiters = [asyncio.create_task(wait(k)) for k in range(3)]
    await settle()
    for _ in range(3):
        turns.release(BUSY)
        await settle()
    await asyncio.gather(*waiters)
    assert order == [0, 1, 2]


async def test_once_the_other_region_has_gone_quiet_the_busy_region_takes_the_free_turns():
    turns, activity, clock = make(turns=4, per_region=1)
    activity.seen(QUIET)
    await turns.acquire(BUSY)
    second, third = started(turns, BUSY), started(turns, BUSY)
    await settle()
    assert not second.done()
    clock.now += 6  # the quiet region's last request is older than the window
    turns.release(BUSY)
    await settle()
    assert second.done() and third.done() and turns.held(BUSY) == 2


async def test_a_wait_given_up_leaves_no_turn_behind():
    turns, activity, _ = make(turns=2, per_region=1)
    activity.seen(QUIET)
    await turns.acquire(BUSY)
    with pytest.raises(TimeoutError):
        async with asyncio.timeout(0.01):
            await turns.acquire(BUSY)
    assert turns.waiting(BUSY) == 0
    turns.release(BUSY)
    # Both turns are free again: the quiet region and then the busy one take one each.
    await asyncio.wait_for(turns.acquire(QUIET), 1)
    await asyncio.wait_for(turns.acquire(BUSY), 1)
    assert turns.held(QUIET) == 1 and turns.held(BUSY) == 1


async def test_no_per_region_limit_when_the_share_is_zero():
    turns, activity, _ = make(turns=3, per_region=0)
    activity.seen(QUIET)
    for _ in range(3):
        await asyncio.wait_for(turns.acquire(BUSY), 1)
    assert turns.held(BUSY) == 3


def test_activity_forgets_regions_older_than_the_window():
    clock = Clock()
    activity = RegionActivity(window_seconds=5.0, clock=clock)
    activity.seen(QUIET)
    assert activity.others_active(BUSY)
    assert not activity.others_active(QUIET)  # a region is not "another" to itself
    clock.now += 5.5
    assert not activity.others_active(BUSY)
