"""Notifications (issue 9): events from commit to the receiver's 200, at a steady ingest load.

`uv run python bench/notifications.py`:

1. the ingest bench's world (a fresh database, one region, 1,000 sample points in 20
   units, a 10-item checklist), the real registry and inspections processes, and one
   dispatcher process (``python -m inspections.notifications.worker``, the same code
   the service runs in its lifespan, at its defaults: polling every 0.25 s when idle,
   16 sends at a time) — apart, so that it can be stopped while a backlog builds up;
2. a receiver in this process (uvicorn on 127.0.0.1) that checks every signature with
   the ``standardwebhooks`` verifier and notes when each event arrived, and one
   ``json`` webhook for every event type;
3. (s) **steady load**: ``BENCH_RATE`` inspections a second (default 10, each with 2
   cases, so 4 events: reported + assigned twice) for ``BENCH_SECONDS`` (20), sent
   open-loop; lag = arrival at the receiver − the moment the inspection's 201 came
   back (its commit is before that, so the true lag is a little longer). Events per
   second is what reached the receiver over the load's span;
4. (d) **draining a backlog**: the dispatcher stopped while ``BENCH_BACKLOG``
   inspections (default 250 → 1,000 events) are stored, then started again: events
   per second from the first arrival to the last (its start-up is left out). (d₀) the baseline: a bare sender doing the same
   work minus the delivery bookkeeping — read the same events from the outbox, sign
   them with the same library, POST them 16 at a time with the same client settings to
   the same receiver — no claims, leases, attempt records or order checks.
   Ratio d/d₀.
5. prints a markdown table and writes ``bench/results/notifications.json``.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import socket
import sys
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

BENCH_DIR = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH_DIR))

import httpx  # noqa: E402
import uvicorn  # noqa: E402
from common import (  # noqa: E402
    ServerProcess,
    asyncpg_connect,
    fresh_database,
    percentile,
    write_results,
)
from inspections_ingest import JWT_SECRET, SERVICE_TOKEN, make_body, seed  # noqa: E402
from standardwebhooks.webhooks import Webhook as StandardWebhook  # noqa: E402
from starlette.requests import Request  # noqa: E402

from inspections.notifications.sender import build_request, http_client  # noqa: E402
from shared.auth import issue_token  # noqa: E402

RATE = float(os.environ.get("BENCH_RATE", "10"))
SECONDS = float(os.environ.get("BENCH_SECONDS", "20"))
BACKLOG = int(os.environ.get("BENCH_BACKLOG", "250"))
CONCURRENCY = 16


class Receiver:
    """Verifies each request with the library's verifier; notes arrival per webhook-id."""

    def __init__(self) -> None:
        self.secret: str | None = None
        self.arrivals: dict[str, float] = {}
        self.cases: dict[str, str] = {}
        self.duplicates = 0
        self.bad_signatures = 0

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            return
        request = Request(scope, receive)
        body = await request.body()
        arrived = time.time()
        headers = dict(request.headers)
        try:
            payload = StandardWebhook(self.secret).verify(body, headers)
        except Exception:
            self.bad_signatures += 1
            payload = None
        if payload is not None:
            if payload["id"] in self.arrivals:
                self.duplicates += 1
            else:
                self.arrivals[payload["id"]] = arrived
                self.cases[payload["id"]] = payload["data"].get("case_id", "")
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"{}"})


async def start_receiver(receiver: Receiver) -> tuple[uvicorn.Server, int, asyncio.Task]:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    config = uvicorn.Config(receiver, log_level="warning", lifespan="off", access_log=False)
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve(sockets=[sock]))
    for _ in range(500):
        if server.started:
            break
        await asyncio.sleep(0.01)
    return server, sock.getsockname()[1], task


async def start_dispatcher(env: dict[str, str]) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "inspections.notifications.worker",
        env={**os.environ, **env},
        cwd=BENCH_DIR.parent,
    )


async def stop(process: asyncio.subprocess.Process) -> None:
    process.terminate()
    await process.wait()


async def ingest(
    client: httpx.AsyncClient, token: str, points: list, count: int, rate: float | None
) -> dict[str, float]:
    """POST ``count`` inspections (``rate`` a second, or as fast as 16 clients go);
    returns case id → when its inspection's 201 came back."""
    rng = random.Random(9)
    answered: dict[str, float] = {}
    slots = asyncio.Semaphore(CONCURRENCY)

    async def one(body: dict[str, Any]) -> None:
        async with slots:
            response = await client.post(
                "/v1/inspections", json=body, headers={"Authorization": f"Bearer {token}"}
            )
        assert response.status_code == 201, response.text
        now = time.time()
        for case in body["cases"]:
            answered[case["id"]] = now

    started = time.monotonic()
    tasks = []
    for i in range(count):
        if rate:
            delay = started + i / rate - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(one(make_body(rng, points, datetime.now(UTC)))))
    await asyncio.gather(*tasks)
    return answered


async def wait_for(receiver: Receiver, expected: int, within: float = 120.0) -> None:
    deadline = time.monotonic() + within
    while len(receiver.arrivals) < expected:
        if time.monotonic() > deadline:
            raise RuntimeError(f"only {len(receiver.arrivals)} of {expected} events arrived")
        await asyncio.sleep(0.05)


async def bare_sender(url: str, region_id: str, target: str, secret: str) -> tuple[int, float]:
    """(d₀): the region's case events read from the outbox, signed, POSTed 16 at a time."""
    conn = await asyncpg_connect(url)
    client = http_client(10.0)
    try:
        started = time.perf_counter()
        rows = await conn.fetch(
            "SELECT id, region_id, type, occurred_at, data::text AS data FROM notification_events "
            "WHERE region_id = $1 AND type LIKE 'case.%' ORDER BY seq",
            uuid.UUID(region_id),
        )
        slots = asyncio.Semaphore(CONCURRENCY)

        async def send(row) -> None:
            event = {**dict(row), "data": json.loads(row["data"])}
            request_url, headers, body = build_request(
                kind="json", url=target, secret=secret, event=event, tz=UTC, now=datetime.now(UTC)
            )
            async with slots:
                response = await client.post(request_url, content=body, headers=headers)
            assert response.status_code == 200

        await asyncio.gather(*(send(row) for row in rows))
        return len(rows), time.perf_counter() - started
    finally:
        await client.aclose()
        await conn.close()


async def run(
    url: str, seeded: dict[str, Any], service: ServerProcess, env: dict[str, str]
) -> dict[str, Any]:
    admin = issue_token(
        secret=JWT_SECRET,
        ttl_seconds=3600,
        person_id=uuid.uuid4(),
        region_id=uuid.UUID(seeded["region_id"]),
        role="admin",
        unit_id=None,
        username="bench-admin",
    )
    receiver = Receiver()
    server, port, task = await start_receiver(receiver)
    results: dict[str, Any] = {}
    async with httpx.AsyncClient(base_url=service.url, timeout=30) as client:
        created = await client.post(
            "/v1/webhooks",
            json={
                "url": f"http://127.0.0.1:{port}/hook",
                "event_types": ["case.reported", "case.assigned"],
            },
            headers={"Authorization": f"Bearer {admin}"},
        )
        assert created.status_code == 201, created.text
        hook = created.json()
        receiver.secret = hook["secret"]
        dispatcher = await start_dispatcher(env)
        await ingest(client, seeded["token"], seeded["points"], 50, None)  # warm-up
        await wait_for(receiver, 200)

        # (s) steady load
        receiver.arrivals.clear()
        count = int(RATE * SECONDS)
        answered = await ingest(client, seeded["token"], seeded["points"], count, RATE)
        await wait_for(receiver, 4 * count)
        by_case: dict[str, list[float]] = {}
        for event_id, arrived in receiver.arrivals.items():
            by_case.setdefault(receiver.cases[event_id], []).append(arrived)
        lags = sorted(
            (arrived - answered[case]) * 1000
            for case, times in by_case.items()
            for arrived in times
        )
        arrivals = sorted(receiver.arrivals.values())
        span = arrivals[-1] - min(answered.values())
        results["steady"] = {
            "inspections_per_second": RATE,
            "events": len(lags),
            "events_per_second": round(len(lags) / span, 1),
            "lag_p50_ms": round(percentile(lags, 0.50), 1),
            "lag_p99_ms": round(percentile(lags, 0.99), 1),
            "lag_max_ms": round(lags[-1], 1),
        }

        # (d) a backlog drained by the dispatcher
        await stop(dispatcher)
        await ingest(client, seeded["token"], seeded["points"], BACKLOG, None)
        receiver.arrivals.clear()
        dispatcher = await start_dispatcher(env)
        await wait_for(receiver, 4 * BACKLOG)
        arrivals = sorted(receiver.arrivals.values())
        drained = arrivals[-1] - arrivals[0]
        results["drain"] = {
            "events": 4 * BACKLOG,
            "events_per_second": round((4 * BACKLOG - 1) / drained, 1),
        }
        await stop(dispatcher)

        # (d₀) the bare sender, the same kind of events, to the same receiver
        receiver.arrivals.clear()
        sent, seconds = await bare_sender(
            url, seeded["region_id"], f"http://127.0.0.1:{port}/hook", hook["secret"]
        )
        results["bare"] = {"events": sent, "events_per_second": round(sent / seconds, 1)}
        results["drain_ratio"] = round(
            results["drain"]["events_per_second"] / results["bare"]["events_per_second"], 2
        )
        results["duplicates"] = receiver.duplicates
        results["bad_signatures"] = receiver.bad_signatures
    server.should_exit = True
    await task
    return results


def main() -> int:
    with fresh_database("cw_bench_notify") as url:
        seeded = asyncio.run(seed(url))
        env = {
            "DATABASE_URL": url,
            "CW_ENV": "development",
            "CW_DEMO": "0",
            "CW_LOG_LEVEL": "WARNING",
            "CW_JWT_SECRET": JWT_SECRET,
            "CW_SERVICE_TOKEN": SERVICE_TOKEN,
            "INSPECTIONS_PENDING_RETRY_SECONDS": "0",
            "INSPECTIONS_NOTIFICATIONS_ENABLED": "0",  # the worker process dispatches
        }
        with ServerProcess(app="registry.main:app", env=env) as registry:
            service_env = {**env, "CW_REGISTRY_URL": registry.url}
            with ServerProcess(app="inspections.main:app", env=service_env) as service:
                results = asyncio.run(run(url, seeded, service, env))
    steady, drain, bare = results["steady"], results["drain"], results["bare"]
    print("| scenario | events | events/s | lag p50 ms | lag p99 ms |")
    print("|---|---:|---:|---:|---:|")
    print(
        f"| (s) steady: {RATE:g} inspections/s × {SECONDS:g} s | {steady['events']:,} "
        f"| {steady['events_per_second']:,} | {steady['lag_p50_ms']:,} | {steady['lag_p99_ms']:,} |"
    )
    print(
        f"| (d) backlog drained by the dispatcher | {drain['events']:,} | {drain['events_per_second']:,} | – | – |"
    )
    print(
        f"| (d₀) bare sender, same events | {bare['events']:,} | {bare['events_per_second']:,} | – | – |"
    )
    print(
        f"\nd/d₀ = {results['drain_ratio']}; duplicates {results['duplicates']}, bad signatures {results['bad_signatures']}"
    )
    path = write_results("notifications", results)
    print(f"results: {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
