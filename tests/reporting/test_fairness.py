"""A region's long-period reports take turns; other regions and month reports never wait."""

from __future__ import annotations

import asyncio
import uuid

import pytest

from reporting.reports.fairness import RegionGate, region_gate
from shared.errors import TooManyRequests
from shared.region_share import RegionActivity
from tests.factories import auth, make_world

WHOLE = "/v1/reports/overview?from=2023-11-29&to=2026-11-29"
MONTH = "/v1/reports/overview?month=2026-10"


async def test_a_regions_second_long_report_is_refused_while_its_first_runs(
    reporting, reporting_app, db, monkeypatch
):
    w, other = await make_world(db), await make_world(db)
    monkeypatch.setattr(reporting_app.state.settings, "heavy_report_wait_seconds", 0.05)
    gate = region_gate(reporting_app)
    monkeypatch.setattr(gate, "share", 1.0)  # the slot alone (the share: tests below)
    async with gate.slot(w.region.id, wait_seconds=0):  # the region's one long report runs
        refused = await reporting.get(WHOLE, headers=auth(w.leader))
        assert refused.status_code == 429
        assert refused.headers["content-type"] == "application/problem+json"
        assert int(refused.headers["retry-after"]) > 0
        assert "long-period report" in refused.json()["detail"]
        # The same region's month report, and another region's long report, go ahead.
        month = await reporting.get(MONTH, headers=auth(w.leader))
        assert month.status_code == 200, month.text
        elsewhere = await reporting.get(WHOLE, headers=auth(other.leader))
        assert elsewhere.status_code == 200, elsewhere.text
    again = await reporting.get(WHOLE, headers=auth(w.leader))
    assert again.status_code == 200, again.text
    assert gate.busy(w.region.id) == 0


async def test_a_waiting_long_report_is_answered_when_the_slot_frees(
    reporting, reporting_app, db, monkeypatch
):
    w = await make_world(db)
    monkeypatch.setattr(reporting_app.state.settings, "heavy_report_wait_seconds", 60.0)
    gate = region_gate(reporting_app)
    monkeypatch.setattr(gate, "share", 1.0)
    async with gate.slot(w.region.id, wait_seconds=0):
        waiting = asyncio.create_task(reporting.get(WHOLE, headers=auth(w.leader)))
        for _ in range(500):  # until the request queues behind the held slot
            if gate.busy(w.region.id) == 2:
                break
            await asyncio.sleep(0.01)
        assert gate.busy(w.region.id) == 2
        assert not waiting.done()
    answer = await waiting
    assert answer.status_code == 200, answer.text
    assert gate.busy(w.region.id) == 0  # an idle region leaves nothing behind


async def test_a_bad_period_is_the_reports_problem_not_the_gates(
    reporting, reporting_app, db, monkeypatch
):
    w = await make_world(db)
    gate = region_gate(reporting_app)
    monkeypatch.setattr(gate, "share", 1.0)
    async with gate.slot(w.region.id, wait_seconds=0):
        answer = await reporting.get(
            "/v1/reports/overview?from=2026-13-01&to=2026-11-29", headers=auth(w.leader)
        )
    assert answer.status_code == 422
    assert answer.headers["content-type"] == "application/problem+json"


class FakeClock:
    """A clock the test moves; ``sleep`` records the pause and moves the clock by it."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.pauses: list[float] = []

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.pauses.append(seconds)
        self.now += seconds


async def test_a_region_gets_its_share_of_time_for_long_reports():
    """After a long report that took 2 s, the region's next one starts 2 s later (share
    0.5) — or is refused if that is beyond its wait — while other regions go at once."""
    clock = FakeClock()
    gate = RegionGate(limit=1, share=0.5, clock=clock, sleep=clock.sleep)
    region, other = uuid.uuid4(), uuid.uuid4()
    async with gate.slot(region, wait_seconds=10):
        clock.now += 2.0  # the report's statements
    async with gate.slot(other, wait_seconds=10):  # another region: no pause
        pass
    assert clock.pauses == []
    with pytest.raises(TooManyRequests):  # its pause (2 s) is beyond a 1 s wait
        async with gate.slot(region, wait_seconds=1):
            pass
    async with gate.slot(region, wait_seconds=10):
        entered = clock.now
    assert clock.pauses == [2.0]
    assert entered == 1002.0 + 2.0  # the first report's end plus its length
    assert gate.busy(region) == 0


async def test_a_whole_share_never_pauses():
    clock = FakeClock()
    gate = RegionGate(limit=1, share=1.0, clock=clock, sleep=clock.sleep)
    region = uuid.uuid4()
    for _ in range(3):
        async with gate.slot(region, wait_seconds=0):
            clock.now += 5.0
    assert clock.pauses == []


async def test_a_region_alone_on_the_deployment_has_all_the_time():
    """The share holds only while another region is active: alone, no pause; once another
    region has sent a request, the next long report waits out its pause."""
    clock = FakeClock()
    activity = RegionActivity(window_seconds=5.0, clock=clock)
    gate = RegionGate(limit=1, share=0.5, activity=activity, clock=clock, sleep=clock.sleep)
    region, other = uuid.uuid4(), uuid.uuid4()
    activity.seen(region)
    for _ in range(2):
        async with gate.slot(region, wait_seconds=10):
            clock.now += 2.0
    assert clock.pauses == []
    activity.seen(other)  # another district's leader opens a page
    async with gate.slot(region, wait_seconds=10):
        clock.now += 2.0
    assert clock.pauses == [2.0]
