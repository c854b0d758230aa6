"""Deadline events once per deadline, the inbox and its scope, notices from reporting,
refused webhook input, and the delivery metrics."""

from __future__ import annotations

import asyncio
import uuid
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select, text

from shared.models import Webhook
from tests.factories import World, auth, make_person, make_world, report_case, upload_photo
from tests.inspections.notifications_helpers import (
    act,
    dispatcher_for,
    events_of_subject,
    fan_out_everything,
    ok,
)
from tests.reporting.world import build_october


@pytest.fixture
async def w(db) -> World:
    return await make_world(db)


async def types_of(db, case) -> list[str]:
    return [e["type"] for e in await events_of_subject(db, case["id"])]


async def inbox(client, person, **params) -> dict:
    response = await client.get("/v1/notifications", params=params, headers=auth(person))
    assert response.status_code == 200, response.text
    return response.json()


def about(page: dict, subject_id: str) -> list[str]:
    return [n["type"] for n in page["items"] if n["subject_id"] == subject_id]


# ---------------------------------------------------------------- due_soon and overdue


async def test_due_soon_and_overdue_fire_once_per_deadline_and_again_after_an_extension(
    inspections, inspections_app, db, w: World
) -> None:
    case = await report_case(inspections, w.inspector, sample_point_id=str(w.point.id))
    due = datetime.fromisoformat(case["due_at"])
    dispatcher = dispatcher_for(inspections_app)
    deadline_events = ("case.due_soon", "case.overdue")

    async def deadline_types() -> list[str]:
        return [t for t in await types_of(db, case) if t in deadline_events]

    await dispatcher.schedule(now=due - timedelta(hours=25))
    assert await deadline_types() == []
    await dispatcher.schedule(now=due - timedelta(hours=23))
    await dispatcher.schedule(now=due - timedelta(hours=1))
    assert await deadline_types() == ["case.due_soon"]
    await dispatcher.schedule(now=due + timedelta(minutes=1))
    await dispatcher.schedule(now=due + timedelta(hours=5))
    assert await deadline_types() == ["case.due_soon", "case.overdue"]

    # Two schedulers at the same moment still write one event per deadline.
    new_due = due + timedelta(days=3)
    case = await ok(act(inspections, w.admin, case, "extend", due_at=new_due.isoformat()))
    other = dispatcher_for(inspections_app)
    await asyncio.gather(
        dispatcher.schedule(now=new_due - timedelta(hours=2)),
        other.schedule(now=new_due - timedelta(hours=2)),
    )
    await dispatcher.schedule(now=new_due - timedelta(hours=1))
    await dispatcher.schedule(now=new_due + timedelta(minutes=1))
    assert await deadline_types() == [
        "case.due_soon",
        "case.overdue",
        "case.due_soon",
        "case.overdue",
    ]
    events = [e for e in await events_of_subject(db, case["id"]) if e["type"] in deadline_events]
    assert [datetime.fromisoformat(e["data"]["due_at"]) for e in events] == [
        due,
        due,
        new_due,
        new_due,
    ]


async def test_a_deadline_missed_while_no_scheduler_ran_is_overdue_without_a_late_due_soon(
    inspections, inspections_app, db, w: World
) -> None:
    case = await report_case(inspections, w.inspector, sample_point_id=str(w.point.id))
    due = datetime.fromisoformat(case["due_at"])
    await dispatcher_for(inspections_app).schedule(now=due + timedelta(hours=2))
    deadline_events = [
        t for t in await types_of(db, case) if t in ("case.due_soon", "case.overdue")
    ]
    assert deadline_events == ["case.overdue"]


async def test_a_closed_case_gets_no_deadline_events(inspections, inspections_app, db, w: World):
    case = await report_case(inspections, w.inspector, sample_point_id=str(w.point.id))
    due = datetime.fromisoformat(case["due_at"])
    photo = await upload_photo(inspections, w.unit_user)
    case = await ok(
        act(inspections, w.unit_user, case, "rectify", note="已清理", photo_ids=[str(photo)])
    )
    await dispatcher_for(inspections_app).schedule(now=due + timedelta(hours=2))
    assert "case.overdue" not in await types_of(db, case)
    assert "case.due_soon" not in await types_of(db, case)


async def test_a_unit_gets_one_digest_a_day_from_the_digest_hour_with_due_today_and_overdue(
    inspections, inspections_app, db, w: World
) -> None:
    case = await report_case(inspections, w.inspector, sample_point_id=str(w.point.id))
    due = datetime.fromisoformat(case["due_at"])  # 23:59:59 local on a working day
    local = due.astimezone(ZoneInfo("Asia/Shanghai"))
    dispatcher = dispatcher_for(inspections_app)  # digest hour 8, local time

    async def digests() -> list[dict]:
        return [e for e in await events_of_subject(db, w.unit.id) if e["type"] == "unit.digest"]

    await dispatcher.schedule(now=local.replace(hour=7, minute=30))
    assert await digests() == []
    await dispatcher.schedule(now=local.replace(hour=9, minute=0))
    await dispatcher.schedule(now=local.replace(hour=15, minute=0))
    [today] = await digests()
    assert today["data"]["date"] == local.date().isoformat()
    assert today["data"]["due_today"] == [case["id"]] and today["data"]["overdue_count"] == 0
    await dispatcher.schedule(now=(local + timedelta(days=1)).replace(hour=9, minute=0))
    [_, tomorrow] = await digests()
    assert tomorrow["data"]["overdue"] == [case["id"]] and tomorrow["data"]["due_today_count"] == 0
    # The other unit has no open case: no digest for it.
    assert [
        e for e in await events_of_subject(db, w.other_unit.id) if e["type"] == "unit.digest"
    ] == []


# ---------------------------------------------------------------- the inbox


async def test_unit_staff_see_only_their_units_notifications_and_read_them_each_for_themselves(
    inspections, inspections_app, db, w: World
) -> None:
    colleague = await make_person(db, region=w.region, role="unit", unit=w.unit)
    ours = await report_case(inspections, w.inspector, sample_point_id=str(w.point.id))
    theirs = await report_case(inspections, w.inspector, unit_id=str(w.other_unit.id))
    dispatcher = dispatcher_for(inspections_app)
    await fan_out_everything(dispatcher)

    mine = await inbox(inspections, w.unit_user)
    assert about(mine, ours["id"]) == ["case.assigned"]
    assert about(mine, theirs["id"]) == []
    assert mine["unread"] == 1
    other = await inbox(inspections, w.other_unit_user)
    assert about(other, theirs["id"]) == ["case.assigned"] and about(other, ours["id"]) == []

    before_read = datetime.fromisoformat(mine["items"][0]["created_at"])
    marked = await inspections.post(
        "/v1/notifications/read", json={"ids": [mine["items"][0]["id"]]}, headers=auth(w.unit_user)
    )
    assert marked.status_code == 200 and marked.json() == {"marked": 1, "unread": 0}
    assert (await inbox(inspections, w.unit_user, unread="true"))["items"] == []
    assert (await inbox(inspections, colleague))["unread"] == 1  # read by one, not by all
    # Another unit's notification cannot be marked by us.
    foreign = (await inbox(inspections, w.other_unit_user))["items"][0]["id"]
    refused = await inspections.post(
        "/v1/notifications/read", json={"ids": [foreign]}, headers=auth(w.unit_user)
    )
    assert refused.json()["marked"] == 0
    assert (await inbox(inspections, w.other_unit_user))["unread"] == 1

    # Delta sync: the entry read since then comes back, with its read time.
    changed = await inbox(
        inspections,
        w.unit_user,
        updated_since=(before_read + timedelta(microseconds=1)).isoformat(),
    )
    [entry] = changed["items"]
    assert entry["type"] == "case.assigned" and entry["read_at"] is not None
    assert datetime.fromisoformat(entry["updated_at"]) > before_read


async def test_an_inspector_sees_the_rectifications_of_cases_they_reported_awaiting_verification(
    inspections, inspections_app, db, w: World
) -> None:
    another_inspector = await make_person(db, region=w.region, role="inspector")
    case = await report_case(inspections, w.inspector, sample_point_id=str(w.point.id))
    photo = await upload_photo(inspections, w.unit_user)
    case = await ok(
        act(inspections, w.unit_user, case, "rectify", note="已清理", photo_ids=[str(photo)])
    )
    case = await ok(act(inspections, w.inspector, case, "reject", note="仍有积水"))
    await fan_out_everything(dispatcher_for(inspections_app))

    assert about(await inbox(inspections, w.inspector), case["id"]) == ["case.rectified"]
    assert about(await inbox(inspections, another_inspector), case["id"]) == []
    # The unit hears of the assignment and of the rework, newest first.
    assert about(await inbox(inspections, w.unit_user), case["id"]) == [
        "case.rejected",
        "case.assigned",
    ]


async def test_a_notice_raised_by_reporting_reaches_the_units_inbox_under_its_outbox_id(
    inspections, inspections_app, registry, reporting, db
) -> None:
    october = await build_october(inspections, registry, db)
    w = october.w
    put = await reporting.put(
        "/v1/reports/score-weights",
        json={"closure": 30, "on_time": 30, "rework": 30, "volume": 10, "min_cases": 1},
        headers=auth(w.admin),
    )
    assert put.status_code == 200
    run = await reporting.post(
        "/v1/accountability/runs", json={"period": "2026-09"}, headers=auth(w.admin)
    )
    assert run.status_code == 201 and run.json()["notices_created"] == 1
    [outbox_id, notice_id] = (
        await db.execute(
            text("SELECT id, notice_id FROM notice_outbox WHERE region_id = :r"),
            {"r": w.region.id},
        )
    ).one()
    await fan_out_everything(dispatcher_for(inspections_app))
    notices = [
        n for n in (await inbox(inspections, w.unit_user))["items"] if n["type"] == "notice.raised"
    ]
    assert [(n["event_id"], n["subject_id"]) for n in notices] == [(str(outbox_id), str(notice_id))]
    assert [
        n
        for n in (await inbox(inspections, w.other_unit_user))["items"]
        if n["type"] == "notice.raised"
    ] == []


# ---------------------------------------------------------------- refused input


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"url": "file:///etc/passwd"}, "url"),
        ({"url": "gopher://127.0.0.1:70/"}, "url"),
        ({"url": "http://127.0.0.1:9/hook", "event_types": ["case.exploded"]}, "event_types"),
        ({"url": "http://127.0.0.1:9/hook", "colour": "red"}, "colour"),
        ({"url": "http://127.0.0.1:9/hook", "kind": "fax"}, "kind"),
        ({"url": "http://127.0.0.1:9/hook", "unit_id": str(uuid.uuid4())}, "unit_id"),
        ({"url": "http://127.0.0.1:9/hook", "secret": "not-a-standard-secret"}, "secret"),
        ({"url": "http://127.0.0.1:9/hook", "kind": "wecom", "secret": "whatever-123"}, "secret"),
    ],
)
async def test_bad_webhook_input_is_a_problem_and_stores_nothing(
    inspections, db, w: World, body, field
) -> None:
    response = await inspections.post("/v1/webhooks", json=body, headers=auth(w.admin))
    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert any(field in [str(p) for p in e["loc"]] for e in response.json()["errors"])
    stored = await db.scalar(
        select(func.count()).select_from(Webhook).where(Webhook.region_id == w.region.id)
    )
    assert stored == 0


async def test_only_admins_manage_webhooks_and_only_their_regions(inspections, db, w: World):
    body = {"url": "http://127.0.0.1:9/hook"}
    for person in (w.inspector, w.unit_user, w.leader):
        refused = await inspections.post("/v1/webhooks", json=body, headers=auth(person))
        assert refused.status_code == 403
        assert refused.headers["content-type"].startswith("application/problem+json")
        assert (await inspections.get("/v1/webhooks", headers=auth(person))).status_code == 403
    assert (await inspections.post("/v1/webhooks", json=body)).status_code == 401
    created = await inspections.post("/v1/webhooks", json=body, headers=auth(w.admin))
    assert created.status_code == 201
    elsewhere = await make_world(db)
    hook = created.json()["id"]
    for path in (f"/v1/webhooks/{hook}", f"/v1/webhooks/{hook}/deliveries"):
        assert (await inspections.get(path, headers=auth(elsewhere.admin))).status_code == 404
    listed = await inspections.get("/v1/webhooks", headers=auth(elsewhere.admin))
    assert listed.json()["items"] == []
    unknown = await inspections.post(
        f"/v1/deliveries/{uuid.uuid4()}/redeliver", headers=auth(w.admin)
    )
    assert unknown.status_code == 404


# ---------------------------------------------------------------- metrics


async def test_metrics_show_pending_deliveries_and_the_oldest_pending_events_age(
    inspections, inspections_app, w: World
) -> None:
    created = await inspections.post(
        "/v1/webhooks",
        json={"url": "http://127.0.0.1:9/unreachable", "event_types": ["case.assigned"]},
        headers=auth(w.admin),
    )
    hook = created.json()
    await report_case(inspections, w.inspector, sample_point_id=str(w.point.id))
    dispatcher = dispatcher_for(inspections_app, notifications_retry_first_seconds=60)
    dispatcher.metrics = inspections_app.state.delivery_metrics
    await fan_out_everything(dispatcher)
    await dispatcher.tick()  # tries once (nothing listens on port 9), records
    await asyncio.sleep(0.2)
    await dispatcher.tick()
    metrics = (await inspections.get("/metrics")).text
    pending = [
        line for line in metrics.splitlines() if line.startswith("webhook_deliveries_pending ")
    ]
    age = [
        line
        for line in metrics.splitlines()
        if line.startswith("webhook_oldest_pending_event_age_seconds ")
    ]
    assert float(pending[0].split()[1]) >= 1
    assert float(age[0].split()[1]) > 0
    assert 'webhook_delivery_attempts_total{outcome="error"}' in metrics
    await inspections.patch(
        f"/v1/webhooks/{hook['id']}", json={"active": False}, headers=auth(w.admin)
    )
