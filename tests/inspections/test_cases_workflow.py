"""The rectification workflow: every transition of SPEC §6.3, roles, If-Match, events, deadlines."""

from __future__ import annotations

import asyncio
import socket
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select, text

from shared import clock
from shared.http_client import ServiceClient
from shared.models import Case, CaseEvent
from tests.factories import World, auth, make_world, report_case, upload_photo
from tests.paging import all_pages
from tests.waiting import eventually, sessions_blocked_by

SHANGHAI = ZoneInfo("Asia/Shanghai")


def act(client, person, case: dict[str, Any], action: str, *, if_match: bool = True, **fields):
    """POST an action with ``If-Match`` set to the case's version as last seen."""
    headers = auth(person)
    if if_match:
        headers["If-Match"] = f'"{case["version"]}"'
    return client.post(
        f"/v1/cases/{case['id']}/actions", json={"action": action, **fields}, headers=headers
    )


async def ok(response) -> dict[str, Any]:
    response = await response
    assert response.status_code == 200, response.text
    assert response.headers["ETag"] == f'"{response.json()["version"]}"'
    return response.json()


async def events_of(client, person, case: dict[str, Any]) -> list[dict[str, Any]]:
    response = await client.get(f"/v1/cases/{case['id']}/events", headers=auth(person))
    assert response.status_code == 200, response.text
    return response.json()["items"]


async def assigned_case(inspections, w: World, **fields) -> dict[str, Any]:
    """A case at the world's market, dispatched at once to the market's unit."""
    case = await report_case(inspections, w.inspector, sample_point_id=str(w.point.id), **fields)
    assert case["status"] == "assigned"
    return case


async def rectify(inspections, w: World, case: dict[str, Any]) -> dict[str, Any]:
    photo = await upload_photo(inspections, w.unit_user)
    return await ok(
        act(inspections, w.unit_user, case, "rectify", note="已加盖", photo_ids=[str(photo)])
    )


@pytest.fixture
async def w(db) -> World:
    return await make_world(db)


def parse(value: str) -> datetime:
    return datetime.fromisoformat(value)


async def test_case_at_a_sample_point_is_dispatched_to_its_unit_with_a_policy_deadline(
    inspections, w: World
) -> None:
    photo = await upload_photo(inspections, w.inspector)
    with clock.travel_to(datetime(2026, 11, 16, 10, 0, tzinfo=SHANGHAI)):  # a Monday
        case = await report_case(
            inspections, w.inspector, sample_point_id=str(w.point.id), photo_ids=[str(photo)]
        )
    assert case["status"] == "assigned"
    assert case["unit_id"] == str(w.unit.id)
    assert case["division_id"] == str(w.grid.id)
    assert case["point_type_id"] == str(w.point_type.id)
    assert case["category_id"] == str(w.point_type.category_id)
    assert case["location"] == {"lat": w.point.lat, "lon": w.point.lon}
    assert case["photo_ids"] == [str(photo)]
    assert case["reporter_id"] == str(w.inspector.id)
    # normal = 3 workdays: 23:59:59 Shanghai time on the third working day after the
    # dispatch day — Thursday 11-19.
    # (The dispatch event follows the report event by one microsecond: events never tie.)
    assert case["dispatched_at"] == "2026-11-16T02:00:00.000001Z"
    assert case["due_at"] == "2026-11-19T15:59:59Z"
    assert case["overdue"] is False and case["version"] >= 1

    history = await events_of(inspections, w.admin, case)
    assert [(e["action"], e["from"], e["to"]) for e in history] == [
        ("report", None, "reported"),
        ("dispatch", "reported", "assigned"),
    ]
    assert history[1]["unit_id"] == str(w.unit.id)
    assert history[1]["due_at"] == case["due_at"]


async def test_urgent_case_is_due_in_24_wall_clock_hours(inspections, w: World) -> None:
    saturday = datetime(2026, 11, 21, 9, 30, tzinfo=SHANGHAI)
    with clock.travel_to(saturday):  # reported on the phone a minute before it reached us
        reported = (saturday - timedelta(minutes=1)).isoformat()
        case = await assigned_case(inspections, w, severity="urgent", reported_at=reported)
    assert (case["dispatched_at"], case["due_at"]) == (
        "2026-11-21T01:30:00Z",
        "2026-11-22T01:30:00Z",
    )


async def test_deadlines_follow_the_policy_and_calendar_set_through_the_registry(
    inspections, registry, w: World
) -> None:
    admin = auth(w.admin)
    changes = [
        ("/v1/deadline-policies/urgent", {"amount": 12, "unit": "hours"}),
        ("/v1/calendar/2026-11-18", {"kind": "holiday", "name": "区庆"}),  # a Wednesday
        ("/v1/calendar/2026-11-22", {"kind": "workday", "name": "调休"}),  # a Sunday
    ]
    for path, body in changes:
        response = await registry.put(path, json=body, headers=admin)
        assert response.status_code == 200, response.text

    async def due_of(severity: str, reported: datetime) -> str:
        with clock.travel_to(reported):
            case = await report_case(
                inspections,
                w.inspector,
                sample_point_id=str(w.point.id),
                severity=severity,
                reported_at=(reported - timedelta(minutes=1)).isoformat(),
            )
        return case["due_at"]

    monday = datetime(2026, 11, 16, 10, 0, tzinfo=SHANGHAI)
    # normal, 3 workdays from Monday: Tue 17, (Wed 18 holiday), Thu 19, Fri 20 → Fri 23:59:59.
    assert await due_of("normal", monday) == "2026-11-20T15:59:59Z"
    # complex, 7 workdays: 17, 19, 20, Sun 22 (make-up), 23, 24, 25 → Wed 25 23:59:59.
    assert await due_of("complex", monday) == "2026-11-25T15:59:59Z"
    # urgent, 12 wall-clock hours, whatever the calendar: Fri 20:00 → Sat 08:00.
    friday_evening = datetime(2026, 11, 20, 20, 0, tzinfo=SHANGHAI)
    assert await due_of("urgent", friday_evening) == "2026-11-21T00:00:00Z"


async def test_case_without_a_unit_waits_for_an_admin_to_dispatch_it(inspections, w: World) -> None:
    case = await report_case(inspections, w.inspector, address="人民路 12 号后巷")
    assert case["status"] == "reported"
    assert case["unit_id"] is None and case["due_at"] is None
    assert case["location"] is None

    # An inspector may not dispatch; the admin may.
    response = await act(inspections, w.inspector, case, "dispatch", unit_id=str(w.unit.id))
    assert response.status_code == 403
    assert response.json()["allowed_actions"] == []
    dispatched = await ok(act(inspections, w.admin, case, "dispatch", unit_id=str(w.other_unit.id)))
    assert dispatched["status"] == "assigned"
    assert dispatched["unit_id"] == str(w.other_unit.id)
    assert dispatched["due_at"] is not None
    assert dispatched["version"] == case["version"] + 1


async def test_dispatch_accepts_an_explicit_deadline_and_needs_a_unit_of_the_region(
    inspections, w: World, db
) -> None:
    case = await report_case(inspections, w.inspector, address="后巷")
    response = await act(inspections, w.admin, case, "dispatch")
    assert response.status_code == 422
    assert response.json()["errors"][0]["loc"] == ["body", "unit_id"]
    stranger = await make_world(db)
    response = await act(inspections, w.admin, case, "dispatch", unit_id=str(stranger.unit.id))
    assert response.status_code == 422
    response = await act(
        inspections,
        w.admin,
        case,
        "dispatch",
        unit_id=str(w.unit.id),
        due_at=(datetime.now(UTC) - timedelta(hours=1)).isoformat(),
    )
    assert response.status_code == 422
    # Nothing changed by the refused attempts.
    again = (await inspections.get(f"/v1/cases/{case['id']}", headers=auth(w.admin))).json()
    assert again["status"] == "reported" and again["version"] == case["version"]
    assert len(await events_of(inspections, w.admin, case)) == 1

    due = (datetime.now(UTC) + timedelta(days=2)).replace(microsecond=0)
    done = await ok(
        act(inspections, w.admin, case, "dispatch", unit_id=str(w.unit.id), due_at=due.isoformat())
    )
    assert parse(done["due_at"]) == due


async def test_rectify_then_verify_closes_the_case_on_time(inspections, w: World) -> None:
    case = await assigned_case(inspections, w)
    rectified = await rectify(inspections, w, case)
    assert rectified["status"] == "rectified"
    assert rectified["rectified_at"] == rectified["last_rectified_at"]
    closed = await ok(act(inspections, w.inspector, rectified, "verify", note="复查合格"))
    assert closed["status"] == "closed"
    assert closed["closed_at"] is not None
    assert closed["closed_on_time"] is True
    assert closed["overdue"] is False
    history = await events_of(inspections, w.admin, closed)
    assert [e["action"] for e in history] == ["report", "dispatch", "rectify", "verify"]
    assert history[2]["actor_id"] == str(w.unit_user.id)
    assert len(history[2]["photo_ids"]) == 1
    assert history[3]["actor_id"] == str(w.inspector.id)


async def test_admin_may_verify_too(inspections, w: World) -> None:
    case = await rectify(inspections, w, await assigned_case(inspections, w))
    closed = await ok(act(inspections, w.admin, case, "verify"))
    assert closed["status"] == "closed"


async def test_rectify_needs_a_note_and_an_uploaded_after_photo(inspections, w: World) -> None:
    case = await assigned_case(inspections, w)
    response = await act(inspections, w.unit_user, case, "rectify", note="done")
    assert response.status_code == 422
    assert {tuple(e["loc"]) for e in response.json()["errors"]} == {("body", "photo_ids")}
    response = await act(
        inspections, w.unit_user, case, "rectify", note="done", photo_ids=[str(uuid.uuid4())]
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["loc"] == ["body", "photo_ids", "0"]
    photo = await upload_photo(inspections, w.unit_user)
    response = await act(inspections, w.unit_user, case, "rectify", photo_ids=[str(photo)])
    assert response.status_code == 422
    assert response.json()["errors"][0]["loc"] == ["body", "note"]
    response = await act(inspections, w.unit_user, case, "rectify", note="x", typo=1)
    assert response.status_code == 422
    assert response.json()["errors"][0]["msg"] == "unknown field"
    still = (await inspections.get(f"/v1/cases/{case['id']}", headers=auth(w.admin))).json()
    assert still["status"] == "assigned" and still["version"] == case["version"]


async def test_reject_sends_the_case_back_for_rework_with_the_same_deadline(
    inspections, w: World
) -> None:
    case = await assigned_case(inspections, w)
    rectified = await rectify(inspections, w, case)
    response = await act(inspections, w.inspector, rectified, "reject")
    assert response.status_code == 422  # a rejection says why
    rejected = await ok(act(inspections, w.inspector, rectified, "reject", note="仍有积水"))
    assert rejected["status"] == "assigned"
    assert rejected["rework_count"] == 1
    assert rejected["due_at"] == case["due_at"]
    again = await rectify(inspections, w, rejected)
    assert again["rectified_at"] == rectified["rectified_at"]
    assert again["last_rectified_at"] > rectified["last_rectified_at"]
    closed = await ok(act(inspections, w.inspector, again, "verify"))
    assert closed["rework_count"] == 1 and closed["closed_on_time"] is True


async def test_overdue_is_computed_and_a_late_rectification_closes_late(
    inspections, w: World
) -> None:
    case = await assigned_case(inspections, w)
    due = parse(case["due_at"])
    with clock.travel_to(due):
        at_deadline = await inspections.get(f"/v1/cases/{case['id']}", headers=auth(w.unit_user))
    assert at_deadline.json()["overdue"] is False  # overdue only once the deadline has passed
    with clock.travel_to(due + timedelta(hours=2)):
        seen = (await inspections.get(f"/v1/cases/{case['id']}", headers=auth(w.unit_user))).json()
        assert seen["overdue"] is True
        rectified = await rectify(inspections, w, seen)
        assert rectified["overdue"] is False  # only assigned cases are overdue
        closed = await ok(act(inspections, w.inspector, rectified, "verify"))
    assert closed["closed_on_time"] is False
    assert parse(closed["last_rectified_at"]) == due + timedelta(hours=2)


async def test_extension_request_then_extend(inspections, w: World) -> None:
    case = await assigned_case(inspections, w)
    wanted = (parse(case["due_at"]) + timedelta(days=5)).isoformat()
    requested = await ok(
        act(inspections, w.unit_user, case, "request_extension", note="需采购纱窗", due_at=wanted)
    )
    assert requested["status"] == "assigned"
    assert requested["extension_requested"] is True
    assert parse(requested["extension_requested_due_at"]) == parse(wanted)
    assert requested["due_at"] == case["due_at"]

    # extend needs a later deadline
    response = await act(inspections, w.admin, requested, "extend")
    assert response.status_code == 422
    response = await act(inspections, w.admin, requested, "extend", due_at=case["due_at"])
    assert response.status_code == 422
    extended = await ok(act(inspections, w.admin, requested, "extend", due_at=wanted, note="同意"))
    assert extended["extension_count"] == 1
    assert extended["extension_requested"] is False
    assert parse(extended["due_at"]) == parse(wanted)
    history = await events_of(inspections, w.admin, extended)
    assert [e["action"] for e in history][-2:] == ["request_extension", "extend"]
    assert parse(history[-1]["due_at"]) == parse(wanted)


async def test_return_then_redispatch_to_another_unit(inspections, w: World) -> None:
    case = await assigned_case(inspections, w)
    response = await act(inspections, w.unit_user, case, "return")
    assert response.status_code == 422  # "not our remit" needs a reason
    returned = await ok(act(inspections, w.unit_user, case, "return", note="属城管执法局职责"))
    assert returned["status"] == "returned"
    assert returned["return_count"] == 1
    # The returning unit still sees it; it may do nothing more.
    response = await act(inspections, w.unit_user, returned, "rectify", note="x")
    assert response.status_code == 409
    assert response.json()["allowed_actions"] == []

    redispatched = await ok(
        act(inspections, w.admin, returned, "dispatch", unit_id=str(w.other_unit.id))
    )
    assert redispatched["status"] == "assigned"
    assert redispatched["unit_id"] == str(w.other_unit.id)
    assert redispatched["dispatched_at"] > case["dispatched_at"]
    # Now the first unit no longer sees it and the second does.
    assert (
        await inspections.get(f"/v1/cases/{case['id']}", headers=auth(w.unit_user))
    ).status_code == 404
    assert (
        await inspections.get(f"/v1/cases/{case['id']}", headers=auth(w.other_unit_user))
    ).status_code == 200
    history = await events_of(inspections, w.admin, redispatched)
    assert [(e["action"], e["unit_id"]) for e in history][-2:] == [
        ("return", str(w.unit.id)),
        ("dispatch", str(w.other_unit.id)),
    ]


async def test_park_and_resume(inspections, w: World) -> None:
    case = await assigned_case(inspections, w)
    parked = await ok(act(inspections, w.admin, case, "park", note="待道路改造"))
    assert parked["status"] == "parked" and parked["overdue"] is False
    response = await act(inspections, w.unit_user, parked, "rectify", note="x")
    assert response.status_code == 409
    resumed = await ok(act(inspections, w.admin, parked, "resume"))
    assert resumed["status"] == "assigned"
    assert parse(resumed["due_at"]) > datetime.now(UTC)
    parked = await ok(act(inspections, w.admin, resumed, "park", note="again"))
    due = (datetime.now(UTC) + timedelta(days=30)).replace(microsecond=0)
    resumed = await ok(act(inspections, w.admin, parked, "resume", due_at=due.isoformat()))
    assert parse(resumed["due_at"]) == due


async def test_mark_duplicate_points_at_the_surviving_case(inspections, w: World) -> None:
    survivor = await assigned_case(inspections, w)
    copy = await assigned_case(inspections, w)
    response = await act(inspections, w.admin, copy, "mark_duplicate")
    assert response.status_code == 422
    response = await act(inspections, w.admin, copy, "mark_duplicate", duplicate_of=copy["id"])
    assert response.status_code == 422
    response = await act(
        inspections, w.admin, copy, "mark_duplicate", duplicate_of=str(uuid.uuid4())
    )
    assert response.status_code == 422
    done = await ok(act(inspections, w.admin, copy, "mark_duplicate", duplicate_of=survivor["id"]))
    assert done["status"] == "cancelled"
    assert done["duplicate_of"] == survivor["id"]
    assert done["closed_at"] is None
    # A cancelled case cannot be the survivor of another.
    third = await report_case(inspections, w.inspector, address="x")
    response = await act(inspections, w.admin, third, "mark_duplicate", duplicate_of=copy["id"])
    assert response.status_code == 422


async def test_cancel_an_invalid_report_and_a_returned_case(inspections, w: World) -> None:
    case = await report_case(inspections, w.inspector, address="x")
    cancelled = await ok(act(inspections, w.admin, case, "cancel", note="重复上报"))
    assert cancelled["status"] == "cancelled"
    assigned = await assigned_case(inspections, w)
    response = await act(inspections, w.admin, assigned, "cancel", note="x")
    assert response.status_code == 409
    problem = response.json()
    assert problem["allowed_actions"] == ["mark_duplicate", "extend", "park"]
    assert problem["status"] == 409 and problem["case_status"] == "assigned"
    returned = await ok(act(inspections, w.unit_user, assigned, "return", note="不归我们"))
    assert (await ok(act(inspections, w.admin, returned, "cancel", note="作废")))["status"] == (
        "cancelled"
    )


ADMIN_ON_ASSIGNED = ["mark_duplicate", "extend", "park"]
UNIT_ON_ASSIGNED = ["return", "request_extension", "rectify"]


@pytest.mark.parametrize(
    ("status_path", "action", "person", "code", "allowed"),
    [
        # wrong role for the action, whatever the state → 403, with what that role may do
        ("assigned", "rectify", "inspector", 403, []),
        ("assigned", "rectify", "admin", 403, ADMIN_ON_ASSIGNED),
        ("rectified", "verify", "unit_user", 403, []),
        ("assigned", "dispatch", "unit_user", 403, UNIT_ON_ASSIGNED),
        ("assigned", "park", "leader", 403, []),
        # right role, wrong state → 409
        ("assigned", "dispatch", "admin", 409, ADMIN_ON_ASSIGNED),
        ("rectified", "rectify", "unit_user", 409, []),
        ("assigned", "verify", "inspector", 409, []),
        ("closed", "reject", "inspector", 409, []),
        ("closed", "park", "admin", 409, []),
        ("reported", "resume", "admin", 409, ["dispatch", "cancel", "mark_duplicate"]),
    ],
)
async def test_a_forbidden_action_is_refused_with_what_is_allowed_and_changes_nothing(
    inspections,
    w: World,
    status_path: str,
    action: str,
    person: str,
    code: int,
    allowed: list[str],
) -> None:
    case = await assigned_case(inspections, w)
    if status_path in ("rectified", "closed"):
        case = await rectify(inspections, w, case)
    if status_path == "closed":
        case = await ok(act(inspections, w.admin, case, "verify"))
    if status_path == "reported":
        case = await report_case(inspections, w.inspector, address="x")
    assert case["status"] == status_path
    body: dict[str, Any] = {"note": "n"}
    if action == "dispatch":
        body["unit_id"] = str(w.unit.id)
    response = await act(inspections, getattr(w, person), case, action, **body)
    assert response.status_code == code, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["allowed_actions"] == allowed
    after = (await inspections.get(f"/v1/cases/{case['id']}", headers=auth(w.admin))).json()
    assert after["version"] == case["version"] and after["status"] == case["status"]


async def test_allowed_actions_for_a_unit_on_an_assigned_case(inspections, w: World) -> None:
    case = await assigned_case(inspections, w)
    response = await act(inspections, w.unit_user, case, "resume")
    assert response.status_code == 403
    assert response.json()["allowed_actions"] == ["return", "request_extension", "rectify"]
    response = await act(inspections, w.unit_user, case, "fly")
    assert response.status_code == 422


async def test_stale_if_match_is_refused_and_changes_nothing(inspections, w: World) -> None:
    case = await assigned_case(inspections, w)
    requested = await ok(act(inspections, w.unit_user, case, "request_extension", note="slow"))
    # The admin acts on the version they loaded before the unit's request.
    response = await act(inspections, w.admin, case, "park", note="x")
    assert response.status_code == 412
    assert response.json()["current_version"] == requested["version"]
    after = (await inspections.get(f"/v1/cases/{case['id']}", headers=auth(w.admin))).json()
    assert after["status"] == "assigned" and after["version"] == requested["version"]
    # Without If-Match the action goes through (the header is optional).
    parked = await ok(act(inspections, w.admin, requested, "park", note="x", if_match=False))
    assert parked["status"] == "parked"


async def test_events_are_ordered_and_immutable(inspections, w: World, db) -> None:
    case = await assigned_case(inspections, w)
    rectified = await rectify(inspections, w, case)
    rejected = await ok(act(inspections, w.inspector, rectified, "reject", note="no"))
    await rectify(inspections, w, rejected)
    first = await events_of(inspections, w.admin, case)
    assert [e["action"] for e in first] == [
        "report",
        "dispatch",
        "rectify",
        "reject",
        "rectify",
    ]
    assert [e["at"] for e in first] == sorted(e["at"] for e in first)
    assert len({e["at"] for e in first}) == len(first)
    assert [(e["from"], e["to"]) for e in first][2:] == [
        ("assigned", "rectified"),
        ("rectified", "assigned"),
        ("assigned", "rectified"),
    ]
    # Paging through the history yields the same events in the same order.
    path = f"/v1/cases/{case['id']}/events"
    assert await all_pages(inspections, path, headers=auth(w.admin), limit=2) == first
    # Later actions only append: the earlier events read back unchanged.
    await ok(
        act(
            inspections,
            w.admin,
            (await inspections.get(f"/v1/cases/{case['id']}", headers=auth(w.admin))).json(),
            "verify",
        )
    )
    later = await events_of(inspections, w.admin, case)
    assert later[: len(first)] == first and len(later) == len(first) + 1
    stored = (
        await db.scalars(select(CaseEvent).where(CaseEvent.case_id == uuid.UUID(case["id"])))
    ).all()
    assert len(stored) == len(later)


async def test_actions_need_a_valid_token(inspections, w: World) -> None:
    case = await assigned_case(inspections, w)
    response = await inspections.post(f"/v1/cases/{case['id']}/actions", json={"action": "rectify"})
    assert response.status_code == 401
    response = await inspections.post(
        f"/v1/cases/{case['id']}/actions",
        json={"action": "rectify"},
        headers={"Authorization": "Bearer nonsense"},
    )
    assert response.status_code == 401
    assert (await inspections.get(f"/v1/cases/{case['id']}")).status_code == 401


async def test_two_people_acting_at_once_cannot_both_win(inspections, w: World, engine) -> None:
    case = await assigned_case(inspections, w)
    photo = await upload_photo(inspections, w.unit_user)
    # Hold the case's row so that both requests reach it and wait there together: when it
    # is let go, both are in flight on the same version, and exactly one may win.
    async with engine.connect() as holder:
        await holder.execute(
            text("SELECT 1 FROM cases WHERE region_id = :r AND id = :i FOR UPDATE"),
            {"r": w.region.id, "i": case["id"]},
        )
        holder_pid = await holder.scalar(text("SELECT pg_backend_pid()"))
        both = asyncio.gather(
            act(inspections, w.unit_user, case, "rectify", note="done", photo_ids=[str(photo)]),
            act(inspections, w.admin, case, "park", note="later"),
        )
        await eventually(
            lambda: sessions_blocked_by(engine, holder_pid),
            equals=2,
            what="both actions waiting on the case's row",
        )
        await holder.rollback()
    results = await both
    assert sorted(r.status_code for r in results) == [200, 412]
    winner = next(r.json() for r in results if r.status_code == 200)
    after = (await inspections.get(f"/v1/cases/{case['id']}", headers=auth(w.admin))).json()
    assert after["status"] == winner["status"] and after["version"] == case["version"] + 1
    assert len(await events_of(inspections, w.admin, case)) == 3


async def test_registry_outage_answers_503_and_saves_nothing(
    inspections, inspections_app, w: World, db
) -> None:
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        dead_port = sock.getsockname()[1]
    working = inspections_app.state.registry_client
    inspections_app.state.registry_client = ServiceClient(
        f"http://127.0.0.1:{dead_port}", service_token="x", timeout=0.5, retries=0
    )
    inspections_app.state.deadline_rules_cache = {}
    try:
        case_id = str(uuid.uuid4())
        response = await inspections.post(
            "/v1/cases",
            json={
                "id": case_id,
                "source": "expert",
                "description": "x",
                "severity": "normal",
                "address": "x",
                "unit_id": str(w.unit.id),
            },
            headers=auth(w.admin),
        )
        assert response.status_code == 503
        assert response.headers["Retry-After"]
    finally:
        await inspections_app.state.registry_client.aclose()
        inspections_app.state.registry_client = working
    assert await db.get(Case, (w.region.id, uuid.UUID(case_id))) is None


async def test_allowed_actions_name_what_the_caller_may_do_now_and_follow_the_case(
    inspections, w: World
):
    case = await assigned_case(inspections, w)

    async def allowed(person) -> list[str]:
        response = await inspections.get(f"/v1/cases/{case['id']}/actions", headers=auth(person))
        assert response.status_code == 200, response.text
        assert response.json()["version"] == case["version"]
        assert response.headers["ETag"] == f'"{case["version"]}"'
        return response.json()["allowed_actions"]

    assert await allowed(w.admin) == ["mark_duplicate", "extend", "park"]
    assert await allowed(w.unit_user) == ["return", "request_extension", "rectify"]
    assert await allowed(w.inspector) == []
    assert await allowed(w.leader) == []
    other = await inspections.get(
        f"/v1/cases/{case['id']}/actions", headers=auth(w.other_unit_user)
    )
    assert other.status_code == 404  # another unit's case: not even its actions

    case = await rectify(inspections, w, case)
    assert await allowed(w.inspector) == ["verify", "reject"]
    assert await allowed(w.unit_user) == []
