"""A region's long-period reports take turns; other regions and month reports never wait."""

from __future__ import annotations

import asyncio

from reporting.reports.fairness import region_gate
from tests.factories import auth, make_world

WHOLE = "/v1/reports/overview?from=2023-11-29&to=2026-11-29"
MONTH = "/v1/reports/overview?month=2026-10"


async def test_a_regions_second_long_report_is_refused_while_its_first_runs(
    reporting, reporting_app, db, monkeypatch
):
    w, other = await make_world(db), await make_world(db)
    monkeypatch.setattr(reporting_app.state.settings, "heavy_report_wait_seconds", 0.05)
    gate = region_gate(reporting_app)
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


async def test_a_bad_period_is_the_reports_problem_not_the_gates(reporting, reporting_app, db):
    w = await make_world(db)
    gate = region_gate(reporting_app)
    async with gate.slot(w.region.id, wait_seconds=0):
        answer = await reporting.get(
            "/v1/reports/overview?from=2026-13-01&to=2026-11-29", headers=auth(w.leader)
        )
    assert answer.status_code == 422
    assert answer.headers["content-type"] == "application/problem+json"
