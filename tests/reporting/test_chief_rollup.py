"""The chiefs report's monthly rollup of closed cases (reports/chiefs.py): every chief's
figures equal the live computation's — a month, a long range, a period cut mid-month and
one running past now — before and after the moments that could make a stored month
wrong: a case closed after the run, a closed case created after the run (dated inside a
stored month), a backdated case, a cancelled case; and the closed cases whose deadline
lies across a period's start or end, or which closed after its as-of, are counted as the
live rules count them."""

from __future__ import annotations

import json
import uuid
from datetime import timedelta

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from reporting.reports import chiefs
from reporting.reports.chiefs import chiefs_report, settled_months
from reporting.reports.period import resolve_period
from shared import clock
from tests.factories import auth, make_chief
from tests.reporting.helpers import SHANGHAI, act, cancel_and_backdate_in_august, drive_case, local
from tests.reporting.test_unit_rollup import build_months

FIGURES = ("cases", "open", "overdue", "due", "closed")


@pytest.fixture(autouse=True)
def store_rows_at_once(monkeypatch):
    """The margin for rows still being written is 10 minutes; these tests commit every row
    before the report runs, so a run may store everything created before it."""
    monkeypatch.setattr(chiefs, "CREATED_MARGIN", timedelta(0))


def periods() -> dict:
    now = clock.now()
    span = {
        # June … October stored (whole, settled), 1–29 November live.
        "range": ("2026-06-01", "2026-11-29"),
        # August stored, 10–31 July and 1–20 September live.
        "odd": ("2026-07-10", "2026-09-20"),
        # Past now: as-of is now, August … November stored, December live.
        "open-ended": ("2026-08-01", "2026-12-31"),
    }
    out = {
        name: resolve_period(from_=a, to=b, month=None, tz=SHANGHAI, now=now)
        for name, (a, b) in span.items()
    }
    out["month"] = resolve_period(from_=None, to=None, month="2026-08", tz=SHANGHAI, now=now)
    out["september"] = resolve_period(from_=None, to=None, month="2026-09", tz=SHANGHAI, now=now)
    return out


async def both_ways(db: AsyncSession, region_id: uuid.UUID) -> dict[str, list[dict]]:
    """The chiefs report of every period from the rollup and live; asserts they are equal."""
    now = clock.now()
    out = {}
    for name, period in periods().items():
        rolled = await chiefs_report(db, region_id, period, now, person_id=None)
        await db.commit()  # what a report request stores is committed before it answers
        live = await chiefs_report(db, region_id, period, now, person_id=None, rollup=False)
        await db.commit()
        assert json.dumps(rolled, default=repr) == json.dumps(live, default=repr), name
        out[name] = rolled
    return out


def figures(rows: list[dict], chief_id: uuid.UUID) -> dict[str, int]:
    [row] = [r for r in rows if r["chief_id"] == chief_id]
    return {k: row[k] for k in FIGURES}


async def runs(db: AsyncSession, region_id: uuid.UUID) -> list[tuple]:
    return (
        await db.execute(
            text(
                "SELECT month, cutoff FROM chief_case_month_runs WHERE region_id = :rid"
                " ORDER BY month"
            ),
            {"rid": region_id},
        )
    ).all()


async def close_across_august(inspections, w) -> None:
    """Closed cases at point A whose deadline or closure lies across August's edges."""
    a = {"point": w.point, "unit_user": w.unit_user}
    plan = [
        # closed in July ahead of a deadline on 1 August: due and closed in August
        (local(7, 29, 9), local(8, 1, 9), local(7, 30, 9), local(7, 31, 9)),
        # closed on 31 August ahead of a deadline on 1 September: due in September only
        (local(8, 29, 9), local(9, 1, 9), local(8, 30, 9), local(8, 31, 9)),
        # dispatched in August, closed on 3 September before its deadline: open at
        # August's as-of, not overdue, not due
        (local(8, 30, 9), local(9, 2, 9), local(9, 1, 9), local(9, 3, 9)),
        # due on 29 August, rectified and closed in September: open, overdue and due in
        # August, not closed there
        (local(8, 26, 9), local(8, 29, 9), local(9, 2, 9), local(9, 3, 9)),
    ]
    for dispatched, due, rectified, verified in plan:
        await drive_case(
            inspections,
            w,
            point=a["point"],
            unit_user=a["unit_user"],
            dispatched_at=dispatched,
            due_at=due,
            steps=[("rectify", rectified), ("verify", verified)],
        )


async def test_chiefs_from_stored_months_equal_the_live_figures(
    inspections, registry, reporting, db
):
    w, cases = await build_months(inspections, registry, db)
    await close_across_august(inspections, w)
    area = await make_chief(db, region=w.region, person=w.leader, kind="area", division=w.street)
    road = await make_chief(
        db, region=w.region, person=w.inspector, kind="road", road_name="解放路"
    )
    await make_chief(db, region=w.region, person=w.leader, kind="grid", division=w.grid)
    await db.commit()

    first = await both_ways(db, w.region.id)
    # June … November are stored (each ended more than a day ago): the figures above came
    # from the rollup for the periods holding them, not from a live fallback.
    stored = await runs(db, w.region.id)
    assert [m for m, _ in stored] == [local(month, 1).date() for month in range(6, 12)]
    # By hand, August for the street's area chief (every case): reported in August —
    # august, to_cancel and the three August dispatches above; open at 1 September —
    # june, august, to_cancel (unclosed), the two closed on 3 September; overdue — those
    # but the one due on 2 September; due — june (carried over), august (extended to
    # 25 August), to_cancel, the one closed in July due 1 August, the one due 29 August;
    # closed — of those only the one closed in July (closed ahead, counted at its deadline).
    assert figures(first["month"], area.id) == {
        "cases": 5,
        "open": 5,
        "overdue": 4,
        "due": 5,
        "closed": 1,
    }
    # September: due — the three still unclosed carried over (june, august, to_cancel),
    # the one closed on 31 August ahead of its 1 September deadline, the one due and
    # closed in September, the one due 29 August closed on 3 September; closed — the last
    # three.
    september = figures(first["september"], area.id)
    assert (september["due"], september["closed"]) == (6, 3)
    # The road chief (解放路: point B) sees to_cancel only in August.
    assert figures(first["month"], road.id) == {
        "cases": 1,
        "open": 1,
        "overdue": 1,
        "due": 1,
        "closed": 0,
    }

    # What could make a stored month wrong, done after the months were stored:
    # - a case of August cancelled now, and a case imported now dated 10 August (created
    #   after the month's run);
    await cancel_and_backdate_in_august(inspections, w, cases)
    # - a closed case created after the run, reported and closed inside stored August;
    await drive_case(
        inspections,
        w,
        point=w.point,
        unit_user=w.unit_user,
        dispatched_at=local(8, 20, 9),
        due_at=local(8, 23, 9),
        steps=[("rectify", local(8, 21, 9)), ("verify", local(8, 22, 9))],
    )
    # - June's rectified case verified now (a closure after every run; June is stored).
    await act(inspections, w.inspector, str(cases["june"]), "verify", note="核查")
    await db.commit()

    after = await both_ways(db, w.region.id)
    # Cancelled: −1 case, open, overdue and due; imported: +1 case; created late and
    # closed in August: +1 case, due and closed; June's closure now changes nothing in
    # August (it was open at 1 September and still is).
    assert figures(after["month"], area.id) == {
        "cases": 6,
        "open": 4,
        "overdue": 3,
        "due": 5,
        "closed": 2,
    }
    assert figures(after["month"], road.id) == dict.fromkeys(FIGURES, 0)
    # June's case is still one of the range's cases, now closed after the run.
    assert (
        figures(after["range"], area.id)["cases"] == figures(first["range"], area.id)["cases"] + 1
    )
    # The stored months were not recomputed: the late rows are counted live.
    assert await runs(db, w.region.id) == stored

    # The endpoint answers the same figures.
    response = await reporting.get(
        "/v1/reports/chiefs?from=2026-06-01&to=2026-11-29", headers=auth(w.leader)
    )
    assert response.status_code == 200, response.text
    body = {r["chief_id"]: r for r in response.json()["items"]}
    assert {k: body[str(area.id)][k] for k in FIGURES} == figures(after["range"], area.id)


async def test_a_stale_month_is_recomputed_when_asked_to_refresh(inspections, registry, db):
    w, _ = await build_months(inspections, registry, db)
    period = periods()["range"]
    months = settled_months(period, clock.now())
    assert await chiefs.ensure_chief_months(db, w.region.id, SHANGHAI.key, months)
    await db.commit()
    before = await runs(db, w.region.id)
    # Asked again: nothing to do; asked to refresh runs older than now: every month again.
    assert await chiefs.ensure_chief_months(db, w.region.id, SHANGHAI.key, months) == []
    refreshed = await chiefs.ensure_chief_months(
        db, w.region.id, SHANGHAI.key, months, refresh_before=clock.now() + timedelta(days=1)
    )
    await db.commit()
    assert refreshed == [m for m, _, _ in months]
    after = await runs(db, w.region.id)
    assert [m for m, _ in after] == [m for m, _ in before]
    assert all(new > old for (_, new), (_, old) in zip(after, before, strict=True))
    rows = await db.scalar(
        text("SELECT sum(closed) FROM chief_case_months WHERE region_id = :rid"),
        {"rid": w.region.id},
    )
    # build_months closes two cases: July's (22 July) and November's (4 November); only
    # July lies in the range's whole months (June … October).
    assert rows == 1
