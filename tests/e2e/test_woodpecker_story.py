"""The woodpecker story end to end, over real HTTP between the three running services.

A patrol inspects a farmers' market from the phone, fails two items and
reports two cases with photos. The market's unit rectifies one; the inspector
rejects it once, then verifies it. The other goes overdue, an extension is
requested and granted, and it is closed. A supervision note sent to the wrong
unit is returned and dispatched to the right one.
"""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx

from shared.models import Person
from tests.factories import PASSWORD, jpeg_bytes, make_world

SHANGHAI = ZoneInfo("Asia/Shanghai")


def end_of_nth_weekday_after(dispatched_at: str, n: int) -> datetime:
    """23:59:59 Shanghai time on the ``n``-th Monday–Friday after the dispatch day: the
    SPEC's N-workday deadline in a region with no calendar entries, counted by hand here
    rather than by the product's own rules."""
    day = datetime.fromisoformat(dispatched_at).astimezone(SHANGHAI).date()
    while n:
        day += timedelta(days=1)
        n -= day.weekday() < 5
    return datetime.combine(day, time(23, 59, 59), tzinfo=SHANGHAI)


async def login(registry: httpx.AsyncClient, person: Person) -> dict[str, str]:
    """Sign in through the registry like the phone does."""
    response = await registry.post(
        "/v1/auth/token", data={"username": person.username, "password": PASSWORD}
    )
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


async def put_photo(client: httpx.AsyncClient, headers: dict[str, str], seed: int) -> str:
    photo_id = str(uuid.uuid4())
    response = await client.put(
        f"/v1/photos/{photo_id}",
        content=jpeg_bytes(seed=seed),
        headers={**headers, "Content-Type": "image/jpeg"},
    )
    assert response.status_code == 201, response.text
    return photo_id


class Cases:
    """The cases API as one person sees it."""

    def __init__(self, client: httpx.AsyncClient, headers: dict[str, str]) -> None:
        self.client, self.headers = client, headers

    async def get(self, case_id: str) -> dict[str, Any]:
        response = await self.client.get(f"/v1/cases/{case_id}", headers=self.headers)
        assert response.status_code == 200, response.text
        assert response.headers["ETag"] == f'"{response.json()["version"]}"'
        return response.json()

    async def act(self, case_id: str, action: str, **fields: Any) -> dict[str, Any]:
        """Load the case, then act on the version seen (If-Match), as a careful client does."""
        current = await self.get(case_id)
        response = await self.client.post(
            f"/v1/cases/{case_id}/actions",
            json={"action": action, **fields},
            headers={**self.headers, "If-Match": f'"{current["version"]}"'},
        )
        assert response.status_code == 200, response.text
        return response.json()

    async def history(self, case_id: str) -> list[tuple[str, str | None, str]]:
        response = await self.client.get(f"/v1/cases/{case_id}/events", headers=self.headers)
        assert response.status_code == 200, response.text
        return [(e["action"], e["from"], e["to"]) for e in response.json()["items"]]


async def test_woodpecker_story(stack, db) -> None:
    w = await make_world(db)
    async with (
        httpx.AsyncClient(base_url=stack.url("registry"), timeout=10) as registry,
        httpx.AsyncClient(base_url=stack.url("inspections"), timeout=10) as inspections,
    ):
        patrol = await login(registry, w.inspector)
        market_staff = await login(registry, w.unit_user)
        other_staff = await login(registry, w.other_unit_user)
        admin = await login(registry, w.admin)
        as_patrol = Cases(inspections, patrol)
        as_market = Cases(inspections, market_staff)
        as_admin = Cases(inspections, admin)

        # --- the visit: two items fail, two cases with photos ---------------------------
        litter_photo = await put_photo(inspections, patrol, seed=101)
        screen_photo = await put_photo(inspections, patrol, seed=102)
        now = datetime.now(UTC)
        litter_id, screen_id = str(uuid.uuid4()), str(uuid.uuid4())
        visit = {
            "id": str(uuid.uuid4()),
            "sample_point_id": str(w.point.id),
            "checklist_version": 1,
            "source": "woodpecker",
            "started_at": (now - timedelta(minutes=25)).isoformat(),
            "finished_at": (now - timedelta(minutes=2)).isoformat(),
            "location": {"lat": w.point.lat, "lon": w.point.lon, "accuracy_m": 10},
            "results": [
                {"item_code": "M-01", "outcome": "pass", "grade": 10},
                {"item_code": "M-02", "outcome": "fail", "grade": 4, "note": "摊外经营"},
                {
                    "item_code": "M-03",
                    "outcome": "fail",
                    "grade": 3,
                    "note": "纱窗破损",
                    "photo_ids": [screen_photo],
                },
                {"item_code": "M-04", "outcome": "pass", "grade": 9},
            ],
            "cases": [
                {
                    "id": litter_id,
                    "item_code": "M-02",
                    "description": "东门外占道经营, 垃圾散落",
                    "severity": "normal",
                    "photo_ids": [litter_photo],
                },
                {
                    "id": screen_id,
                    "item_code": "M-03",
                    "description": "熟食区纱窗破损, 苍蝇密度高",
                    "severity": "urgent",
                    "photo_ids": [screen_photo],
                },
            ],
            "epidemic": {"health_code_checked": True, "temperature_checked": True},
        }
        response = await inspections.post("/v1/inspections", json=visit, headers=patrol)
        assert response.status_code == 201, response.text
        inspection = response.json()
        # 10 + 10×4/10 + 10×3/10 + 20×9/10 = 35 of 50 → 70 %, below the pass mark of 80.
        assert inspection["max_points"] == 50
        assert inspection["earned_points"] == 35
        assert inspection["score"] == 70
        assert inspection["passed"] is False
        assert inspection["off_site"] is False
        assert sorted(inspection["case_ids"]) == sorted([litter_id, screen_id])

        litter = await as_market.get(litter_id)
        screen = await as_market.get(screen_id)
        for case in (litter, screen):
            assert case["status"] == "assigned"
            assert case["unit_id"] == str(w.unit.id)
            assert case["inspection_id"] == visit["id"]
            assert case["sample_point_id"] == str(w.point.id)
            assert case["source"] == "woodpecker"
            assert case["overdue"] is False
        assert litter["item_code"] == "M-02" and litter["photo_ids"] == [litter_photo]
        # urgent: 24 wall-clock hours; normal: end of the 3rd working day after dispatch.
        dispatched = datetime.fromisoformat(screen["dispatched_at"])
        assert datetime.fromisoformat(screen["due_at"]) == dispatched + timedelta(hours=24)
        litter_due = datetime.fromisoformat(litter["due_at"])
        assert litter_due == end_of_nth_weekday_after(litter["dispatched_at"], 3)
        # The market's staff can see the patrol's evidence; another unit cannot.
        assert (
            await inspections.get(f"/v1/photos/{litter_photo}", headers=market_staff)
        ).status_code == 200
        assert (
            await inspections.get(f"/v1/photos/{litter_photo}", headers=other_staff)
        ).status_code == 404
        assert (
            await inspections.get(f"/v1/cases/{litter_id}", headers=other_staff)
        ).status_code == 404

        # --- case 1: rectified, rejected once, rectified again, verified ----------------
        after_1 = await put_photo(inspections, market_staff, seed=201)
        done = await as_market.act(litter_id, "rectify", note="已清理", photo_ids=[after_1])
        assert done["status"] == "rectified"
        assert (await inspections.get(f"/v1/photos/{after_1}", headers=patrol)).status_code == 200
        response = await inspections.post(
            f"/v1/cases/{litter_id}/actions",
            json={"action": "verify"},
            headers=market_staff,
        )
        assert response.status_code == 403  # a unit never signs off its own work
        rejected = await as_patrol.act(litter_id, "reject", note="复查仍有摊外经营")
        assert rejected["status"] == "assigned"
        assert rejected["rework_count"] == 1
        assert rejected["due_at"] == litter["due_at"]  # rework keeps the deadline
        after_2 = await put_photo(inspections, market_staff, seed=202)
        await as_market.act(litter_id, "rectify", note="已划线归市", photo_ids=[after_2])
        closed = await as_patrol.act(litter_id, "verify", note="复查合格", photo_ids=[])
        assert closed["status"] == "closed"
        assert closed["closed_on_time"] is True
        assert closed["rework_count"] == 1 and closed["extension_count"] == 0
        assert await as_admin.history(litter_id) == [
            ("report", None, "reported"),
            ("dispatch", "reported", "assigned"),
            ("rectify", "assigned", "rectified"),
            ("reject", "rectified", "assigned"),
            ("rectify", "assigned", "rectified"),
            ("verify", "rectified", "closed"),
        ]

        # --- case 2: overdue, extension requested and granted ---------------------------
        # A day and an hour later: the inspections process runs with its clock 25 hours
        # ahead (CW_CLOCK_OFFSET_SECONDS), so the urgent case's 24 hours have passed.
        await asyncio.to_thread(stack.restart, "inspections", CW_CLOCK_OFFSET_SECONDS="90000")
        try:
            assert (await as_market.get(screen_id))["overdue"] is True
            overdue = await inspections.get("/v1/cases", params={"overdue": "true"}, headers=admin)
            assert [c["id"] for c in overdue.json()["items"]] == [screen_id]

            wanted = (datetime.now(UTC) + timedelta(days=3)).replace(microsecond=0)
            asked = await as_market.act(
                screen_id,
                "request_extension",
                note="纱窗需定制, 三天到货",
                due_at=wanted.isoformat(),
            )
            assert asked["extension_requested"] is True and asked["overdue"] is True
            granted = await as_admin.act(
                screen_id, "extend", due_at=wanted.isoformat(), note="同意"
            )
            assert granted["extension_count"] == 1
            assert granted["extension_requested"] is False
            assert datetime.fromisoformat(granted["due_at"]) == wanted
            assert granted["overdue"] is False
            after_3 = await put_photo(inspections, market_staff, seed=203)
            await as_market.act(screen_id, "rectify", note="纱窗已更换", photo_ids=[after_3])
            closed = await as_patrol.act(screen_id, "verify")
            assert closed["closed_on_time"] is True  # on time against the extended deadline
            assert closed["extension_count"] == 1 and closed["rework_count"] == 0
            assert [a for a, _, _ in await as_admin.history(screen_id)] == [
                "report",
                "dispatch",
                "request_extension",
                "extend",
                "rectify",
                "verify",
            ]
        finally:
            await asyncio.to_thread(stack.restart, "inspections")

        # --- case 3: a supervision note sent to the wrong unit --------------------------
        note_id = str(uuid.uuid4())
        response = await inspections.post(
            "/v1/cases",
            json={
                "id": note_id,
                "source": "supervision",
                "description": "市场北侧道路破损积水",
                "severity": "complex",
                "address": "东街北段",
                "unit_id": str(w.unit.id),
            },
            headers=admin,
        )
        assert response.status_code == 201, response.text
        assert response.json()["status"] == "assigned"
        returned = await as_market.act(note_id, "return", note="道路属城管执法局")
        assert returned["status"] == "returned" and returned["return_count"] == 1
        redispatched = await as_admin.act(note_id, "dispatch", unit_id=str(w.other_unit.id))
        assert redispatched["status"] == "assigned"
        assert redispatched["unit_id"] == str(w.other_unit.id)
        assert datetime.fromisoformat(redispatched["due_at"]) == end_of_nth_weekday_after(
            redispatched["dispatched_at"], 7
        )
        assert (
            await inspections.get(f"/v1/cases/{note_id}", headers=market_staff)
        ).status_code == 404
        assert (await Cases(inspections, other_staff).get(note_id))["status"] == "assigned"
        assert await as_admin.history(note_id) == [
            ("report", None, "reported"),
            ("dispatch", "reported", "assigned"),
            ("return", "assigned", "returned"),
            ("dispatch", "returned", "assigned"),
        ]

        # --- what each side sees at the end ---------------------------------------------
        mine = await inspections.get("/v1/cases", headers=market_staff)
        assert {c["id"] for c in mine.json()["items"]} == {litter_id, screen_id}
        theirs = await inspections.get("/v1/cases", headers=other_staff)
        assert [c["id"] for c in theirs.json()["items"]] == [note_id]
        closed_list = await inspections.get("/v1/cases", params={"status": "closed"}, headers=admin)
        assert {c["id"] for c in closed_list.json()["items"]} == {litter_id, screen_id}
