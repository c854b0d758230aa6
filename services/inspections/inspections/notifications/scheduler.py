"""Time-driven events: ``case.due_soon``, ``case.overdue`` and the daily ``unit.digest``.

One replica at a time (a transaction-scoped advisory lock; the others skip the
tick). Each event carries a ``dedupe_key`` that is unique in the outbox — a case
and one deadline for ``due_soon``/``overdue``, a unit and a local day for the
digest — so an event never happens twice, even if two schedulers raced: an
extension gives the case a new deadline, and so a new ``due_soon`` (and, if it
is missed, a new ``overdue``). Cases being acted on are skipped for this tick
(``FOR SHARE SKIP LOCKED``), so a deadline event is written after, never between,
the events of an action on the same case.

A case whose deadline passed while no scheduler ran gets only its ``overdue``:
telling a unit a deadline is near after it has passed would mislead.

It goes region by region (the list of regions is a reference table on Citus), so each
statement names one region and reaches one shard.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from inspections.notifications.outbox import SCHEDULE_LOCK
from shared.models import Region

_CASE_DATA = """
    jsonb_build_object(
        'case_id', c.id, 'status', c.status, 'unit_id', c.unit_id, 'due_at', c.due_at,
        'sample_point_id', c.sample_point_id, 'source', c.source, 'severity', c.severity,
        'description', c.description, 'address', c.address, 'reporter_id', c.reporter_id)
"""

DEADLINE_EVENTS = text(
    f"""
    WITH due AS (
        SELECT c.* FROM cases c
        WHERE c.region_id = :region_id
          AND c.status = 'assigned' AND c.due_at IS NOT NULL AND c.unit_id IS NOT NULL
          AND c.due_at <= CAST(:horizon AS timestamptz)
          AND (CAST(:kind AS text) = 'case.overdue' AND c.due_at <= :now
               OR CAST(:kind AS text) = 'case.due_soon' AND c.due_at > :now)
          AND NOT EXISTS (
              SELECT FROM notification_events e
              WHERE e.region_id = c.region_id
                AND e.dedupe_key = CAST(:kind AS text) || ':' || c.id || '@' || extract(epoch FROM c.due_at)
          )
        ORDER BY c.due_at
        LIMIT :limit
        FOR SHARE OF c SKIP LOCKED
    )
    INSERT INTO notification_events
        (region_id, id, type, subject_kind, subject_id, unit_id, person_id, occurred_at, data,
         dedupe_key)
    SELECT c.region_id, gen_random_uuid(), CAST(:kind AS text), 'case', c.id, c.unit_id, c.reporter_id,
           CAST(:now AS timestamptz),
           {_CASE_DATA}, CAST(:kind AS text) || ':' || c.id || '@' || extract(epoch FROM c.due_at)
    FROM due c
    ORDER BY c.due_at
    ON CONFLICT (region_id, dedupe_key) DO NOTHING
    """
)

# One digest per unit with open (assigned) cases, per local day from the digest hour on:
# due today, overdue, and sent back to it for rework (a rejected rectification).
DIGESTS = text(
    """
    WITH regions_due AS (
        SELECT r.id AS region_id, r.timezone AS tz,
               (CAST(:now AS timestamptz) AT TIME ZONE r.timezone)::date AS today
        FROM regions r
        WHERE r.id = :region_id
          AND extract(hour FROM CAST(:now AS timestamptz) AT TIME ZONE r.timezone) >= :hour
    ), open_cases AS (
        SELECT c.region_id, c.unit_id, c.id, c.due_at, c.rework_count, d.today, d.tz
        FROM regions_due d
        JOIN cases c ON c.region_id = d.region_id AND c.status = 'assigned'
        WHERE c.unit_id IS NOT NULL
    ), per_unit AS (
        SELECT region_id, unit_id, today,
               coalesce(array_agg(id ORDER BY due_at)
                   FILTER (WHERE (due_at AT TIME ZONE tz)::date = today AND due_at > :now),
                   '{}') AS due_today,
               coalesce(array_agg(id ORDER BY due_at) FILTER (WHERE due_at <= :now), '{}')
                   AS overdue,
               coalesce(array_agg(id ORDER BY due_at) FILTER (WHERE rework_count > 0), '{}')
                   AS rework
        FROM open_cases
        GROUP BY region_id, unit_id, today
    )
    INSERT INTO notification_events
        (region_id, id, type, subject_kind, subject_id, unit_id, person_id, occurred_at, data,
         dedupe_key)
    SELECT region_id, gen_random_uuid(), 'unit.digest', 'unit', unit_id, unit_id, NULL,
           CAST(:now AS timestamptz),
           jsonb_build_object(
               'unit_id', unit_id, 'date', today,
               'due_today_count', cardinality(due_today), 'due_today', to_jsonb(due_today[1:100]),
               'overdue_count', cardinality(overdue), 'overdue', to_jsonb(overdue[1:100]),
               'rework_count', cardinality(rework), 'rework', to_jsonb(rework[1:100])),
           'unit.digest:' || unit_id || ':' || today
    FROM per_unit
    ON CONFLICT (region_id, dedupe_key) DO NOTHING
    """
)


async def schedule(
    session: AsyncSession,
    *,
    now: datetime,
    due_soon_lead: timedelta,
    digest_hour: int,
    limit: int = 1000,
) -> dict[str, int]:
    """One scheduler tick; how many events of each kind it wrote (nothing if locked out)."""
    locked = await session.scalar(
        text("SELECT pg_try_advisory_xact_lock(:k)"), {"k": SCHEDULE_LOCK}
    )
    if not locked:
        return {}
    written = {"case.overdue": 0, "case.due_soon": 0, "unit.digest": 0}
    for region_id in (await session.scalars(select(Region.id).order_by(Region.id))).all():
        for kind, horizon in (("case.overdue", now), ("case.due_soon", now + due_soon_lead)):
            result = await session.execute(
                DEADLINE_EVENTS,
                {
                    "region_id": region_id,
                    "kind": kind,
                    "now": now,
                    "horizon": horizon,
                    "limit": limit,
                },
            )
            written[kind] += result.rowcount or 0
        result = await session.execute(
            DIGESTS, {"region_id": region_id, "now": now, "hour": digest_hour}
        )
        written["unit.digest"] += result.rowcount or 0
    return written
