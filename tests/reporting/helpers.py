"""World building for the reporting tests.

Cases are created and moved through the workflow with the real inspections API
(``POST /v1/cases`` and ``/actions``); the API stamps every step with the
current time, so the tests then backdate the case and its events with SQL
UPDATEs to the hand-chosen moments the figures are checked against.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from shared.models import Case, CaseEvent, Person, SamplePoint
from tests.factories import World, auth, report_case, upload_photo

SHANGHAI = ZoneInfo("Asia/Shanghai")


def local(month: int, day: int, hour: int = 12, minute: int = 0, year: int = 2026) -> datetime:
    """A moment in Asia/Shanghai (the test regions' zone)."""
    return datetime(year, month, day, hour, minute, tzinfo=SHANGHAI)


async def act(inspections, person: Person, case_id: str, action: str, **fields: Any) -> dict:
    response = await inspections.post(
        f"/v1/cases/{case_id}/actions", json={"action": action, **fields}, headers=auth(person)
    )
    assert response.status_code == 200, response.text
    return response.json()


async def drive_case(
    inspections,
    db: AsyncSession,
    w: World,
    *,
    point: SamplePoint,
    unit_user: Person,
    steps: list[tuple[str, datetime]],
    reported_at: datetime,
    dispatched_at: datetime,
    due_at: datetime,
    reporter: Person | None = None,
) -> uuid.UUID:
    """Report a case at ``point`` (dispatched at once to its unit), run ``steps`` through
    the API, then move every event and case time to the given moments."""
    case = await report_case(
        inspections, reporter or w.inspector, sample_point_id=str(point.id), source="woodpecker"
    )
    case_id = case["id"]
    far = (datetime.now(SHANGHAI) + timedelta(days=60)).isoformat()
    for action, _ in steps:
        if action == "rectify":
            photo = await upload_photo(inspections, unit_user)
            await act(
                inspections, unit_user, case_id, "rectify", note="整改", photo_ids=[str(photo)]
            )
        elif action in ("verify", "reject"):
            await act(inspections, w.inspector, case_id, action, note="核查")
        elif action == "return":
            await act(inspections, unit_user, case_id, "return", note="非本单位职责")
        elif action == "extend":
            await act(inspections, w.admin, case_id, "extend", due_at=far, note="延期")
        elif action == "park":
            await act(inspections, w.admin, case_id, "park", note="挂账")
        else:
            raise AssertionError(action)
    await backdate(
        db,
        uuid.UUID(case_id),
        region_id=w.region.id,
        events=[("report", reported_at), ("dispatch", dispatched_at), *steps],
        due_at=due_at,
    )
    return uuid.UUID(case_id)


async def backdate(
    db: AsyncSession,
    case_id: uuid.UUID,
    *,
    region_id: uuid.UUID,
    events: list[tuple[str, datetime]],
    due_at: datetime,
) -> None:
    """Hand-chosen times for a case driven through the API (SQL UPDATE, test-only)."""
    stored = (
        await db.execute(
            select(CaseEvent.id, CaseEvent.action)
            .where(CaseEvent.region_id == region_id, CaseEvent.case_id == case_id)
            .order_by(CaseEvent.at, CaseEvent.action != "report", CaseEvent.id)
        )
    ).all()
    assert [a for _, a in stored] == [a for a, _ in events], (stored, events)
    for (event_id, _), (_, at) in zip(stored, events, strict=True):
        await db.execute(update(CaseEvent).where(CaseEvent.id == event_id).values(at=at))
    # The event records the deadline in force: every event from the dispatch on carries
    # the case's (single, hand-chosen) deadline, as the API would have recorded it.
    await db.execute(
        update(CaseEvent)
        .where(
            CaseEvent.region_id == region_id,
            CaseEvent.case_id == case_id,
            CaseEvent.due_at.is_not(None),
        )
        .values(due_at=due_at)
    )
    rectified = [at for action, at in events if action == "rectify"]
    verified = [at for action, at in events if action == "verify"]
    parked = [at for action, at in events if action == "park"]
    closed_at = verified[-1] if verified else None
    await db.execute(
        update(Case)
        .where(Case.region_id == region_id, Case.id == case_id)
        .values(
            reported_at=events[0][1],
            dispatched_at=events[1][1],
            due_at=due_at,
            rectified_at=rectified[0] if rectified else None,
            last_rectified_at=rectified[-1] if rectified else None,
            closed_at=closed_at,
            closed_on_time=(rectified[-1] <= due_at) if closed_at else None,
            parked_at=parked[-1] if parked else None,
        )
    )
    await db.commit()


def by_unit(items: list[dict], unit_id: uuid.UUID) -> dict:
    [row] = [r for r in items if r["unit_id"] == str(unit_id)]
    return row
