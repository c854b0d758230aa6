"""The rectification workflow: opening cases and moving them through their states.

Opening a case (from an inspection, ``POST /v1/cases`` or an import) goes
through :func:`open_case`. When the responsible unit is known and deadline
rules are at hand, the case is dispatched at once. **The clock starts when the
server dispatches** (``dispatched_at`` = the moment the case is opened, never
earlier than ``reported_at``): a phone that syncs a day late must not eat the
unit's time, and 派遣 is where the clock starts in the digital urban-management
loop.

Every change appends an immutable :class:`CaseEvent`; events are ordered by
``at``, which strictly increases within a case.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from inspections.photos.service import link_photos
from shared.models import Case, CaseEvent
from shared.workdays import DeadlineRules

_TICK = timedelta(microseconds=1)


@dataclass(frozen=True)
class CaseDraft:
    """Everything needed to open a case, whoever opens it (ingest, POST /v1/cases, import)."""

    id: uuid.UUID
    source: str
    description: str
    severity: str
    reported_at: datetime
    reporter_id: uuid.UUID | None
    sample_point_id: uuid.UUID | None = None
    inspection_id: uuid.UUID | None = None
    item_code: str | None = None
    category_id: uuid.UUID | None = None
    point_type_id: uuid.UUID | None = None
    division_id: uuid.UUID | None = None
    unit_id: uuid.UUID | None = None
    lat: float | None = None
    lon: float | None = None
    address: str | None = None
    photo_ids: tuple[uuid.UUID, ...] = ()


def utcnow() -> datetime:
    return datetime.now(UTC)


def add_event(
    session: AsyncSession,
    case: Case,
    *,
    at: datetime,
    actor_id: uuid.UUID | None,
    action: str,
    from_status: str | None,
    note: str | None = None,
    photo_ids: list[uuid.UUID] | tuple[uuid.UUID, ...] = (),
) -> CaseEvent:
    """Append one immutable event recording the case as it is *after* the action."""
    event = CaseEvent(
        region_id=case.region_id,
        id=uuid.uuid4(),
        case_id=case.id,
        at=at,
        actor_id=actor_id,
        action=action,
        from_status=from_status,
        to_status=case.status,
        note=note,
        photo_ids=list(photo_ids),
        unit_id=case.unit_id,
        due_at=case.due_at,
    )
    session.add(event)
    return event


async def open_case(
    session: AsyncSession,
    *,
    region_id: uuid.UUID,
    draft: CaseDraft,
    deadlines: DeadlineRules | None,
    dispatcher_id: uuid.UUID | None = None,
    now: datetime | None = None,
) -> Case:
    """Add a case (``reported``, with a ``report`` event) and dispatch it at once when
    ``draft.unit_id`` and ``deadlines`` are given (``assigned``, ``dispatch`` event,
    ``due_at`` from the policy and calendar counted from the dispatch time).

    Without deadline rules the case stays ``reported`` (and invisible to the unit)
    for an admin to dispatch. ``dispatcher_id`` is the actor of the automatic dispatch (``None`` = the system,
    e.g. ingest). Links the report photos to the case. Flushes; never commits.
    """
    now = now or utcnow()
    reported_at = draft.reported_at.astimezone(UTC)
    case = Case(
        region_id=region_id,
        id=draft.id,
        sample_point_id=draft.sample_point_id,
        inspection_id=draft.inspection_id,
        item_code=draft.item_code,
        source=draft.source,
        category_id=draft.category_id,
        point_type_id=draft.point_type_id,
        division_id=draft.division_id,
        description=draft.description,
        severity=draft.severity,
        lat=draft.lat,
        lon=draft.lon,
        address=draft.address,
        unit_id=None,
        reporter_id=draft.reporter_id,
        status="reported",
        reported_at=reported_at,
        rework_count=0,
        extension_count=0,
        return_count=0,
        photo_ids=list(dict.fromkeys(draft.photo_ids)),
    )
    session.add(case)
    add_event(
        session,
        case,
        at=reported_at,
        actor_id=draft.reporter_id,
        action="report",
        from_status=None,
        photo_ids=case.photo_ids,
    )
    if draft.unit_id is not None and deadlines is not None:
        dispatched_at = max(now, reported_at + _TICK)
        case.status = "assigned"
        case.unit_id = draft.unit_id
        case.dispatched_at = dispatched_at
        case.due_at = deadlines.due_at(draft.severity, dispatched_at)
        add_event(
            session,
            case,
            at=dispatched_at,
            actor_id=dispatcher_id,
            action="dispatch",
            from_status="reported",
        )
    await session.flush()
    await link_photos(
        session, region_id=region_id, photo_ids=case.photo_ids, owner_kind="case", owner_id=case.id
    )
    await session.refresh(case)
    return case


async def next_event_time(
    session: AsyncSession, case: Case, now: datetime | None = None
) -> datetime:
    """``now``, but strictly after the case's latest event (a phone's clock may run ahead)."""
    now = now or utcnow()
    last = await session.scalar(
        select(func.max(CaseEvent.at)).where(
            CaseEvent.region_id == case.region_id, CaseEvent.case_id == case.id
        )
    )
    return max(now, last + _TICK) if last is not None else now
