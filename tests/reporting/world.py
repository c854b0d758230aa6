"""The October 2026 world most reporting tests read (Asia/Shanghai), with its hand-computed figures.

Every case is driven through the API at the moments below (``shared.clock.travel_to``);
the region's policy makes a case due 72 hours after its dispatch, and the product
computes each deadline and each on-time verdict itself.

Unit A (``w.unit``, point ``w.point``):
  a0  due 09-25 18:00, never rectified        → carried over into October: due, open, overdue
  a1  due 10-05 18:00, rectified exactly 10-05 18:00, verified 10-06 → closed on time
  a2  due 10-08 18:00, rectified 10-07 (on time), rejected 10-08, rectified 10-09 (late),
      verified 10-10                          → closed late (rework 1)
  a3  due 10-10 18:00, rectified 10-09, verified 10-11 → closed on time
  a4  due 10-12 18:00, open                   → overdue
  a5  due 10-20 18:00, rectified 10-18, verified 10-19 → closed on time (early)
  a6  due 10-31 23:30 local (15:30 UTC)       → due in October, open, overdue at month end
  a7  due 11-01 00:30 local (10-31 16:30 UTC) → October in UTC but November locally: not due

Unit B (``w.other_unit``): b1 closed on time; b2 extended on 10-05 (final due 10-14) and
closed on time; b3 returned; b4 parked. Unit C: no cases at all.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from tests.factories import World, auth, make_sample_point, make_unit, make_world
from tests.reporting.helpers import drive_case, local, set_world_policy


@dataclass
class October:
    w: World
    unit_c: object
    point_b: object
    cases: dict[str, uuid.UUID]


# Figures of October 2026 computed by hand from the table above.
EXPECTED_A = {
    "assigned": 7,  # a1–a7 dispatched in October (a0 in September)
    "rectified": 5,  # a1, a2 ×2, a3, a5
    "rectified_on_time": 4,  # a1 (exactly at the deadline), a2's first, a3, a5
    "rectified_late": 1,  # a2's second
    "open": 4,  # a0, a4, a6, a7
    "overdue_open": 3,  # a0, a4, a6
    "rework": 1,
    "returned": 0,
    "extended": 0,
    "parked": 0,
    "due": 7,  # a0 (carried over), a1–a6
    "closed": 4,  # a1, a2, a3, a5
    "closed_on_time": 3,  # a1, a3, a5
    "closure_rate": {"value": 0.5714, "numerator": 4, "denominator": 7},
    "on_time_rate": {"value": 0.4286, "numerator": 3, "denominator": 7},
    "rework_rate": {"value": 0.2, "numerator": 1, "denominator": 5},
    "volume_points": 6.0,  # due 7 → band ≥ 5
    # 30·4/7 + 30·3/7 + 30·(1 − 1/5) + 10·6/10 = 17.14 + 12.86 + 24 + 6
    "score": 60.0,
    "grade": "C",
}
EXPECTED_B = {
    "assigned": 4,
    "rectified": 2,
    "rectified_on_time": 2,
    "rectified_late": 0,
    "open": 0,
    "overdue_open": 0,
    "rework": 0,
    "returned": 1,
    "extended": 1,
    "parked": 1,
    "due": 2,
    "closed": 2,
    "closed_on_time": 2,
    "closure_rate": {"value": 1.0, "numerator": 2, "denominator": 2},
    "on_time_rate": {"value": 1.0, "numerator": 2, "denominator": 2},
    "rework_rate": {"value": 0.0, "numerator": 0, "denominator": 2},
    "volume_points": 4.0,  # due 2 → band ≥ 1
    "score": 94.0,  # 30 + 30 + 30 + 10·0.4
    "grade": "A",
}
# What the product itself stores for each case: (status, closed_on_time).
EXPECTED_VERDICTS = {
    "a0": ("assigned", None),
    "a1": ("closed", True),  # rectified exactly at the deadline
    "a2": ("closed", False),  # the rework came after the deadline
    "a3": ("closed", True),
    "a4": ("assigned", None),
    "a5": ("closed", True),
    "a6": ("assigned", None),
    "a7": ("assigned", None),
    "b1": ("closed", True),
    "b2": ("closed", True),  # on time against the extended deadline
    "b3": ("returned", None),
    "b4": ("parked", None),
}
ZERO = {
    "assigned": 0,
    "rectified": 0,
    "rectified_on_time": 0,
    "rectified_late": 0,
    "open": 0,
    "overdue_open": 0,
    "rework": 0,
    "returned": 0,
    "extended": 0,
    "parked": 0,
    "due": 0,
    "closed": 0,
    "closed_on_time": 0,
    "closure_rate": {"value": None, "numerator": 0, "denominator": 0},
    "on_time_rate": {"value": None, "numerator": 0, "denominator": 0},
    "rework_rate": {"value": None, "numerator": 0, "denominator": 0},
    "volume_points": 0.0,
    "score": None,
    "grade": None,
    "rank": None,
    "ranked": False,
}


async def build_october(inspections, registry, db: AsyncSession) -> October:
    w = await make_world(db)
    await set_world_policy(registry, w)
    unit_c = await make_unit(db, region=w.region, name="环卫所")
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
    # name: (unit, dispatched at, due at (dispatch + 72 h, computed by the product), steps)
    plan = {
        "a0": (a, local(9, 22, 18), local(9, 25, 18), []),
        "a1": (
            a,
            local(10, 2, 18),
            local(10, 5, 18),
            [("rectify", local(10, 5, 18)), ("verify", local(10, 6, 10))],
        ),
        "a2": (
            a,
            local(10, 5, 18),
            local(10, 8, 18),
            [
                ("rectify", local(10, 7, 12)),
                ("reject", local(10, 8, 10)),
                ("rectify", local(10, 9, 12)),
                ("verify", local(10, 10, 10)),
            ],
        ),
        "a3": (
            a,
            local(10, 7, 18),
            local(10, 10, 18),
            [("rectify", local(10, 9, 12)), ("verify", local(10, 11, 10))],
        ),
        "a4": (a, local(10, 9, 18), local(10, 12, 18), []),
        "a5": (
            a,
            local(10, 17, 18),
            local(10, 20, 18),
            [("rectify", local(10, 18, 12)), ("verify", local(10, 19, 10))],
        ),
        "a6": (a, local(10, 28, 23, 30), local(10, 31, 23, 30), []),
        "a7": (a, local(10, 29, 0, 30), local(11, 1, 0, 30), []),
        "b1": (
            b,
            local(10, 3, 18),
            local(10, 6, 18),
            [("rectify", local(10, 5, 12)), ("verify", local(10, 6, 10))],
        ),
        "b2": (
            b,
            local(10, 3, 9),
            local(10, 6, 9),
            [
                ("extend", local(10, 5, 10), local(10, 14, 18)),
                ("rectify", local(10, 13, 12)),
                ("verify", local(10, 14, 10)),
            ],
        ),
        "b3": (b, local(10, 4, 9), local(10, 7, 9), [("return", local(10, 5, 10))]),
        "b4": (b, local(10, 5, 9), local(10, 8, 9), [("park", local(10, 7, 10))]),
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
    return October(w=w, unit_c=unit_c, point_b=point_b, cases=cases)


async def verdicts(inspections, world: October) -> dict[str, tuple[str, bool | None]]:
    """Each world case's status and stored ``closed_on_time``, read through the API."""
    out = {}
    for name, case_id in world.cases.items():
        response = await inspections.get(f"/v1/cases/{case_id}", headers=auth(world.w.admin))
        assert response.status_code == 200, response.text
        out[name] = (response.json()["status"], response.json()["closed_on_time"])
    return out
