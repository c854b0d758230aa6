"""Two rules of SPEC §8, driven through the APIs at chosen moments (shared.clock):

- a case closed ahead of a deadline later in the period counts as due — and closed on
  time — at once, not only once its deadline has passed;
- the black list has its own floor of due cases, ``min_due`` (default 1), separate from
  the ranking's ``min_cases``.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from shared import clock
from tests.factories import World, auth, make_world, upload_photo


def at(month: int, day: int, hour: int) -> datetime:
    """A moment of 2026 in Shanghai (UTC+8)."""
    return datetime(2026, month, day, hour - 8 if hour >= 8 else hour, 0, tzinfo=UTC)


async def _case(inspections, w: World, when: datetime) -> dict:
    """An expert's finding at the world's market, dispatched to its unit at ``when``."""
    with clock.travel_to(when):
        created = await inspections.post(
            "/v1/cases",
            json={
                "id": str(uuid.uuid4()),
                "source": "expert",
                "sample_point_id": str(w.point.id),
                "description": "垃圾桶无盖",
                "severity": "normal",
            },
            headers=auth(w.admin),
        )
    assert created.status_code == 201, created.text
    return created.json()


async def _act(inspections, person, case: dict, action: str, when: datetime, **fields) -> dict:
    with clock.travel_to(when):
        done = await inspections.post(
            f"/v1/cases/{case['id']}/actions",
            json={"action": action, "note": action, **fields},
            headers=auth(person),
        )
    assert done.status_code == 200, done.text
    return done.json()


async def _unit_row(reporting, w: World, month: str, when: datetime) -> dict:
    with clock.travel_to(when):
        report = await reporting.get(
            "/v1/reports/units", params={"month": month}, headers=auth(w.admin)
        )
    assert report.status_code == 200, report.text
    [row] = [r for r in report.json()["items"] if r["unit_id"] == str(w.unit.id)]
    return row


async def test_an_early_closure_counts_as_due_and_on_time_mid_month(inspections, reporting, db):
    w = await make_world(db)
    # Monday 2 November, 10:00: a normal case, 3 working days → due Thursday 5 November.
    case = await _case(inspections, w, at(11, 2, 10))
    assert case["due_at"] == "2026-11-05T15:59:59Z"
    photo = await upload_photo(inspections, w.unit_user)
    await _act(inspections, w.unit_user, case, "rectify", at(11, 3, 9), photo_ids=[str(photo)])
    closed = await _act(inspections, w.inspector, case, "verify", at(11, 3, 15))
    assert (closed["status"], closed["closed_on_time"]) == ("closed", True)

    # Wednesday 4 November: the deadline is still to come, the case is already closed.
    row = await _unit_row(reporting, w, "2026-11", at(11, 4, 12))
    assert (row["due"], row["closed"], row["closed_on_time"]) == (1, 1, 1)
    assert row["on_time_rate"] == {"value": 1.0, "numerator": 1, "denominator": 1}
    # And the month's figures do not change once the deadline has passed.
    later = await _unit_row(reporting, w, "2026-11", at(11, 20, 12))
    assert (later["due"], later["closed"], later["closed_on_time"]) == (1, 1, 1)


async def test_the_black_list_takes_a_unit_late_on_both_of_its_two_cases_with_min_due_1(
    inspections, reporting, db
):
    w = await make_world(db)
    # Two October cases the unit never rectifies: 0 of 2 closed on time.
    for day in (12, 13):
        await _case(inspections, w, at(10, day, 10))
    admin = auth(w.admin)

    async def black_list(min_due: int | None) -> list[str]:
        with clock.travel_to(at(11, 10, 12)):
            if min_due is not None:
                rules = {"black_on_time_rate_below": 0.8, "red_on_time_rate_at_least": 0.95,
                         "min_due": min_due}  # fmt: skip
                put = await reporting.put("/v1/accountability/rules", json=rules, headers=admin)
                assert put.status_code == 200, put.text
                assert put.json()["min_due"] == min_due
            lists = await reporting.get(
                "/v1/reports/red-black-list", params={"month": "2026-10"}, headers=admin
            )
        assert lists.status_code == 200, lists.text
        return [r["unit_id"] for r in lists.json()["black"]]

    # The default (min_due 1), below the ranking's min_cases of 5: black-listed.
    assert await black_list(None) == [str(w.unit.id)]
    assert await black_list(3) == []
    assert await black_list(1) == [str(w.unit.id)]
    with clock.travel_to(at(11, 10, 12)):
        run = await reporting.post(
            "/v1/accountability/runs", json={"period": "2026-10"}, headers=admin
        )
    assert run.status_code == 201, run.text
    assert run.json()["notices_created"] == 1
