"""The dispatcher: fan out new events, send due deliveries, retry, give up after a day.

Every replica runs the same loop (unless ``INSPECTIONS_NOTIFICATIONS_ENABLED=0``).
A delivery is **claimed** in a short transaction: ``FOR UPDATE SKIP LOCKED`` picks
due deliveries no other replica holds, and the claim sets a lease
(``locked_until``, longer than one attempt may take) and bumps ``attempts``, the
attempt's number. The HTTP request is sent after that commit, outside any
transaction, and its result is recorded only if the lease is still ours (same
``attempts``): two replicas never send one attempt at the same time, and a
replica that dies mid-send leaves the delivery to be retried when the lease ends.
Delivery is therefore at least once; receivers deduplicate by ``webhook-id``.

**Region by region.** Each claim names one region, so on Citus it is routed to that
region's shard (row locks across shards are not possible there); a lock-free read
finds the regions with due deliveries first.

**Order.** A delivery is due only when no earlier event of the same subject (a
case, a notice …) for the same webhook is still pending, so one case's events
reach a receiver in the order they happened, even across retries.

**Retries.** After failed attempt *n* the next one is due after
``first × 2^(n-1)`` seconds (``INSPECTIONS_NOTIFICATIONS_RETRY_FIRST_SECONDS``,
10 s by default) times a random factor in [0.5, 1] (jitter, so receivers coming
back are not hit by every sender at once), at most
``…_RETRY_MAX_SECONDS`` (an hour); once ``…_RETRY_FOR_SECONDS`` (24 h) have passed
since the delivery was made, a failed attempt marks it ``failed``.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import httpx
import structlog
from prometheus_client import CollectorRegistry, Counter, Gauge
from sqlalchemy import text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from inspections.notifications.outbox import fan_out
from inspections.notifications.scheduler import schedule
from inspections.notifications.sender import Outcome, build_request, http_client, send
from inspections.settings import InspectionsSettings
from shared import clock
from shared.db import unit_of_work

log = structlog.get_logger("chuangwei.inspections.notifications")

LEASE_MARGIN = timedelta(seconds=30)
METRICS_EVERY = 5.0  # seconds between two refreshes of the /metrics gauges (two counts)

# The regions with due deliveries, the longest-waiting first (as one global claim was).
REGIONS_DUE = text(
    """
    SELECT region_id FROM webhook_deliveries
    WHERE status = 'pending' AND next_attempt_at <= :now
      AND (locked_until IS NULL OR locked_until <= :now)
    GROUP BY region_id
    ORDER BY min(next_attempt_at)
    """
)

CLAIM = text(
    """
    WITH due AS (
        SELECT d.region_id, d.id FROM webhook_deliveries d
        JOIN webhooks w ON w.region_id = d.region_id AND w.id = d.webhook_id AND w.active
        WHERE d.region_id = :region_id
          AND d.status = 'pending' AND d.next_attempt_at <= :now
          AND (d.locked_until IS NULL OR d.locked_until <= :now)
          AND NOT EXISTS (
              SELECT FROM webhook_deliveries earlier
              WHERE earlier.region_id = d.region_id AND earlier.webhook_id = d.webhook_id
                AND earlier.order_key = d.order_key AND earlier.status = 'pending'
                AND earlier.event_seq < d.event_seq
          )
        ORDER BY d.next_attempt_at, d.event_seq
        LIMIT :limit
        FOR UPDATE OF d SKIP LOCKED
    )
    UPDATE webhook_deliveries d
    SET locked_until = :lease_until, attempts = d.attempts + 1, updated_at = :now
    FROM due
    WHERE d.region_id = due.region_id AND d.id = due.id
    RETURNING d.region_id, d.id, d.attempts, d.created_at, d.webhook_id, d.event_id
    """
)

CLAIMED_DETAILS = text(
    """
    SELECT d.id AS delivery_id, w.kind, w.url, w.secret, r.timezone,
           e.id, e.region_id, e.type, e.occurred_at, e.data
    FROM webhook_deliveries d
    JOIN webhooks w ON w.region_id = d.region_id AND w.id = d.webhook_id
    JOIN notification_events e ON e.region_id = d.region_id AND e.id = d.event_id
    JOIN regions r ON r.id = d.region_id
    WHERE d.region_id = :region_id AND d.id = ANY(:ids)
    """
).columns(data=JSONB)

RECORD_ATTEMPT = text(
    """
    INSERT INTO delivery_attempts (region_id, delivery_id, number, at, status_code, error,
                                   duration_ms)
    VALUES (:region_id, :id, :number, :at, :status_code, :error, :duration_ms)
    ON CONFLICT DO NOTHING
    """
)

# Only the holder of the attempt's lease (same attempt number) moves the delivery on.
RECORD_RESULT = text(
    """
    UPDATE webhook_deliveries
    SET status = :status, next_attempt_at = :next_attempt_at, locked_until = NULL,
        last_status_code = :status_code, last_error = :error,
        delivered_at = coalesce(CAST(:delivered_at AS timestamptz), delivered_at),
        updated_at = :at
    WHERE region_id = :region_id AND id = :id AND attempts = :number AND status = 'pending'
    """
)

PENDING_STATS = text(
    """
    SELECT
        (SELECT count(*) FROM webhook_deliveries WHERE status = 'pending') AS pending,
        least(
            (SELECT min(e.created_at) FROM webhook_deliveries d
             JOIN notification_events e ON e.region_id = d.region_id AND e.id = d.event_id
             WHERE d.status = 'pending'),
            (SELECT min(created_at) FROM notification_events WHERE fanned_out_at IS NULL)
        ) AS oldest
    """
)


@dataclass(frozen=True)
class RetryPolicy:
    first: float
    maximum: float
    give_up_after: float

    @classmethod
    def from_settings(cls, settings: InspectionsSettings) -> RetryPolicy:
        return cls(
            first=settings.notifications_retry_first_seconds,
            maximum=settings.notifications_retry_max_seconds,
            give_up_after=settings.notifications_retry_for_seconds,
        )

    def next_gap(self, failed_attempts: int) -> float:
        """Seconds before the attempt after ``failed_attempts`` failures (jittered)."""
        base = self.first * 2 ** max(failed_attempts - 1, 0)
        return min(self.maximum, base) * random.uniform(0.5, 1.0)


class DeliveryMetrics:
    """Deliveries pending, succeeded, failed and the oldest pending event's age (/metrics)."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.pending = Gauge(
            "webhook_deliveries_pending", "Webhook deliveries not yet sent", registry=registry
        )
        self.oldest_pending_age = Gauge(
            "webhook_oldest_pending_event_age_seconds",
            "Age of the oldest event not yet delivered everywhere (0 when none)",
            registry=registry,
        )
        self.attempts = Counter(
            "webhook_delivery_attempts_total",
            "Webhook delivery attempts by outcome",
            ["outcome"],
            registry=registry,
        )
        self.finished = Counter(
            "webhook_deliveries_total",
            "Webhook deliveries finished, by final status (succeeded or failed)",
            ["status"],
            registry=registry,
        )

    async def refresh(self, session: AsyncSession, now: datetime) -> None:
        row = (await session.execute(PENDING_STATS)).one()
        self.pending.set(row.pending)
        self.oldest_pending_age.set(
            max(0.0, (now - row.oldest).total_seconds()) if row.oldest else 0.0
        )


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("Asia/Shanghai")


class Dispatcher:
    """One replica's sender; ``tick()`` does one round, ``run()`` loops until cancelled."""

    def __init__(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        settings: InspectionsSettings,
        *,
        metrics: DeliveryMetrics | None = None,
    ) -> None:
        self.sessionmaker = sessionmaker
        self.settings = settings
        self.retry = RetryPolicy.from_settings(settings)
        self.metrics = metrics
        self.timeout = settings.notifications_http_timeout_seconds
        self.client: httpx.AsyncClient = http_client(self.timeout)
        self._slots = asyncio.Semaphore(settings.notifications_concurrency)
        self._last_schedule: float | None = None
        self._last_metrics: float | None = None

    async def aclose(self) -> None:
        await self.client.aclose()

    def _uow(self):
        return unit_of_work(
            self.sessionmaker, commit_timeout=self.settings.db_commit_timeout_seconds
        )

    async def fan_out(self) -> int:
        async with self._uow() as session:
            return await fan_out(
                session, now=clock.now(), limit=self.settings.notifications_batch_size
            )

    async def schedule(self, now: datetime | None = None) -> dict[str, int]:
        async with self._uow() as session:
            written = await schedule(
                session,
                now=now or clock.now(),
                due_soon_lead=timedelta(hours=self.settings.notifications_due_soon_hours),
                digest_hour=self.settings.notifications_digest_hour,
            )
        if any(written.values()):
            log.info("scheduled_events", **written)
        return written

    async def claim(self) -> list[dict[str, Any]]:
        """Due deliveries leased to this replica, with what sending them needs."""
        now = clock.now()
        lease_until = now + timedelta(seconds=self.timeout) + LEASE_MARGIN
        room = self.settings.notifications_batch_size
        found: list[dict[str, Any]] = []
        async with self._uow() as session:
            for region_id in (await session.scalars(REGIONS_DUE, {"now": now})).all():
                if room <= 0:
                    break
                claimed = (
                    await session.execute(
                        CLAIM,
                        {
                            "region_id": region_id,
                            "now": now,
                            "lease_until": lease_until,
                            "limit": room,
                        },
                    )
                ).all()
                if not claimed:
                    continue
                room -= len(claimed)
                details = {
                    row.delivery_id: dict(row._mapping)
                    for row in await session.execute(
                        CLAIMED_DETAILS,
                        {"region_id": region_id, "ids": [row.id for row in claimed]},
                    )
                }
                found += [
                    {"number": row.attempts, "created_at": row.created_at, **details[row.id]}
                    for row in claimed
                ]
        return found

    async def attempt(self, claimed: dict[str, Any]) -> Outcome:
        """Send one claimed attempt (at most ``concurrency`` at a time)."""
        async with self._slots:
            url, headers, body = build_request(
                kind=claimed["kind"],
                url=claimed["url"],
                secret=claimed["secret"],
                event=claimed,
                tz=_zone(claimed["timezone"]),
                now=clock.now(),
            )
            return await send(
                self.client,
                kind=claimed["kind"],
                url=url,
                headers=headers,
                body=body,
                within=self.timeout,
            )

    def _next_status(self, claimed: dict[str, Any], outcome: Outcome, at: datetime):
        if outcome.ok:
            return "succeeded", at
        if (at - claimed["created_at"]).total_seconds() >= self.retry.give_up_after:
            return "failed", at
        return "pending", at + timedelta(seconds=self.retry.next_gap(claimed["number"]))

    async def record(self, results: list[tuple[dict[str, Any], Outcome]]) -> None:
        """Record a batch of attempts in one transaction (one commit for the batch).

        If that commit fails, the leases run out and the attempts are made again:
        at least once, as promised.
        """
        at = clock.now()
        finished: list[tuple[dict[str, Any], Outcome, str]] = []
        async with self._uow() as session:
            for claimed, outcome in results:
                status, next_attempt_at = self._next_status(claimed, outcome, at)
                params = {
                    "region_id": claimed["region_id"],
                    "id": claimed["delivery_id"],
                    "number": claimed["number"],
                    "at": at,
                    "status_code": outcome.status_code,
                    "error": outcome.error,
                    "duration_ms": outcome.duration_ms,
                }
                await session.execute(RECORD_ATTEMPT, params)
                result = await session.execute(
                    RECORD_RESULT,
                    {
                        **params,
                        "status": status,
                        "next_attempt_at": next_attempt_at,
                        "delivered_at": at if outcome.ok else None,
                    },
                )
                if result.rowcount:  # the lease was still ours
                    finished.append((claimed, outcome, status))
        # Counted and logged only now that the records are committed.
        for claimed, outcome, status in finished:
            if self.metrics is not None:
                self.metrics.attempts.labels("ok" if outcome.ok else "error").inc()
                if status != "pending":
                    self.metrics.finished.labels(status).inc()
            if status == "failed":
                log.warning("delivery_failed", delivery_id=str(claimed["delivery_id"]))

    async def send_due(self) -> int:
        """Claim, send and record one batch of due deliveries; how many were attempted."""
        claimed = await self.claim()
        if claimed:
            outcomes = await asyncio.gather(*(self.attempt(c) for c in claimed))
            await self.record(list(zip(claimed, outcomes, strict=True)))
        return len(claimed)

    async def tick(self) -> int:
        """One round: the scheduler when its time has come, fan-out, one batch of sends."""
        loop_time = asyncio.get_running_loop().time()
        if (
            self._last_schedule is None
            or loop_time - self._last_schedule >= self.settings.notifications_schedule_seconds
        ):
            self._last_schedule = loop_time
            await self.schedule()
        fanned = await self.fan_out()
        sent = await self.send_due()
        if self.metrics is not None and (
            self._last_metrics is None or loop_time - self._last_metrics >= METRICS_EVERY
        ):
            self._last_metrics = loop_time
            async with self.sessionmaker() as session:
                await self.metrics.refresh(session, clock.now())
        return fanned + sent

    async def run(self) -> None:
        """Loop until cancelled; busy rounds follow each other, idle ones wait a poll."""
        while True:
            try:
                busy = await self.tick()
            except asyncio.CancelledError:
                raise
            except Exception:  # the database may be away; try again next round
                log.exception("notifications_tick_failed")
                busy = 0
            if not busy:
                await asyncio.sleep(self.settings.notifications_poll_seconds)


async def start_dispatcher(app: Any) -> Dispatcher:
    """Start the app's dispatcher loop (used by the lifespan, and by tests that want one)."""
    dispatcher = Dispatcher(
        app.state.sessionmaker, app.state.settings, metrics=app.state.delivery_metrics
    )
    app.state.dispatcher = dispatcher
    app.state.dispatcher_task = asyncio.create_task(dispatcher.run(), name="notifications")
    return dispatcher


async def stop_dispatcher(app: Any) -> None:
    task: asyncio.Task | None = getattr(app.state, "dispatcher_task", None)
    if task is not None:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        app.state.dispatcher_task = None
    dispatcher: Dispatcher | None = getattr(app.state, "dispatcher", None)
    if dispatcher is not None:
        await dispatcher.aclose()
        app.state.dispatcher = None
