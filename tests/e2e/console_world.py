"""A demo-like district for the console's browser tests, built the way a real one is.

The demo district (172 points, 22 units, the demo accounts) is loaded by the
registry's own loader under a fresh region code and username prefix; its history
is then made through the public APIs of the running services: the expert group's
cases at the market company's points, rectified with a photo and verified, open
cases at the city administration's points, and one case still waiting to be
dispatched. The accountability rules judge only a month that has ended, so the
console's tests read reports from a reporting process whose clock stands in the
month after the one the cases fall due in (``month_after``).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import httpx

from registry.demo.loader import load_demo_region
from shared.db import create_engine, create_sessionmaker
from tests.factories import jpeg_bytes

PASSWORD = "demo-password"
ZONE = ZoneInfo("Asia/Shanghai")  # the demo district's time zone


@dataclass
class ConsoleWorld:
    prefix: str
    registry: str
    inspections: str
    tokens: dict[str, str] = field(default_factory=dict)
    units: dict[str, dict] = field(default_factory=dict)  # "market" / "cityadmin" → unit
    point_count: int = 0
    closed_case_ids: list[str] = field(default_factory=list)
    open_case_ids: list[str] = field(default_factory=list)  # at the city administration's points
    reported_case_id: str = ""
    reported_at: list[datetime] = field(default_factory=list)  # of every case made
    latest_due_at: datetime | None = None  # of the closed cases: reports past it grade them

    @property
    def due_month(self) -> str:
        """The month (region time) in which the world's cases fall due: "YYYY-MM"."""
        return self.latest_due_at.astimezone(ZONE).strftime("%Y-%m")

    @property
    def month_after(self) -> datetime:
        """Noon on the first day after ``due_month``: that month has ended, and is judged."""
        local = self.latest_due_at.astimezone(ZONE)
        first = (local.replace(day=1) + timedelta(days=32)).replace(day=1)
        return first.replace(hour=12, minute=0, second=0, microsecond=0)

    def reported_in(self, month: str) -> int:
        """How many of the world's cases were reported in ``month`` (region time)."""
        return sum(at.astimezone(ZONE).strftime("%Y-%m") == month for at in self.reported_at)

    def username(self, who: str) -> str:
        return f"{self.prefix}-{who}"

    def headers(self, who: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[who]}"}

    async def case(self, case_id: str, who: str = "admin") -> dict:
        """The case as the API tells it now."""
        async with httpx.AsyncClient(base_url=self.inspections) as client:
            return _ok(await client.get(f"/v1/cases/{case_id}", headers=self.headers(who)))


async def _load_demo(database_url: str, code: str, prefix: str) -> None:
    engine = create_engine(database_url, application_name="chuangwei.tests.console")
    try:
        async with create_sessionmaker(engine)() as session, session.begin():
            await load_demo_region(session, code=code, username_prefix=prefix)
    finally:
        await engine.dispose()


def _ok(response: httpx.Response, *codes: int) -> dict:
    assert response.status_code in (codes or (200, 201)), response.text
    return response.json()


async def build_world(database_url: str, registry: str, inspections: str) -> ConsoleWorld:
    suffix = uuid.uuid4().hex[:8]
    prefix = f"cw{suffix}"
    await _load_demo(database_url, f"gf-{suffix}", prefix)
    w = ConsoleWorld(prefix=prefix, registry=registry, inspections=inspections)
    async with (
        httpx.AsyncClient(base_url=registry) as reg,
        httpx.AsyncClient(base_url=inspections) as insp,
    ):
        for who in ("admin", "leader", "inspector", "unit-market", "unit-cityadmin"):
            token = await reg.post(
                "/v1/auth/token", data={"username": w.username(who), "password": PASSWORD}
            )
            w.tokens[who] = _ok(token)["access_token"]
        for who in ("market", "cityadmin"):
            me = _ok(await reg.get("/v1/people/me", headers=w.headers(f"unit-{who}")))
            unit = await reg.get(f"/v1/units/{me['unit_id']}", headers=w.headers("admin"))
            w.units[who] = _ok(unit)
        points = _ok(await reg.get("/v1/sample-points?limit=500", headers=w.headers("admin")))
        w.point_count = len(points["items"])

        def points_of(unit: str) -> list[dict]:
            return [p for p in points["items"] if p["unit_id"] == w.units[unit]["id"]]

        async def expert_case(point: dict | None, description: str, **extra) -> dict:
            body = {
                "id": str(uuid.uuid4()),
                "source": "expert",
                "description": description,
                "severity": "normal",
                **extra,
            }
            if point is not None:
                body |= {
                    "sample_point_id": point["id"],
                    "location": {"lat": point["lat"], "lon": point["lon"]},
                }
            case = _ok(await insp.post("/v1/cases", json=body, headers=w.headers("admin")), 201)
            w.reported_at.append(datetime.fromisoformat(case["reported_at"]))
            return case

        async def act(case: dict, who: str, action: str, **fields) -> dict:
            headers = {**w.headers(who), "If-Match": f'"{case["version"]}"'}
            answer = await insp.post(
                f"/v1/cases/{case['id']}/actions",
                json={"action": action, **fields},
                headers=headers,
            )
            return _ok(answer)

        for n, point in enumerate(points_of("market")[:5]):
            case = await expert_case(point, f"市场 {point['name']} 垃圾桶未加盖 #{n}")
            photo = str(uuid.uuid4())
            upload = await insp.put(
                f"/v1/photos/{photo}",
                content=jpeg_bytes(seed=n + 1),
                headers=w.headers("unit-market"),
            )
            _ok(upload, 201)
            case = await act(case, "unit-market", "rectify", note="已加盖", photo_ids=[photo])
            case = await act(case, "inspector", "verify", note="复查通过")
            w.closed_case_ids.append(case["id"])
            due = datetime.fromisoformat(case["due_at"])
            w.latest_due_at = max(w.latest_due_at or due, due)
        for n, point in enumerate(points_of("cityadmin")[:5]):
            opened = await expert_case(point, f"背街小巷 {point['name']} 乱堆放 #{n}")
            w.open_case_ids.append(opened["id"])
        first = points_of("cityadmin")[0]
        reported = await expert_case(
            None,
            "暗访发现：无主垃圾堆放，待派遣",
            location={"lat": first["lat"] + 0.001, "lon": first["lon"] + 0.001},
        )
        w.reported_case_id = reported["id"]
    return w
