"""The inbox (SPEC §9): each person's own notifications, unread count, mark read, delta sync.

Who sees what:

- **unit staff**: their unit's cases assigned, due soon, overdue and rejected
  (rework), the unit's notices and its daily digest — every member of the unit
  sees the same entries, and each marks them read for themselves;
- **the reporter of a case** (an inspector, usually): its rectification, awaiting
  their verification; a notice raised against a person reaches that person;
- **admins** (the office): cases returned by a unit, extension requests and
  flagged inspections — what waits for the office to act.

Entries appear when an event is fanned out (a second or so after its commit).
Without ``updated_since`` the list is newest first. With it (the phone's delta
sync) it lists, oldest change first, every entry created or read since then, each
with ``updated_at``; page on with ``next_cursor``, and next time ask from the
last ``updated_at`` seen (entries are written in order, so a minute's overlap is
plenty).
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query
from sqlalchemy import and_, false, func, literal, or_, select, tuple_
from sqlalchemy.dialects.postgresql import insert

from inspections.notifications.schemas import (
    MarkRead,
    MarkReadResult,
    NotificationItem,
    NotificationPage,
)
from shared import clock
from shared.auth import CurrentUser, Principal
from shared.db import SessionDep
from shared.errors import Forbidden, Unprocessable
from shared.models import Notification, NotificationRead
from shared.pagination import DEFAULT_LIMIT, CursorParam, LimitParam, decode_cursor, encode_cursor

router = APIRouter(prefix="/v1/notifications", tags=["notifications"])


def _visible(principal: Principal):
    """The caller's own notifications (see the module's description)."""
    conditions = []
    if principal.role == "unit" and principal.unit_id is not None:
        conditions.append(
            and_(Notification.audience == "unit", Notification.audience_id == principal.unit_id)
        )
    if principal.person_id is not None:
        conditions.append(
            and_(
                Notification.audience == "person",
                Notification.audience_id == principal.person_id,
            )
        )
    if principal.role == "admin":
        conditions.append(Notification.audience == "office")
    return and_(
        Notification.region_id == principal.region_id, or_(*conditions) if conditions else false()
    )


def _mine(principal: Principal):
    """The caller's read receipts, joined beside each notification."""
    return and_(
        NotificationRead.region_id == Notification.region_id,
        NotificationRead.notification_id == Notification.id,
        NotificationRead.person_id == principal.person_id,
    )


def _person(principal: Principal) -> uuid.UUID:
    if principal.person_id is None:
        raise Forbidden("Notifications belong to people; a service has none.")
    return principal.person_id


async def _unread(session: SessionDep, principal: Principal) -> int:
    stmt = (
        select(func.count())
        .select_from(Notification)
        .outerjoin(NotificationRead, _mine(principal))
        .where(_visible(principal), NotificationRead.person_id.is_(None))
    )
    return int(await session.scalar(stmt) or 0)


@router.get("", response_model=NotificationPage)
async def list_notifications(
    principal: CurrentUser,
    session: SessionDep,
    unread: Annotated[bool | None, Query(description="true: only unread ones.")] = None,
    updated_since: Annotated[
        datetime | None, Query(description="Delta sync: entries created or read since then.")
    ] = None,
    limit: LimitParam = DEFAULT_LIMIT,
    cursor: CursorParam = None,
) -> NotificationPage:
    """The caller's notifications with the unread count; newest first, or changes since a time.

    Unit staff see their unit's cases assigned, due soon, overdue and rejected, its
    notices and daily digest; a case's reporter sees its rectification awaiting
    verification; admins see returns, extension requests and flagged inspections.
    With ``updated_since`` (delta sync): entries created or read since then,
    oldest change first, each with ``updated_at``.
    """
    _person(principal)
    if updated_since is not None and updated_since.tzinfo is None:
        raise Unprocessable(
            "Times need an offset.",
            errors=[{"loc": ["query", "updated_since"], "msg": "use RFC 3339 with an offset"}],
        )
    updated_at = func.greatest(Notification.created_at, NotificationRead.read_at).label(
        "updated_at"
    )
    stmt = (
        select(Notification, NotificationRead.read_at, updated_at)
        .outerjoin(NotificationRead, _mine(principal))
        .where(_visible(principal))
    )
    if unread is not None:
        stmt = stmt.where(
            NotificationRead.person_id.is_(None)
            if unread
            else NotificationRead.person_id.is_not(None)
        )
    values = decode_cursor(cursor, size=2)
    try:
        after = (datetime.fromisoformat(values[0]), uuid.UUID(values[1])) if values else None
    except (TypeError, ValueError):
        raise Unprocessable(
            "The cursor is not valid for this list; start again without it.",
            errors=[{"loc": ["query", "cursor"], "msg": "not a cursor of this list"}],
        ) from None
    if updated_since is not None:
        key = func.greatest(Notification.created_at, NotificationRead.read_at)
        stmt = stmt.where(key >= updated_since)
        if after is not None:
            stmt = stmt.where(tuple_(key, Notification.id) > tuple_(*after))
        stmt = stmt.order_by(key, Notification.id)
    else:
        if after is not None:
            stmt = stmt.where(tuple_(Notification.created_at, Notification.id) < tuple_(*after))
        stmt = stmt.order_by(Notification.created_at.desc(), Notification.id.desc())
    rows = (await session.execute(stmt.limit(limit + 1))).all()
    next_cursor = None
    if len(rows) > limit:
        rows = rows[:limit]
        last, _, last_updated = rows[-1]
        moment = last_updated if updated_since is not None else last.created_at
        next_cursor = encode_cursor([moment.isoformat(), str(last.id)])
    return NotificationPage(
        items=[_item(n, read_at, changed) for n, read_at, changed in rows],
        next_cursor=next_cursor,
        unread=await _unread(session, principal),
    )


def _item(notification: Notification, read_at: datetime | None, updated_at: datetime) -> Any:
    return NotificationItem(
        id=notification.id,
        event_id=notification.event_id,
        type=notification.type,
        title=notification.title,
        subject_id=notification.subject_id,
        data=notification.data,
        created_at=notification.created_at,
        read_at=read_at,
        updated_at=updated_at,
    )


@router.post("/read", response_model=MarkReadResult)
async def mark_read(body: MarkRead, principal: CurrentUser, session: SessionDep) -> MarkReadResult:
    """Mark the given notifications (``ids``), or all of the caller's (``all``), read."""
    person_id = _person(principal)
    if body.all == bool(body.ids):
        raise Unprocessable(
            "Give either ids or all: true.",
            errors=[{"loc": ["body"], "msg": "exactly one of ids or all is needed"}],
        )
    now = clock.now()
    visible = select(
        Notification.region_id,
        Notification.id,
        literal(person_id, type_=NotificationRead.person_id.type),
        literal(now, type_=NotificationRead.read_at.type),
    ).where(_visible(principal))
    if body.ids:
        visible = visible.where(Notification.id.in_(body.ids))
    result = await session.execute(
        insert(NotificationRead)
        .from_select(["region_id", "notification_id", "person_id", "read_at"], visible)
        .on_conflict_do_nothing()
    )
    marked = result.rowcount or 0
    return MarkReadResult(marked=marked, unread=await _unread(session, principal))
