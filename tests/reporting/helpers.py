"""World building for the reporting tests: every action through the API, at a chosen moment.

Each case is reported and moved through the workflow with the real inspections
API (``POST /v1/cases`` and ``/actions``) while :func:`shared.clock.travel_to`
holds "now" at the moment the world's table says. So the product itself stamps
every event, computes every ``due_at`` from the region's deadline policy (set
through the registry API) and decides ``closed_on_time``: no test writes a
column the inspections service owns.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from shared import clock
from shared.models import Person, SamplePoint
from tests.factories import World, auth, report_case, upload_photo

SHANGHAI = ZoneInfo("Asia/Shanghai")
# The reporting worlds' deadline: a normal case is due 72 wall-clock hours after dispatch,
# so every deadline in a world's table is its dispatch moment plus three days.
WORLD_POLICY = {"amount": 72, "unit": "hours"}


def local(month: int, day: int, hour: int = 12, minute: int = 0, year: int = 2026) -> datetime:
    """A moment in Asia/Shanghai (the test regions' zone)."""
    return datetime(year, month, day, hour, minute, tzinfo=SHANGHAI)


def instant(value: str) -> datetime:
    """An ISO 8601 instant as the API answers it."""
    return datetime.fromisoformat(value)


async def act(inspections, person: Person, case_id: str, action: str, **fields: Any) -> dict:
    response = await inspections.post(
        f"/v1/cases/{case_id}/actions", json={"action": action, **fields}, headers=auth(person)
    )
    assert response.status_code == 200, response.text
    return response.json()


async def set_world_policy(registry, w: World) -> None:
    """The region's normal cases fall due 72 hours after dispatch (through the registry API)."""
    response = await registry.put(
        "/v1/deadline-policies/normal", json=WORLD_POLICY, headers=auth(w.admin)
    )
    assert response.status_code == 200, response.text


Step = tuple[str, datetime] | tuple[str, datetime, datetime]


async def drive_case(
    inspections,
    w: World,
    *,
    point: SamplePoint,
    unit_user: Person,
    dispatched_at: datetime,
    due_at: datetime,
    steps: list[Step],
    reporter: Person | None = None,
) -> uuid.UUID:
    """Report a case at ``point`` at ``dispatched_at`` (the product dispatches it at once to
    the point's unit), check the deadline the product computed is ``due_at``, then take each
    step at its moment. ``("extend", at, new_due)`` grants an extension to ``new_due``."""
    with clock.travel_to(dispatched_at):
        # Reported a minute earlier on the phone: the server dispatches on receipt, so the
        # unit's clock starts exactly at ``dispatched_at``.
        case = await report_case(
            inspections,
            reporter or w.inspector,
            sample_point_id=str(point.id),
            source="woodpecker",
            reported_at=(dispatched_at - timedelta(minutes=1)).isoformat(),
        )
    assert instant(case["dispatched_at"]) == dispatched_at
    assert instant(case["due_at"]) == due_at, "the world's table and the policy disagree"
    case_id = case["id"]
    for action, at, *new_due in steps:
        with clock.travel_to(at):
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
                [until] = new_due
                await act(
                    inspections, w.admin, case_id, "extend", due_at=until.isoformat(), note="延期"
                )
            elif action == "park":
                await act(inspections, w.admin, case_id, "park", note="挂账")
            else:
                raise AssertionError(action)
    return uuid.UUID(case_id)


def by_unit(items: list[dict], unit_id: uuid.UUID) -> dict:
    [row] = [r for r in items if r["unit_id"] == str(unit_id)]
    return row


async def cancel_the_august_case(inspections, w: World, cases: dict[str, uuid.UUID]) -> None:
    """Mark a ``build_months`` world's ``to_cancel`` case (dispatched in August) a
    duplicate of its September case, now: cancelled after the rollup ran."""
    await act(
        inspections,
        w.admin,
        str(cases["to_cancel"]),
        "mark_duplicate",
        duplicate_of=str(cases["september"]),
    )


async def cancel_and_backdate_in_august(inspections, w: World, cases: dict[str, uuid.UUID]) -> None:
    """Two late changes to a ``build_months`` world that a stored August must survive:
    its ``to_cancel`` case marked a duplicate now, and a case imported now dated
    10 August (created after any rollup run)."""
    await cancel_the_august_case(inspections, w, cases)
    await report_case(
        inspections,
        w.inspector,
        sample_point_id=str(w.point.id),
        reported_at=local(8, 10, 9).isoformat(),
    )
