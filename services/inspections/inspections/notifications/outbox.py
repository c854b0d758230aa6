"""From the outbox to deliveries and inboxes (fan-out), and reporting's notices into the outbox.

Fan-out runs under a transaction-scoped advisory lock, one replica at a time: it
is a few statements per batch, and doing it in ``seq`` order in one place is what
lets the deliveries of one case keep the order its events happened in.

It works region by region: one read finds the regions with work (the only statement
here that spans regions; on Citus a read of every shard, no lock), and every other
statement names its region, so on Citus each goes to that region's shard. A case's
events are all in its region, so their ``seq`` order is kept.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import insert, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.ext.asyncio import AsyncSession

from inspections.notifications.events import (
    OFFICE_INBOX,
    REPORTER_INBOX,
    UNIT_INBOX,
    title,
)
from shared.models import Notification

# pg_advisory_xact_lock keys (arbitrary constants, one per job).
FAN_OUT_LOCK = 0x43570901
SCHEDULE_LOCK = 0x43570902

# Regions with events to fan out or reporting notices to import.
REGIONS_WITH_WORK = text(
    """
    SELECT region_id FROM notification_events WHERE fanned_out_at IS NULL
    UNION
    SELECT r.region_id FROM notice_outbox r
    WHERE NOT EXISTS (
        SELECT FROM notification_events e WHERE e.region_id = r.region_id AND e.id = r.id
    )
    """
)

IMPORT_NOTICES = text(
    """
    INSERT INTO notification_events
        (region_id, id, type, subject_kind, subject_id, unit_id, person_id, occurred_at, data)
    SELECT r.region_id, r.id, r.type, 'notice', r.notice_id, r.unit_id, r.person_id,
           r.occurred_at, r.data
    FROM notice_outbox r
    WHERE r.region_id = :region_id AND NOT EXISTS (
        SELECT FROM notification_events e WHERE e.region_id = r.region_id AND e.id = r.id
    )
    ORDER BY r.created_at
    LIMIT :limit
    ON CONFLICT DO NOTHING
    """
)

UNFANNED = text(
    """
    SELECT region_id, id, seq, type, subject_id, unit_id, person_id, occurred_at, data
    FROM notification_events
    WHERE region_id = :region_id AND fanned_out_at IS NULL
    ORDER BY seq
    LIMIT :limit
    """
).columns(data=JSONB)

# One delivery per active webhook that wants the event: its type listed (or no list),
# and its unit (when it has one) the event's unit.
MAKE_DELIVERIES = text(
    """
    INSERT INTO webhook_deliveries
        (region_id, id, webhook_id, event_id, event_seq, order_key, status, attempts,
         next_attempt_at)
    SELECT e.region_id, gen_random_uuid(), w.id, e.id, e.seq, e.subject_id, 'pending', 0,
           CAST(:now AS timestamptz)
    FROM notification_events e
    JOIN webhooks w ON w.region_id = e.region_id AND w.active
         AND (cardinality(w.event_types) = 0 OR e.type = ANY(w.event_types))
         AND (w.unit_id IS NULL OR w.unit_id = e.unit_id)
    WHERE e.region_id = :region_id AND e.seq = ANY(:seqs)
    ORDER BY e.seq
    ON CONFLICT DO NOTHING
    """
)

MARK_FANNED = text(
    """
    UPDATE notification_events SET fanned_out_at = :now
    WHERE region_id = :region_id AND seq = ANY(:seqs)
    """
)


def audiences(event: dict[str, Any]) -> list[tuple[str, uuid.UUID | None]]:
    """Whose inbox an event goes to: ``(audience, audience_id)`` pairs."""
    kind = event["type"]
    found: list[tuple[str, uuid.UUID | None]] = []
    if kind in UNIT_INBOX and event["unit_id"] is not None:
        found.append(("unit", event["unit_id"]))
    if kind == "notice.raised":
        if event["unit_id"] is not None:
            found.append(("unit", event["unit_id"]))
        if event["person_id"] is not None:
            found.append(("person", event["person_id"]))
    if kind in REPORTER_INBOX and event["person_id"] is not None:
        found.append(("person", event["person_id"]))
    if kind in OFFICE_INBOX or kind == "inspection.flagged":
        found.append(("office", None))
    return found


async def import_notices(session: AsyncSession, *, region_id: uuid.UUID, limit: int) -> int:
    """Copy reporting's new ``notice.raised`` events into the outbox (same ids, so once)."""
    result = await session.execute(IMPORT_NOTICES, {"region_id": region_id, "limit": limit})
    return result.rowcount or 0


async def fan_out(session: AsyncSession, *, now: datetime, limit: int) -> int:
    """Turn up to ``limit`` new events of each region into deliveries and inbox rows; how
    many were done.

    Returns 0 without waiting when another replica holds the fan-out lock.
    """
    locked = await session.scalar(text("SELECT pg_try_advisory_xact_lock(:k)"), {"k": FAN_OUT_LOCK})
    if not locked:
        return 0
    done = 0
    for region_id in (await session.scalars(REGIONS_WITH_WORK)).all():
        done += await _fan_out_region(session, region_id=region_id, now=now, limit=limit)
    return done


async def _fan_out_region(
    session: AsyncSession, *, region_id: uuid.UUID, now: datetime, limit: int
) -> int:
    await import_notices(session, region_id=region_id, limit=limit)
    events = [
        dict(row._mapping)
        for row in await session.execute(UNFANNED, {"region_id": region_id, "limit": limit})
    ]
    if not events:
        return 0
    seqs = [event["seq"] for event in events]
    await session.execute(MAKE_DELIVERIES, {"region_id": region_id, "now": now, "seqs": seqs})
    # Stamped in event order (a microsecond apart), so "newest first" is the order events
    # happened in, and a phone's delta sync meets them in that order too.
    inbox = [
        {
            "region_id": event["region_id"],
            "id": uuid.uuid4(),
            "event_id": event["id"],
            "type": event["type"],
            "audience": audience,
            "audience_id": audience_id,
            "subject_id": event["subject_id"],
            "title": title(event["type"], event["data"]),
            "data": event["data"],
            "created_at": now + timedelta(microseconds=position),
        }
        for position, event in enumerate(events)
        for audience, audience_id in audiences(event)
    ]
    if inbox:
        await session.execute(insert(Notification), inbox)
    await session.execute(MARK_FANNED, {"region_id": region_id, "now": now, "seqs": seqs})
    return len(events)
