"""Webhooks against a real HTTP receiver: signatures, retries, order, unit scope, two dispatchers,
and the outbox's promise that an event exists if and only if its change committed."""

from __future__ import annotations

import asyncio
import collections
import os
import sys
import uuid
from datetime import datetime, timedelta

import pytest
from sqlalchemy import text
from standardwebhooks.webhooks import Webhook as StandardWebhook

from shared.embedded_db import REPO_ROOT
from tests.factories import World, auth, inspection_body, make_world, report_case, upload_photo
from tests.faults import fault_at_commit
from tests.inspections.notifications_helpers import (
    act,
    dispatcher_for,
    events_of_subject,
    make_webhook,
    ok,
    run_until,
)
from tests.receiver import Receiver


@pytest.fixture
async def w(db) -> World:
    world = await make_world(db)
    yield world
    # Later tests' dispatchers leave this test's receivers alone.
    await db.execute(
        text("UPDATE webhooks SET active = false WHERE region_id = :r"), {"r": world.region.id}
    )
    await db.commit()


@pytest.fixture
async def receiver():
    receiver = await Receiver().start()
    yield receiver
    await receiver.stop()


async def deliveries(client, admin, webhook) -> list[dict]:
    response = await client.get(f"/v1/webhooks/{webhook['id']}/deliveries", headers=auth(admin))
    assert response.status_code == 200, response.text
    return response.json()["items"]


async def test_a_signed_case_assigned_arrives_and_verifies_with_the_librarys_verifier(
    inspections, inspections_app, w: World, receiver: Receiver
) -> None:
    webhook = await make_webhook(inspections, w.admin, receiver.url, event_types=["case.assigned"])
    assert webhook["secret"].startswith("whsec_")
    case = await report_case(inspections, w.inspector, sample_point_id=str(w.point.id))

    await run_until(dispatcher_for(inspections_app), lambda: len(receiver.received) >= 1)

    [request] = receiver.received
    payload = StandardWebhook(webhook["secret"]).verify(request.body, request.headers)
    assert payload["type"] == "case.assigned"
    assert payload["data"]["case_id"] == case["id"]
    assert payload["data"]["unit_id"] == str(w.unit.id)
    assert payload["data"]["due_at"] is not None
    assert request.headers["webhook-id"] == payload["id"]
    # A body altered on the way no longer verifies.
    with pytest.raises(Exception, match="signature"):
        StandardWebhook(webhook["secret"]).verify(request.body + b" ", request.headers)
    # The secret was shown once; it is never read back.
    again = await inspections.get(f"/v1/webhooks/{webhook['id']}", headers=auth(w.admin))
    assert again.status_code == 200
    assert "secret" not in again.json() and again.json()["has_secret"] is True


async def test_a_receiver_that_fails_three_times_then_recovers_gets_the_event(
    inspections, inspections_app, w: World, receiver: Receiver
) -> None:
    webhook = await make_webhook(inspections, w.admin, receiver.url, event_types=["case.assigned"])
    receiver.fail_next = 3
    await report_case(inspections, w.inspector, sample_point_id=str(w.point.id))

    dispatcher = dispatcher_for(inspections_app)
    await run_until(dispatcher, lambda: len(receiver.received) >= 4)

    ids = {r.headers["webhook-id"] for r in receiver.received}
    assert len(receiver.received) == 4 and len(ids) == 1  # the same message, four times
    [delivery] = await deliveries(inspections, w.admin, webhook)
    assert delivery["status"] == "succeeded"
    assert delivery["attempts"] == 4
    log = delivery["attempt_log"]
    assert [a["status_code"] for a in log] == [500, 500, 500, 200]
    assert [a["number"] for a in log] == [1, 2, 3, 4]
    at = [datetime.fromisoformat(a["at"]) for a in log]
    gaps = [(b - a).total_seconds() for a, b in zip(at, at[1:], strict=False)]
    # 0.2 s doubling with jitter in [0.5, 1]: the third gap (≥ 0.4 s) is past the first (≤ 0.2 s).
    assert gaps[2] > gaps[0]

    # Redelivered on request: the same message again, a fifth attempt.
    again = await inspections.post(
        f"/v1/deliveries/{delivery['id']}/redeliver", headers=auth(w.admin)
    )
    assert again.status_code == 202 and again.json()["status"] == "pending"
    await run_until(dispatcher, lambda: len(receiver.received) >= 5)
    assert receiver.received[-1].headers["webhook-id"] == receiver.received[0].headers["webhook-id"]
    [delivery] = await deliveries(inspections, w.admin, webhook)
    assert delivery["status"] == "succeeded" and delivery["attempts"] == 5


async def test_a_delivery_is_given_up_as_failed_once_its_retry_window_has_passed(
    inspections, inspections_app, w: World, receiver: Receiver
) -> None:
    webhook = await make_webhook(inspections, w.admin, receiver.url, event_types=["case.assigned"])
    receiver.status = 503
    await report_case(inspections, w.inspector, sample_point_id=str(w.point.id))
    dispatcher = dispatcher_for(inspections_app, notifications_retry_for_seconds=1.0)
    failed: list[dict] = []

    async def check() -> None:
        failed[:] = [
            d for d in await deliveries(inspections, w.admin, webhook) if d["status"] == "failed"
        ]

    deadline = asyncio.get_running_loop().time() + 20
    while not failed:
        assert asyncio.get_running_loop().time() < deadline
        await dispatcher.tick()
        await asyncio.sleep(0.1)
        await check()
    sent = len(receiver.received)
    assert sent >= 2 and failed[0]["attempts"] == sent
    assert failed[0]["last_status_code"] == 503
    for _ in range(5):  # a failed delivery is not tried again by itself
        await dispatcher.tick()
        await asyncio.sleep(0.1)
    assert len(receiver.received) == sent


async def test_a_hanging_receiver_is_cut_off_and_a_redirect_is_not_followed(
    inspections, inspections_app, w: World, receiver: Receiver
) -> None:
    elsewhere = await Receiver().start()
    try:
        webhook = await make_webhook(
            inspections, w.admin, receiver.url, event_types=["case.assigned"]
        )
        receiver.delay = 5  # answers far too late
        await report_case(inspections, w.inspector, sample_point_id=str(w.point.id))
        dispatcher = dispatcher_for(
            inspections_app,
            notifications_http_timeout_seconds=0.5,
            notifications_retry_first_seconds=60,
        )
        started = asyncio.get_running_loop().time()
        await run_until(dispatcher, lambda: len(receiver.received) >= 1)
        await dispatcher.tick()
        assert asyncio.get_running_loop().time() - started < 5
        [delivery] = await deliveries(inspections, w.admin, webhook)
        assert delivery["status"] == "pending"
        assert delivery["attempt_log"][0]["error"] == "no answer within 0.5 s"
        assert delivery["attempt_log"][0]["duration_ms"] < 2000

        receiver.delay = 0
        receiver.status = 307
        receiver.extra_headers = [(b"location", elsewhere.url.encode())]
        again = await inspections.post(
            f"/v1/deliveries/{delivery['id']}/redeliver", headers=auth(w.admin)
        )
        assert again.status_code == 202
        await run_until(dispatcher, lambda: len(receiver.received) >= 2)
        await dispatcher.tick()
        [delivery] = await deliveries(inspections, w.admin, webhook)
        assert delivery["attempt_log"][-1]["status_code"] == 307
        assert delivery["status"] == "pending"
        assert elsewhere.received == []
    finally:
        await elsewhere.stop()


async def test_a_receiver_down_during_five_case_actions_gets_every_event_in_order_once(
    inspections, inspections_app, db, w: World, receiver: Receiver
) -> None:
    await make_webhook(inspections, w.admin, receiver.url)
    await receiver.stop()  # down from here on
    dispatcher = dispatcher_for(inspections_app)

    case = await report_case(inspections, w.inspector, sample_point_id=str(w.point.id))
    due = datetime.fromisoformat(case["due_at"])
    case = await ok(act(inspections, w.unit_user, case, "request_extension", note="需要三天"))
    case = await ok(
        act(inspections, w.admin, case, "extend", due_at=(due + timedelta(days=3)).isoformat())
    )
    photo = await upload_photo(inspections, w.unit_user)
    case = await ok(
        act(inspections, w.unit_user, case, "rectify", note="已清理", photo_ids=[str(photo)])
    )
    case = await ok(act(inspections, w.inspector, case, "reject", note="仍有积水"))
    photo = await upload_photo(inspections, w.unit_user)
    case = await ok(
        act(inspections, w.unit_user, case, "rectify", note="已排水", photo_ids=[str(photo)])
    )
    for _ in range(5):  # the dispatcher keeps trying while the receiver is down
        await dispatcher.tick()
        await asyncio.sleep(0.1)
    assert receiver.received == []

    await receiver.start()  # back, on the same port
    expected = await events_of_subject(db, case["id"])
    assert [e["type"] for e in expected] == [
        "case.reported",
        "case.assigned",
        "case.extension_requested",
        "case.extended",
        "case.rectified",
        "case.rejected",
        "case.rectified",
    ]
    await run_until(dispatcher, lambda: len(receiver.received) >= len(expected))
    await asyncio.sleep(0.3)
    await dispatcher.tick()
    got = [r.headers["webhook-id"] for r in receiver.received]
    assert got == [str(e["id"]) for e in expected]  # every one, once, in order


async def test_a_unit_filtered_webhook_never_sees_another_units_case(
    inspections, inspections_app, w: World, receiver: Receiver
) -> None:
    everything = await Receiver().start()
    try:
        await make_webhook(inspections, w.admin, receiver.url, unit_id=str(w.other_unit.id))
        await make_webhook(inspections, w.admin, everything.url)
        ours = await report_case(inspections, w.inspector, sample_point_id=str(w.point.id))
        theirs = await report_case(inspections, w.inspector, unit_id=str(w.other_unit.id))
        assert ours["unit_id"] == str(w.unit.id) and theirs["unit_id"] == str(w.other_unit.id)

        def case_ids(r: Receiver) -> set[str]:
            # (the unit's daily digest may come too; it is about the unit, not a case)
            return {
                m.json()["data"]["case_id"]
                for m in r.received
                if m.json()["type"].startswith("case.")
            }

        await run_until(
            dispatcher_for(inspections_app),
            lambda: (
                case_ids(everything) == {ours["id"], theirs["id"]}
                and theirs["id"] in case_ids(receiver)
            ),
        )
        assert case_ids(receiver) == {theirs["id"]}
        assert {m.json()["data"]["unit_id"] for m in receiver.of_type("case.assigned")} == {
            str(w.other_unit.id)
        }
    finally:
        await everything.stop()


async def test_two_dispatcher_processes_never_deliver_one_attempt_twice(
    inspections, db, w: World, receiver: Receiver, database_url
) -> None:
    receiver.delay = 0.02  # each answer takes a little while, so the two overlap
    webhook = await make_webhook(
        inspections, w.admin, receiver.url, event_types=["case.reported", "case.assigned"]
    )
    cases = [
        await report_case(inspections, w.inspector, sample_point_id=str(w.point.id))
        for _ in range(15)
    ]
    expected = 2 * len(cases)  # reported + assigned each
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "CW_ENV": "test",
        "INSPECTIONS_NOTIFICATIONS_POLL_SECONDS": "0.02",
        "INSPECTIONS_NOTIFICATIONS_BATCH_SIZE": "4",
    }
    workers = [
        await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "inspections.notifications.worker",
            "--run-for",
            "60",
            env=env,
            cwd=REPO_ROOT,
        )
        for _ in range(2)
    ]
    try:
        for _ in range(600):  # a minute at most
            if len(receiver.received) >= expected:
                break
            await asyncio.sleep(0.1)
        await asyncio.sleep(1.0)  # anything sent twice would arrive by now
    finally:
        for worker in workers:
            worker.terminate()
            await worker.wait()
    counts = collections.Counter(r.headers["webhook-id"] for r in receiver.received)
    assert len(counts) == expected
    assert set(counts.values()) == {1}
    attempts = await db.scalar(
        text("SELECT array_agg(DISTINCT attempts) FROM webhook_deliveries WHERE webhook_id = :w"),
        {"w": uuid.UUID(webhook["id"])},
    )
    assert attempts == [1]


async def test_an_event_exists_if_and_only_if_its_change_committed(
    inspections, engine, db, w: World
) -> None:
    body = {
        "id": str(uuid.uuid4()),
        "source": "expert",
        "description": "垃圾桶无盖",
        "severity": "normal",
        "sample_point_id": str(w.point.id),
    }
    # A case whose commit fails leaves no event behind.
    async with fault_at_commit(engine, table="cases", region_id=w.region.id, kind="conflict"):
        failed = await inspections.post("/v1/cases", json=body, headers=auth(w.inspector))
    assert failed.status_code == 409, failed.text
    assert await events_of_subject(db, body["id"]) == []
    created = await inspections.post("/v1/cases", json=body, headers=auth(w.inspector))
    assert created.status_code == 201
    case = created.json()
    assert [e["type"] for e in await events_of_subject(db, case["id"])] == [
        "case.reported",
        "case.assigned",
    ]

    # An action whose backend dies at COMMIT leaves no event; the retried one leaves one.
    photo = await upload_photo(inspections, w.unit_user)
    async with fault_at_commit(engine, table="case_events", region_id=w.region.id, kind="die"):
        lost = await act(
            inspections, w.unit_user, case, "rectify", note="已清理", photo_ids=[str(photo)]
        )
    assert lost.status_code == 503, lost.text
    assert [e["type"] for e in await events_of_subject(db, case["id"])] == [
        "case.reported",
        "case.assigned",
    ]
    await ok(act(inspections, w.unit_user, case, "rectify", note="已清理", photo_ids=[str(photo)]))
    assert [e["type"] for e in await events_of_subject(db, case["id"])][-1] == "case.rectified"

    # The ingest hot path (one raw SQL statement) too.
    case_id = str(uuid.uuid4())
    item = w.checklist.items[0]["code"]
    inspection = inspection_body(
        w,
        cases=[{"id": case_id, "item_code": item, "description": "摊外经营", "severity": "normal"}],
    )
    async with fault_at_commit(engine, table="inspections", region_id=w.region.id, kind="conflict"):
        failed = await inspections.post(
            "/v1/inspections", json=inspection, headers=auth(w.inspector)
        )
    assert failed.status_code == 409, failed.text
    assert await events_of_subject(db, case_id) == []
    stored = await inspections.post("/v1/inspections", json=inspection, headers=auth(w.inspector))
    assert stored.status_code == 201, stored.text
    events = await events_of_subject(db, case_id)
    assert [e["type"] for e in events] == ["case.reported", "case.assigned"]
    # Stable ids: the outbox event is the case event, under the same id.
    listed = await inspections.get(f"/v1/cases/{case_id}/events", headers=auth(w.admin))
    assert [e["id"] for e in listed.json()["items"]] == [str(e["id"]) for e in events]


async def test_an_inspection_far_from_its_point_raises_inspection_flagged_once(
    inspections, db, w: World
) -> None:
    far = {"lat": w.point.lat + 0.01, "lon": w.point.lon, "accuracy_m": 5}
    body = inspection_body(w, location=far)
    stored = await inspections.post("/v1/inspections", json=body, headers=auth(w.inspector))
    assert stored.status_code == 201 and stored.json()["off_site"] is True
    again = await inspections.post("/v1/inspections", json=body, headers=auth(w.inspector))
    assert again.status_code == 200
    [event] = await events_of_subject(db, body["id"])
    assert event["type"] == "inspection.flagged"
    assert event["data"]["off_site"] is True
    near = inspection_body(w)
    assert (
        await inspections.post("/v1/inspections", json=near, headers=auth(w.inspector))
    ).status_code == 201
    assert await events_of_subject(db, near["id"]) == []


async def test_a_dingtalk_robot_gets_markdown_signed_the_dingtalk_way(
    inspections, inspections_app, w: World, receiver: Receiver
) -> None:
    import base64
    import hashlib
    import hmac
    from urllib.parse import parse_qs, urlsplit

    receiver.answer = {"errcode": 0, "errmsg": "ok"}
    secret = "SEC" + uuid.uuid4().hex
    await make_webhook(
        inspections,
        w.admin,
        receiver.url + "?access_token=abc",
        kind="dingtalk",
        secret=secret,
        event_types=["case.assigned"],
    )
    case = await report_case(inspections, w.inspector, sample_point_id=str(w.point.id))
    await run_until(dispatcher_for(inspections_app), lambda: len(receiver.received) >= 1)
    [request] = receiver.received
    message = request.json()
    assert message["msgtype"] == "markdown"
    assert case["id"] in message["markdown"]["text"]
    query = parse_qs(urlsplit(request.path).query)
    assert query["access_token"] == ["abc"]
    timestamp = query["timestamp"][0]
    expected = base64.b64encode(
        hmac.new(secret.encode(), f"{timestamp}\n{secret}".encode(), hashlib.sha256).digest()
    ).decode()
    assert query["sign"] == [expected]


async def test_a_robot_that_answers_an_error_code_is_retried(
    inspections, inspections_app, w: World, receiver: Receiver
) -> None:
    receiver.answer = {"errcode": 93000, "errmsg": "invalid webhook url"}
    webhook = await make_webhook(
        inspections, w.admin, receiver.url, kind="wecom", event_types=["case.assigned"]
    )
    await report_case(inspections, w.inspector, sample_point_id=str(w.point.id))
    await run_until(dispatcher_for(inspections_app), lambda: len(receiver.received) >= 2)
    [delivery] = await deliveries(inspections, w.admin, webhook)
    assert delivery["status"] == "pending"
    assert "93000" in delivery["last_error"]
    assert receiver.received[0].json()["msgtype"] == "markdown"


async def test_a_pending_inspection_writes_its_events_when_it_is_finished_not_before(
    inspections, inspections_app, db, w: World
) -> None:
    from inspections.ingest.pending import retry_pending
    from tests.inspections.test_pending import registry_unreachable

    case_id = str(uuid.uuid4())
    far = {"lat": w.point.lat + 0.01, "lon": w.point.lon, "accuracy_m": 5}
    item = w.checklist.items[0]["code"]
    body = inspection_body(
        w,
        location=far,
        cases=[{"id": case_id, "item_code": item, "description": "摊外经营", "severity": "urgent"}],
    )
    async with registry_unreachable(inspections_app):
        pending = await inspections.post("/v1/inspections", json=body, headers=auth(w.inspector))
        assert pending.status_code == 202, pending.text
    assert await events_of_subject(db, case_id) == []
    assert await events_of_subject(db, body["id"]) == []

    await retry_pending(inspections_app, limit=50)

    assert [e["type"] for e in await events_of_subject(db, case_id)] == [
        "case.reported",
        "case.assigned",
    ]
    assert [e["type"] for e in await events_of_subject(db, body["id"])] == ["inspection.flagged"]
