"""The units report's monthly rollup (unit_event_months): settled months stored once,
always equal to the live computation, never mixing regions or storing unsettled months."""

from __future__ import annotations

import asyncio
import uuid
from datetime import date

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from reporting.reports import units
from reporting.reports.period import resolve_period
from shared import clock
from tests.factories import auth, make_sample_point, make_world
from tests.reporting.helpers import SHANGHAI, act, by_unit, drive_case, local, set_world_policy

RANGE = "from=2026-06-15&to=2026-11-29"
EVENT_KEYS = units.COUNTER_NAMES
STATE_KEYS = ("open", "overdue_open", "due", "closed", "closed_on_time")


async def build_months(inspections, registry, db: AsyncSession):
    """Cases of two units spread over June … November 2026 (June 15–30 and November are
    the live edges of RANGE; July–October are settled whole months), each due 72 hours
    after its dispatch unless extended."""
    w = await make_world(db)
    await set_world_policy(registry, w)
    point_b = await make_sample_point(
        db,
        region=w.region,
        point_type=w.point_type,
        division=w.grid,
        unit=w.other_unit,
        name="西街小餐饮",
        address="解放路 8 号",
    )
    a = {"point": w.point, "unit_user": w.unit_user}
    b = {"point": point_b, "unit_user": w.other_unit_user}
    # name: (unit, dispatched at, due at, steps)
    plan = {
        # dispatched in the leading edge, rectified late in July, never verified
        "june": (a, local(6, 28, 18), local(7, 1, 18), [("rectify", local(7, 2, 9))]),
        "july": (
            a,
            local(7, 17, 18),
            local(7, 20, 18),
            [
                ("rectify", local(7, 18, 9)),
                ("reject", local(7, 19, 9)),
                ("rectify", local(7, 21, 9)),
                ("verify", local(7, 22, 9)),
            ],
        ),
        # extended to 08-25 18:00, rectified on 1 September: late against the deadline in force
        "august": (
            a,
            local(8, 5, 9),
            local(8, 8, 9),
            [("extend", local(8, 6, 9), local(8, 25, 18)), ("rectify", local(9, 1, 9))],
        ),
        "september": (b, local(9, 3, 9), local(9, 6, 9), [("return", local(9, 4, 9))]),
        "october": (b, local(10, 30, 9), local(11, 2, 9), [("park", local(10, 31, 9))]),
        "november": (
            b,
            local(11, 2, 9),
            local(11, 5, 9),
            [("rectify", local(11, 4, 9)), ("verify", local(11, 4, 15))],
        ),
        "to_cancel": (b, local(8, 12, 9), local(8, 15, 9), []),
    }
    cases = {}
    for name, (who, dispatched, due, steps) in plan.items():
        cases[name] = await drive_case(
            inspections,
            w,
            point=who["point"],
            unit_user=who["unit_user"],
            dispatched_at=dispatched,
            due_at=due,
            steps=steps,
        )
    return w, cases


async def live_figures(db: AsyncSession, w) -> dict[str, dict]:
    """The forced-live computation of RANGE (no rollup), per unit id."""
    now = clock.now()
    period = resolve_period(from_="2026-06-15", to="2026-11-29", month=None, tz=SHANGHAI, now=now)
    rows = await units.unit_figures(db, w.region.id, period, now, rollup=False)
    return {str(r["unit_id"]): r for r in rows}


async def stored(db: AsyncSession, region_id: uuid.UUID) -> tuple[list, list]:
    months = (
        await db.execute(
            text(
                "SELECT month, unit_id, assigned, rectified, rectified_on_time, rectified_late,"
                " rework, returned, extended, parked, computed_at FROM unit_event_months"
                " WHERE region_id = :rid ORDER BY month, unit_id"
            ),
            {"rid": region_id},
        )
    ).all()
    runs = (
        await db.execute(
            text(
                "SELECT month, computed_at FROM unit_event_month_runs"
                " WHERE region_id = :rid ORDER BY month"
            ),
            {"rid": region_id},
        )
    ).all()
    return months, runs


def assert_equal_to_live(items: list[dict], live: dict[str, dict]) -> None:
    assert {r["unit_id"] for r in items} == set(live)
    for row in items:
        expected = live[row["unit_id"]]
        assert {k: row[k] for k in EVENT_KEYS + STATE_KEYS} == {
            k: expected[k] for k in EVENT_KEYS + STATE_KEYS
        }, row["unit_code"]


async def test_whole_months_come_from_the_rollup_and_equal_the_live_figures(
    inspections, registry, reporting, db
):
    w, cases = await build_months(inspections, registry, db)
    response = await reporting.get(f"/v1/reports/units?{RANGE}", headers=auth(w.leader))
    assert response.status_code == 200, response.text
    items = response.json()["items"]
    live = await live_figures(db, w)
    assert_equal_to_live(items, live)

    # Hand-computed: unit A dispatched june/july/august; rectified june (late: 7-2 after
    # 7-1 18:00), july twice (on time, then late after the 7-20 deadline), august (late).
    unit_a = by_unit(items, w.unit.id)
    assert {k: unit_a[k] for k in EVENT_KEYS} == {
        "assigned": 3,
        "rectified": 4,
        "rectified_on_time": 1,
        "rectified_late": 3,
        "rework": 1,
        "returned": 0,
        "extended": 1,
        "parked": 0,
    }
    unit_b = by_unit(items, w.other_unit.id)
    assert {k: unit_b[k] for k in EVENT_KEYS} == {
        "assigned": 4,  # september, october, november, to_cancel
        "rectified": 1,
        "rectified_on_time": 1,
        "rectified_late": 0,
        "rework": 0,
        "returned": 1,
        "extended": 0,
        "parked": 1,
    }

    # The state figures, by hand (as-of = the end of RANGE; HELD = assigned/rectified/closed).
    # A: june and august were rectified late and wait for verification → open and still
    # overdue; july closed late. B: to_cancel assigned past its deadline; november closed
    # ahead of its deadline; the returned and the parked cases are not held.
    assert {k: unit_a[k] for k in STATE_KEYS} == {
        "open": 2,
        "overdue_open": 2,
        "due": 3,
        "closed": 1,
        "closed_on_time": 0,
    }
    assert {k: unit_b[k] for k in STATE_KEYS} == {
        "open": 1,
        "overdue_open": 1,
        "due": 2,
        "closed": 1,
        "closed_on_time": 1,
    }

    # Only the settled whole months (July–October) are stored; June (a partial month)
    # and November (not settled yet) are not.
    months, runs = await stored(db, w.region.id)
    assert [r.month for r in runs] == [date(2026, m, 1) for m in (7, 8, 9, 10)]
    assert {r.month for r in months} == {date(2026, m, 1) for m in (7, 8, 9, 10)}
    assert {(r.month, r.unit_id): r.assigned for r in months} == {
        (date(2026, 7, 1), w.unit.id): 1,
        (date(2026, 8, 1), w.unit.id): 1,
        (date(2026, 8, 1), w.other_unit.id): 1,
        (date(2026, 9, 1), w.unit.id): 0,  # the august case rectified on 1 September
        (date(2026, 9, 1), w.other_unit.id): 1,
        (date(2026, 10, 1), w.other_unit.id): 1,
    }

    # A second request reads the stored months: nothing recomputed.
    again = await reporting.get(f"/v1/reports/units?{RANGE}", headers=auth(w.leader))
    assert again.status_code == 200
    assert again.json()["items"] == items
    assert await stored(db, w.region.id) == (months, runs)

    # A case dispatched in August and cancelled now (mark_duplicate) leaves the stored
    # August alone, yet drops out of the report exactly as from the live figures.
    await act(
        inspections,
        w.admin,
        str(cases["to_cancel"]),
        "mark_duplicate",
        duplicate_of=str(cases["september"]),
    )
    after = await reporting.get(f"/v1/reports/units?{RANGE}", headers=auth(w.leader))
    live_after = await live_figures(db, w)
    assert_equal_to_live(after.json()["items"], live_after)
    after_b = by_unit(after.json()["items"], w.other_unit.id)
    assert after_b["assigned"] == 3
    assert {k: after_b[k] for k in STATE_KEYS} == {
        "open": 0,
        "overdue_open": 0,
        "due": 1,
        "closed": 1,
        "closed_on_time": 1,
    }
    assert await stored(db, w.region.id) == (months, runs)


async def test_single_months_and_short_periods_stay_live(inspections, registry, reporting, db):
    w, _ = await build_months(inspections, registry, db)
    for query in ("month=2026-08", "from=2026-07-15&to=2026-08-31", "month=2026-11"):
        response = await reporting.get(f"/v1/reports/units?{query}", headers=auth(w.leader))
        assert response.status_code == 200
    assert await stored(db, w.region.id) == ([], [])


async def test_another_regions_rollup_never_mixes_in(inspections, registry, reporting, db):
    w1, _ = await build_months(inspections, registry, db)
    w2, _ = await build_months(inspections, registry, db)
    first = await reporting.get(f"/v1/reports/units?{RANGE}", headers=auth(w1.leader))
    second = await reporting.get(f"/v1/reports/units?{RANGE}", headers=auth(w2.leader))
    assert_equal_to_live(first.json()["items"], await live_figures(db, w1))
    assert_equal_to_live(second.json()["items"], await live_figures(db, w2))
    months1, _ = await stored(db, w1.region.id)
    months2, _ = await stored(db, w2.region.id)
    assert {r.unit_id for r in months1} == {w1.unit.id, w1.other_unit.id}
    assert {r.unit_id for r in months2} == {w2.unit.id, w2.other_unit.id}


async def test_concurrent_first_requests_store_each_month_once(
    inspections, registry, reporting, db
):
    w, _ = await build_months(inspections, registry, db)
    responses = await asyncio.gather(
        *[reporting.get(f"/v1/reports/units?{RANGE}", headers=auth(w.leader)) for _ in range(4)]
    )
    assert [r.status_code for r in responses] == [200] * 4
    bodies = [r.json()["items"] for r in responses]
    assert all(b == bodies[0] for b in bodies)
    assert_equal_to_live(bodies[0], await live_figures(db, w))
    months, runs = await stored(db, w.region.id)
    assert [r.month for r in runs] == [date(2026, m, 1) for m in (7, 8, 9, 10)]
    # One computation: every stored row of the region carries the same computed_at.
    assert len({r.computed_at for r in months} | {r.computed_at for r in runs}) == 1
