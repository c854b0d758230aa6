"""The daily rollup behind the overview and inspectors reports (reports/days.py): every
figure equals the live computation's, over a long range and over a month, before and
after the moments that could make a stored day wrong — a case cancelled since, a
backdated case, an inspection submitted days late, a pending inspection, a day just
closed — and it never mixes regions."""

from __future__ import annotations

import json
import uuid
from datetime import datetime, timedelta

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from reporting.report_settings.service import load_settings
from reporting.reports import days
from reporting.reports.inspectors import inspectors_report
from reporting.reports.overview import overview_report
from reporting.reports.period import resolve_period
from shared import clock
from tests.factories import auth, categories_of, make_world, report_case
from tests.reporting.helpers import SHANGHAI, act, cancel_and_backdate_in_august, drive_case, local
from tests.reporting.test_other_reports import inspect
from tests.reporting.test_unit_rollup import build_months

# June 1 (a Monday) to November 29 (a Sunday): the quota weeks end with the range.
RANGE = ("2026-06-01", "2026-11-29")
MONTH = "2026-08"
DAYS = 30 + 31 + 31 + 30 + 31 + 29


@pytest.fixture(autouse=True)
def store_rows_at_once(monkeypatch):
    """The margin for rows still being written is 10 minutes; these tests commit every row
    before the report runs, so a run may store everything created before it."""
    monkeypatch.setattr(days, "CREATED_MARGIN", timedelta(0))


def periods():
    now = clock.now()
    return now, {
        "range": resolve_period(from_=RANGE[0], to=RANGE[1], month=None, tz=SHANGHAI, now=now),
        "month": resolve_period(from_=None, to=None, month=MONTH, tz=SHANGHAI, now=now),
    }


def as_json(value: object) -> str:
    return json.dumps(value, default=repr, ensure_ascii=False)


async def both_ways(db: AsyncSession, region_id: uuid.UUID) -> dict[str, dict]:
    """Each report for the range and the month, from the rollup and live; asserts equality."""
    now, by_name = periods()
    settings = await load_settings(db, region_id)
    out = {}
    for name, period in by_name.items():
        rolled_overview = await overview_report(db, region_id, period, now, unit_id=None)
        rolled_people = await inspectors_report(
            db, region_id, period, now, settings, person_id=None
        )
        await db.commit()  # what a report request stores is committed before it answers
        live_overview = await overview_report(
            db, region_id, period, now, unit_id=None, rollup=False
        )
        live_people = await inspectors_report(
            db, region_id, period, now, settings, person_id=None, rollup=False
        )
        await db.commit()
        # Equal values of equal types (a Decimal for an int would reach the JSON as text).
        assert as_json(rolled_overview) == as_json(live_overview), name
        assert as_json(rolled_people) == as_json(live_people), name
        out[name] = {"overview": rolled_overview, "inspectors": rolled_people}
    return out


async def stored_days(db: AsyncSession, region_id: uuid.UUID) -> int:
    return await db.scalar(
        text("SELECT count(*) FROM report_day_runs WHERE region_id = :rid"), {"rid": region_id}
    )


async def redispatch(inspections, w, cases) -> None:
    """Two cases dispatched again after a return: September's inside September, and a new
    one reported and returned in July, dispatched again on 2 August (so August counts it
    once, its earlier dispatch lying before the month)."""
    with clock.travel_to(local(9, 5, 9)):
        await act(inspections, w.admin, str(cases["september"]), "dispatch", unit_id=str(w.unit.id))
    cases["straddling"] = await drive_case(
        inspections,
        w,
        point=w.point,
        unit_user=w.unit_user,
        dispatched_at=local(7, 28, 9),
        due_at=local(7, 31, 9),
        steps=[("return", local(7, 30, 9))],
    )
    with clock.travel_to(local(8, 2, 9)):
        await act(
            inspections, w.admin, str(cases["straddling"]), "dispatch", unit_id=str(w.unit.id)
        )


async def inspect_months(inspections, w) -> None:
    """Inspections of June … November: a low score in August."""
    low = [
        {"item_code": i["code"], "outcome": "pass", "grade": 5 if i["code"] == "M-04" else 10}
        for i in w.checklist.items
    ]
    await inspect(inspections, w, w.point, local(6, 20))
    await inspect(inspections, w, w.point, local(7, 10))
    await inspect(inspections, w, w.point, local(8, 3), results=low)
    await inspect(
        inspections,
        w,
        w.point,
        local(8, 21),
        epidemic={"health_code_checked": True, "temperature_checked": False, "masks_worn": True},
    )
    await inspect(inspections, w, w.point, local(11, 12))


async def test_overview_and_inspectors_from_stored_days_equal_the_live_figures(
    inspections, registry, reporting, db
):
    w, cases = await build_months(inspections, registry, db)
    await redispatch(inspections, w, cases)
    await inspect_months(inspections, w)
    await db.commit()

    first = await both_ways(db, w.region.id)
    # Every day of the range is stored (it ended more than a day ago): the figures above
    # came from the rollup, not from a live fallback.
    assert await stored_days(db, w.region.id) == DAYS
    # By hand: eight cases reported (June 28 … November 2) with ten dispatches (two cases
    # dispatched twice); five inspections; one of August's skipped the temperature check.
    totals = first["range"]["overview"]["totals"]
    assert {k: totals[k] for k in ("cases_reported", "cases_valid", "cases_dispatched")} == {
        "cases_reported": 8,
        "cases_valid": 8,
        "cases_dispatched": 8,
    }
    assert totals["inspections"] == 5
    august = first["month"]["overview"]["totals"]
    # august and to_cancel reported; those two and straddling (again on 8-02) dispatched.
    assert (august["cases_reported"], august["cases_dispatched"]) == (2, 3)
    temperature = first["month"]["overview"]["epidemic"]["temperature_checked"]
    assert (temperature["numerator"], temperature["denominator"]) == (1, 2)
    [me] = [p for p in first["range"]["inspectors"] if p["person_id"] == w.inspector.id]
    assert (me["inspections"], me["cases_reported"], me["valid_cases"]) == (5, 8, 8)

    # What could make a stored day wrong, done after the days were stored:
    # - a case of August cancelled now (its status changes, its day stays stored), and a
    #   case imported now, dated in August (created after the day's run);
    await cancel_and_backdate_in_august(inspections, w, cases)
    # - an inspection of 20 August submitted from an offline phone only now;
    await inspect(inspections, w, w.point, local(8, 20))
    # - a rectified case verified now (a closure of today: never a stored day).
    await act(inspections, w.inspector, str(cases["june"]), "verify", note="核查")
    await db.commit()

    after = await both_ways(db, w.region.id)
    totals = after["range"]["overview"]["totals"]
    assert {k: totals[k] for k in ("cases_reported", "cases_valid", "cases_cancelled")} == {
        "cases_reported": 9,
        "cases_valid": 8,
        "cases_cancelled": 1,
    }
    month = after["month"]["overview"]["totals"]
    assert (month["cases_reported"], month["cases_valid"], month["inspections"]) == (3, 2, 3)
    [me] = [p for p in after["month"]["inspectors"] if p["person_id"] == w.inspector.id]
    assert (me["inspections"], me["cases_reported"], me["valid_cases"]) == (3, 3, 2)
    # The stored days were not recomputed: the late rows are counted live.
    assert await stored_days(db, w.region.id) == DAYS

    # The endpoint answers the same figures.
    response = await reporting.get(
        f"/v1/reports/overview?from={RANGE[0]}&to={RANGE[1]}", headers=auth(w.leader)
    )
    assert response.status_code == 200, response.text
    assert response.json()["totals"]["cases_reported"] == 9


async def test_a_day_with_a_pending_inspection_is_not_stored_until_it_is_validated(
    inspections, registry, reporting, db
):
    w, _ = await build_months(inspections, registry, db)
    await inspect_months(inspections, w)
    pending = await db.scalar(
        text(
            "UPDATE inspections SET validation = 'pending' WHERE region_id = :rid"
            " AND finished_at = :at RETURNING id"
        ),
        {"rid": w.region.id, "at": local(7, 10)},
    )
    await db.commit()
    assert pending is not None
    await both_ways(db, w.region.id)
    assert await stored_days(db, w.region.id) == DAYS - 1  # all but 10 July
    # Validated later (as when the registry comes back): 10 July is counted live, then stored.
    await db.execute(
        text("UPDATE inspections SET validation = 'valid' WHERE region_id = :rid AND id = :id"),
        {"rid": w.region.id, "id": pending},
    )
    await db.commit()
    figures = await both_ways(db, w.region.id)
    assert figures["range"]["overview"]["totals"]["inspections"] == 5
    assert await stored_days(db, w.region.id) == DAYS


async def test_quota_settings_changed_recompute_the_stored_split(
    inspections, registry, reporting, db
):
    w, _ = await build_months(inspections, registry, db)
    await inspect(
        inspections,
        w,
        w.point,
        local(8, 12),
        cases=[{"id": str(uuid.uuid4()), "item_code": "M-03", "description": "问题"}],
    )
    await db.commit()
    before = await both_ways(db, w.region.id)
    changed = await reporting.put(
        "/v1/reports/inspector-quota",
        json={"facility": 1, "hygiene": 1, "facility_tags": ["epidemic"]},
        headers=auth(w.admin),
    )
    assert changed.status_code == 200, changed.text
    after = await both_ways(db, w.region.id)

    def facility(figures: dict) -> int:
        [me] = [p for p in figures["month"]["inspectors"] if p["person_id"] == w.inspector.id]
        return sum(week["facility"] for week in me["weekly"])

    assert (facility(before), facility(after)) == (0, 1)


async def test_another_regions_days_never_mix_in(inspections, registry, reporting, db):
    w1, _ = await build_months(inspections, registry, db)
    w2, _ = await build_months(inspections, registry, db)
    await inspect_months(inspections, w2)
    await db.commit()
    one = await both_ways(db, w1.region.id)
    two = await both_ways(db, w2.region.id)
    assert one["range"]["overview"]["totals"]["inspections"] == 0
    assert two["range"]["overview"]["totals"]["inspections"] == 5


async def test_cancelled_cases_at_the_edges_of_weeks_and_periods(
    inspections, registry, reporting, db
):
    """The inspectors' cancelled cases are read live and placed in their week and period by
    their instant: a case at the first instant of a week or period, or at the last second
    before one, lands on the side the live computation puts it, whether it was cancelled
    before or after its day was stored, facility or hygiene."""
    w = await make_world(db)
    facility_category = (await categories_of(db, w.region))["C3"]
    quota = await reporting.put(
        "/v1/reports/inspector-quota",
        json={"facility": 1, "hygiene": 1, "facility_category_codes": ["C3"]},
        headers=auth(w.admin),
    )
    assert quota.status_code == 200, quota.text

    async def reported(moment: datetime, *, facility: bool = False) -> str:
        fields = {"category_id": str(facility_category.id)} if facility else {}
        case = await report_case(inspections, w.inspector, reported_at=moment.isoformat(), **fields)
        return case["id"]

    second = timedelta(seconds=1)
    # RANGE starts on Monday 1 June; August 2026 starts on a Saturday, so its quota weeks
    # run from Monday 3 August to Sunday 6 September, past the month's end.
    cases = {
        "range_start": await reported(local(6, 1, 0), facility=True),
        "first_week_end": await reported(local(6, 8, 0) - second),
        "second_week_start": await reported(local(6, 8, 0), facility=True),
        "before_august": await reported(local(8, 1, 0) - second),
        "august_start": await reported(local(8, 1, 0)),
        "last_august_week_kept": await reported(local(8, 31, 12)),
        "last_august_week_end": await reported(local(9, 7, 0) - second, facility=True),
        "after_august_weeks": await reported(local(9, 7, 0)),
    }
    # Cancelled before the days are stored, then the others after (read live each time).
    await act(inspections, w.admin, cases["second_week_start"], "cancel", note="无效")
    await db.commit()
    before = await both_ways(db, w.region.id)
    for name in ("range_start", "first_week_end", "before_august", "august_start"):
        await act(inspections, w.admin, cases[name], "cancel", note="无效")
    for name in ("last_august_week_end", "after_august_weeks"):
        await act(inspections, w.admin, cases[name], "cancel", note="无效")
    await db.commit()
    after = await both_ways(db, w.region.id)

    def mine(figures: dict, period: str) -> dict:
        [me] = [p for p in figures[period]["inspectors"] if p["person_id"] == w.inspector.id]
        return me

    def week(figures: dict, period: str, monday: str) -> tuple[int, int]:
        [found] = [
            (x["facility"], x["hygiene"])
            for x in mine(figures, period)["weekly"]
            if x["week_start_date"].isoformat() == monday
        ]
        return found

    # By hand, range: the first week held a facility and a hygiene case, then none.
    assert week(before, "range", "2026-06-01") == (1, 1)
    assert week(after, "range", "2026-06-01") == (0, 0)
    assert week(before, "range", "2026-06-08") == (0, 0)
    assert week(before, "range", "2026-07-27") == (0, 2)  # 31 July 23:59:59, 1 August
    assert week(after, "range", "2026-07-27") == (0, 0)
    # August: 1 August counts in the month but in no quota week; 6 September 23:59:59 in
    # the last quota week but not in the month; 7 September in neither.
    assert (mine(before, "month")["cases_reported"], mine(before, "month")["valid_cases"]) == (
        2,
        2,
    )
    assert (mine(after, "month")["cases_reported"], mine(after, "month")["valid_cases"]) == (
        2,
        1,
    )
    assert week(before, "month", "2026-08-31") == (1, 1)
    assert week(after, "month", "2026-08-31") == (0, 1)
    assert [x["week_start_date"].isoformat() for x in mine(after, "month")["weekly"]][0] == (
        "2026-08-03"
    )
