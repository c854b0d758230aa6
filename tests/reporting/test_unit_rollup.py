"""The units report's daily rollup (unit_days): settled days stored once, from the
region's first case on; every figure equal to the live computation's for any period of
whole days (cases straddling its start or its end included), also after a case closed or
cancelled since; never mixing regions."""

from __future__ import annotations

import asyncio
import itertools
import uuid
from datetime import date, timedelta

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from reporting.reports import units
from reporting.reports.period import resolve_period
from shared import clock
from tests.factories import auth, make_sample_point, make_world
from tests.reporting.helpers import (
    SHANGHAI,
    act,
    by_unit,
    cancel_the_august_case,
    drive_case,
    local,
    set_world_policy,
)

RANGE = "from=2026-06-15&to=2026-11-29"
EVENT_KEYS = units.COUNTER_NAMES
STATE_KEYS = ("open", "overdue_open", "due", "closed", "closed_on_time")


async def build_months(inspections, registry, db: AsyncSession):
    """Cases of two units spread over June … November 2026, each due 72 hours after its
    dispatch unless extended."""
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


def settled_days(first: date) -> list[date]:
    """The days the rollup stores now: from ``first`` to the day before yesterday (local)."""
    last = clock.now().astimezone(SHANGHAI).date() - timedelta(days=2)
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]


async def stored(db: AsyncSession, region_id: uuid.UUID) -> tuple[list, list]:
    days = (
        await db.execute(
            text(
                "SELECT day, unit_id, assigned, rectified, rectified_on_time, rectified_late,"
                " rework, returned, extended, parked, closed, closed_on_time FROM unit_days"
                " WHERE region_id = :rid ORDER BY day, unit_id"
            ),
            {"rid": region_id},
        )
    ).all()
    runs = (
        await db.execute(
            text(
                "SELECT day, computed_at, earliest_start, latest_due FROM unit_day_runs"
                " WHERE region_id = :rid ORDER BY day"
            ),
            {"rid": region_id},
        )
    ).all()
    return days, runs


def assert_equal_to_live(items: list[dict], live: dict[str, dict]) -> None:
    assert {r["unit_id"] for r in items} == set(live)
    for row in items:
        expected = live[row["unit_id"]]
        assert {k: row[k] for k in EVENT_KEYS + STATE_KEYS} == {
            k: expected[k] for k in EVENT_KEYS + STATE_KEYS
        }, row["unit_code"]


async def test_stored_days_equal_the_live_figures_and_are_computed_once(
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

    # Every settled day from the first case's (28 June) on is stored, also the empty ones.
    days, runs = await stored(db, w.region.id)
    assert [r.day for r in runs] == settled_days(date(2026, 6, 28))
    assert {(r.day, r.unit_id): r.assigned for r in days if r.assigned} == {
        (date(2026, 6, 28), w.unit.id): 1,
        (date(2026, 7, 17), w.unit.id): 1,
        (date(2026, 8, 5), w.unit.id): 1,
        (date(2026, 8, 12), w.other_unit.id): 1,
        (date(2026, 9, 3), w.other_unit.id): 1,
        (date(2026, 10, 30), w.other_unit.id): 1,
        (date(2026, 11, 2), w.other_unit.id): 1,
    }
    # Closures: july (unit A, late: rectified 7-21 after its 7-20 deadline), november
    # (unit B, on time); the day's run bounds its closed cases.
    assert {(r.day, r.unit_id): (r.closed, r.closed_on_time) for r in days if r.closed} == {
        (date(2026, 7, 22), w.unit.id): (1, 0),
        (date(2026, 11, 4), w.other_unit.id): (1, 1),
    }
    bounds = {r.day: (r.earliest_start, r.latest_due) for r in runs if r.latest_due}
    assert bounds == {
        date(2026, 7, 22): (local(7, 17, 18), local(7, 20, 18)),
        date(2026, 11, 4): (local(11, 2, 9), local(11, 5, 9)),
    }

    # A second request reads the stored days: nothing recomputed.
    again = await reporting.get(f"/v1/reports/units?{RANGE}", headers=auth(w.leader))
    assert again.status_code == 200
    assert again.json()["items"] == items
    assert await stored(db, w.region.id) == (days, runs)

    # A case dispatched in August and cancelled now (mark_duplicate) leaves the stored
    # days alone, yet drops out of the report exactly as from the live figures.
    await cancel_the_august_case(inspections, w, cases)
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
    assert await stored(db, w.region.id) == (days, runs)


# Period edges around the cases' moments: before, inside and after each dispatch,
# deadline and closure (a case open across an edge, closed early before a deadline
# beyond an edge, closed late after it), and a period still running (as-of = now).
EDGES = [
    date(2026, 6, 15),
    date(2026, 6, 29),
    date(2026, 7, 18),
    date(2026, 7, 21),
    date(2026, 7, 22),
    date(2026, 7, 23),
    date(2026, 8, 26),
    date(2026, 9, 2),
    date(2026, 11, 3),
    date(2026, 11, 4),
    date(2026, 11, 5),
    date(2026, 11, 6),
    date(2027, 1, 1),
]


async def assert_every_period_equals_live(db: AsyncSession, w) -> None:
    now = clock.now()
    for first, end in itertools.combinations(EDGES, 2):
        period = resolve_period(
            from_=first.isoformat(),
            to=(end - timedelta(days=1)).isoformat(),
            month=None,
            tz=SHANGHAI,
            now=now,
        )
        rolled = await units.unit_figures(db, w.region.id, period, now)
        live = await units.unit_figures(db, w.region.id, period, now, rollup=False)
        assert rolled == live, (first, end)


async def test_every_period_of_whole_days_equals_the_live_figures(
    inspections, registry, reporting, db
):
    w, cases = await build_months(inspections, registry, db)
    await assert_every_period_equals_live(db, w)
    days, runs = await stored(db, w.region.id)
    assert [r.day for r in runs] == settled_days(date(2026, 6, 28))
    # The june case, rectified late on 2 July and waiting since, is verified now (a
    # closure after the rollup, open across every stored day); the august one too.
    await act(inspections, w.inspector, str(cases["june"]), "verify", note="核查")
    await act(inspections, w.inspector, str(cases["august"]), "verify", note="核查")
    await assert_every_period_equals_live(db, w)
    assert await stored(db, w.region.id) == (days, runs)


async def test_periods_with_a_time_of_day_stay_live(inspections, registry, reporting, db):
    w, _ = await build_months(inspections, registry, db)
    query = "from=2026-08-01T10:00:00%2B08:00&to=2026-08-31T10:00:00%2B08:00"
    response = await reporting.get(f"/v1/reports/units?{query}", headers=auth(w.leader))
    assert response.status_code == 200, response.text
    assert await stored(db, w.region.id) == ([], [])


async def test_another_regions_rollup_never_mixes_in(inspections, registry, reporting, db):
    w1, _ = await build_months(inspections, registry, db)
    w2, _ = await build_months(inspections, registry, db)
    first = await reporting.get(f"/v1/reports/units?{RANGE}", headers=auth(w1.leader))
    second = await reporting.get(f"/v1/reports/units?{RANGE}", headers=auth(w2.leader))
    assert_equal_to_live(first.json()["items"], await live_figures(db, w1))
    assert_equal_to_live(second.json()["items"], await live_figures(db, w2))
    days1, _ = await stored(db, w1.region.id)
    days2, _ = await stored(db, w2.region.id)
    assert {r.unit_id for r in days1} == {w1.unit.id, w1.other_unit.id}
    assert {r.unit_id for r in days2} == {w2.unit.id, w2.other_unit.id}


async def test_concurrent_first_requests_store_each_day_once(inspections, registry, reporting, db):
    w, _ = await build_months(inspections, registry, db)
    responses = await asyncio.gather(
        *[reporting.get(f"/v1/reports/units?{RANGE}", headers=auth(w.leader)) for _ in range(4)]
    )
    assert [r.status_code for r in responses] == [200] * 4
    bodies = [r.json()["items"] for r in responses]
    assert all(b == bodies[0] for b in bodies)
    assert_equal_to_live(bodies[0], await live_figures(db, w))
    _, runs = await stored(db, w.region.id)
    assert [r.day for r in runs] == settled_days(date(2026, 6, 28))
    # One computation: every run of the region carries the same computed_at.
    assert len({r.computed_at for r in runs}) == 1
