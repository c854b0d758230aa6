"""The audit trail: every change with its author and its fields before → after, committed
with the change or not at all."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from shared.audit import Actor, actor_var
from shared.models import AuditEvent, SamplePoint
from tests.factories import World, auth, make_world


@pytest.fixture
async def w(db) -> World:
    return await make_world(db)


async def test_a_sample_point_edit_is_audited_with_its_author_and_values(registry, w: World, db):
    response = await registry.patch(
        f"/v1/sample-points/{w.point.id}",
        json={"name": "东街农贸市场(新)", "status": "retired"},
        headers={**auth(w.admin), "If-Match": f'"{w.point.version}"'},
    )
    assert response.status_code == 200, response.text

    trail = await registry.get(
        "/v1/audit",
        params={"record_type": "sample_points", "record_id": str(w.point.id)},
        headers=auth(w.leader),
    )
    assert trail.status_code == 200, trail.text
    [event] = trail.json()["items"]
    assert event["action"] == "update" and event["service"] == "registry"
    assert event["actor_id"] == str(w.admin.id) and event["actor_role"] == "admin"
    assert event["changes"] == {
        "name": {"before": "东街农贸市场", "after": "东街农贸市场(新)"},
        "status": {"before": "active", "after": "retired"},
    }
    await db.refresh(w.point)
    assert w.point.updated_by == w.admin.id

    by_author = await registry.get(
        "/v1/audit", params={"actor_id": str(w.inspector.id)}, headers=auth(w.admin)
    )
    assert by_author.json()["items"] == []
    denied = await registry.get("/v1/audit", headers=auth(w.inspector))
    assert denied.status_code == 403


async def test_a_score_weights_change_is_in_the_reporting_audit(reporting, w: World):
    weights = {"closure": 40, "on_time": 30, "rework": 20, "volume": 10, "min_cases": 2}
    first = await reporting.put("/v1/reports/score-weights", json=weights, headers=auth(w.admin))
    assert first.status_code == 200, first.text
    second = await reporting.put(
        "/v1/reports/score-weights", json={**weights, "closure": 50}, headers=auth(w.admin)
    )
    assert second.status_code == 200, second.text

    trail = await reporting.get("/v1/reports/audit", headers=auth(w.admin))
    assert trail.status_code == 200, trail.text
    events = trail.json()["items"]
    assert [e["actor_id"] for e in events] == [str(w.admin.id)] * len(events)
    last = events[-1]
    assert last["record_type"] == "report_settings" and last["service"] == "reporting"
    before = last["changes"]["score_weights"]["before"]
    after = last["changes"]["score_weights"]["after"]
    assert (before["closure"], after["closure"]) == (40, 50)
    assert "min_cases" not in last["changes"]  # unchanged fields are not listed
    registry_side = await reporting.get(
        "/v1/reports/audit", params={"record_type": "sample_points"}, headers=auth(w.admin)
    )
    assert registry_side.status_code == 422


async def test_a_rolled_back_edit_leaves_no_audit_event(w: World, db):
    point_id = str(w.point.id)
    token = actor_var.set(Actor(w.admin.id, "admin", "registry"))
    try:
        point = await db.get(SamplePoint, (w.region.id, w.point.id))
        point.name = "never saved"
        await db.flush()  # the event is written with the change…
        pending = await db.scalar(select(func.count()).where(AuditEvent.record_id == point_id))
        assert pending == 1
        await db.rollback()  # …and goes with it
    finally:
        actor_var.reset(token)
    kept = await db.scalar(select(func.count()).where(AuditEvent.record_id == point_id))
    assert kept == 0


async def test_a_password_change_is_audited_without_the_hash(registry, w: World):
    response = await registry.post(
        f"/v1/people/{w.inspector.id}/password",
        json={"password": "another-long-password"},
        headers=auth(w.admin),
    )
    assert response.status_code == 204
    trail = await registry.get(
        "/v1/audit", params={"record_id": str(w.inspector.id)}, headers=auth(w.admin)
    )
    [event] = trail.json()["items"]
    assert event["changes"]["password_hash"] == {"before": "(hidden)", "after": "(hidden)"}
    assert event["changes"]["token_version"] == {"before": 1, "after": 2}


async def test_statement_writes_are_audited_too(registry, w: World):
    """Calendar days and deadline policies are written by upserts the flush hook cannot
    see; they record their own events."""
    admin = auth(w.admin)
    put = await registry.put(
        "/v1/calendar/2026-10-01", json={"kind": "holiday", "name": "国庆节"}, headers=admin
    )
    assert put.status_code == 200, put.text
    again = await registry.put(
        "/v1/calendar/2026-10-01", json={"kind": "holiday", "name": "国庆"}, headers=admin
    )
    assert again.status_code == 200
    assert (await registry.delete("/v1/calendar/2026-10-01", headers=admin)).status_code == 204
    policy = await registry.put(
        "/v1/deadline-policies/urgent", json={"amount": 12, "unit": "hours"}, headers=admin
    )
    assert policy.status_code == 200, policy.text

    days = await registry.get("/v1/audit", params={"record_type": "calendar_days"}, headers=admin)
    assert [(e["action"], e["changes"]) for e in days.json()["items"]] == [
        ("create", {"kind": {"before": None, "after": "holiday"}, "name": {"before": None, "after": "国庆节"}}),
        ("update", {"name": {"before": "国庆节", "after": "国庆"}}),
        ("delete", {"kind": {"before": "holiday", "after": None}, "name": {"before": "国庆", "after": None}}),
    ]  # fmt: skip
    [event] = (
        await registry.get("/v1/audit", params={"record_type": "deadline_policies"}, headers=admin)
    ).json()["items"]
    assert event["record_id"] == "urgent" and event["actor_id"] == str(w.admin.id)
