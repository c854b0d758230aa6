"""The audit trail: every change of an audited record, with its author, in the same transaction.

A ``before_flush`` hook on every ORM session looks at what is about to be
written. For a record of an audited table (registry records, report settings,
integrators' Open311 keys)
it adds an :class:`~shared.models.AuditEvent` with who (the request's person or
service), when, which record, and each changed field as ``{"before", "after"}``;
the event is flushed with the change and commits or rolls back with it. Every
record with ``updated_at`` also gets ``updated_by``. Changes written with SQL
statements (upserts, bulk deletes) call :func:`record_change` themselves.

The author comes from :data:`actor_var`, which ``shared.auth`` sets when it
authenticates a request. Writes outside requests (bootstrap, the demo loader,
the CLI, scheduled runs) have no author and are not audited. Password hashes are
recorded as changed, never by value; so are API-key hashes.

``shared.audit_api`` serves the trail: ``GET /v1/audit`` (registry) and
``GET /v1/reports/audit`` (reporting).
"""

from __future__ import annotations

import uuid
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import event, inspect
from sqlalchemy.orm import Session
from sqlalchemy.sql import ClauseElement

from shared import clock
from shared.models import AuditEvent

AUDITED_TABLES = frozenset(
    {
        "regions",
        "divisions",
        "units",
        "people",
        "chiefs",
        "standards",
        "categories",
        "point_types",
        "checklists",
        "sample_points",
        "calendar_days",
        "deadline_policies",
        "archive_items",
        "report_settings",
        "open311_api_keys",
    }
)
NOT_RECORDED = frozenset({"region_id", "created_at", "updated_at", "updated_by", "version"})
HIDDEN = frozenset({"password_hash", "key_hash"})


@dataclass(frozen=True, slots=True)
class Actor:
    """Who makes the changes of this request."""

    person_id: uuid.UUID | None
    role: str
    service: str


actor_var: ContextVar[Actor | None] = ContextVar("chuangwei_audit_actor", default=None)


def _json(value: Any) -> Any:
    if value is None or isinstance(value, bool | int | float | str | list | dict):
        return value
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return float(value)
    return str(value)


def _record_id(obj: Any) -> str:
    mapper = inspect(obj).mapper
    keys = [getattr(obj, c.key) for c in mapper.primary_key if c.key != "region_id"]
    return "/".join(str(_json(k)) for k in keys)


def _changes(obj: Any, action: str) -> dict[str, Any]:
    state = inspect(obj)
    out: dict[str, Any] = {}
    for column in state.mapper.column_attrs:
        key = column.key
        if key in NOT_RECORDED or any(c.computed is not None for c in column.columns):
            continue
        if action == "update":
            history = state.attrs[key].history
            if not history.has_changes():
                continue
            before = history.deleted[0] if history.deleted else None
            after = history.added[0] if history.added else None
        elif action == "create":
            before, after = None, state.attrs[key].value
        else:
            before, after = state.attrs[key].loaded_value, None
        if isinstance(after, ClauseElement):  # e.g. deleted_at = now(), computed by PostgreSQL
            after = str(after)
        elif before == after:
            continue
        if key in HIDDEN:
            out[key] = {"before": "(hidden)", "after": "(hidden)"}
        else:
            out[key] = {"before": _json(before), "after": _json(after)}
    return out


def _before_flush(session: Session, _flush_context: Any, _instances: Any) -> None:
    actor = actor_var.get()
    if actor is None:
        return
    pending = [(o, "create") for o in session.new]
    pending += [(o, "update") for o in session.dirty if session.is_modified(o)]
    pending += [(o, "delete") for o in session.deleted]
    for obj, action in pending:
        if isinstance(obj, AuditEvent):
            continue
        if action != "delete" and hasattr(obj, "updated_by") and actor.person_id is not None:
            obj.updated_by = actor.person_id
        table = inspect(obj).mapper.local_table.name
        if table not in AUDITED_TABLES:
            continue
        if action == "create" and getattr(obj, "id", True) is None:
            obj.id = uuid.uuid4()  # the event names the record before the INSERT runs
        changes = _changes(obj, action)
        if not changes:
            continue
        _add_event(
            session,
            actor,
            region_id=getattr(obj, "region_id", None) or obj.id,  # a region audits itself
            record_type=table,
            record_id=_record_id(obj),
            action=action,
            changes=changes,
        )


def record_change(
    session: Session | Any,
    *,
    region_id: uuid.UUID,
    record_type: str,
    record_id: str,
    before: dict[str, Any] | None,
    after: dict[str, Any] | None,
) -> None:
    """Audit a change written with a SQL statement (an upsert, a bulk delete) that the
    flush hook cannot see; ``before``/``after`` are the record's fields (None: absent)."""
    actor = actor_var.get()
    if actor is None:
        return
    old, new = before or {}, after or {}
    changes = {
        key: {"before": _json(old.get(key)), "after": _json(new.get(key))}
        for key in dict.fromkeys([*old, *new])
        if key not in NOT_RECORDED and old.get(key) != new.get(key)
    }
    if not changes:
        return
    action = "create" if before is None else "delete" if after is None else "update"
    _add_event(
        session,
        actor,
        region_id=region_id,
        record_type=record_type,
        record_id=record_id,
        action=action,
        changes=changes,
    )


def _add_event(session: Session | Any, actor: Actor, **fields: Any) -> None:
    session.add(
        AuditEvent(
            at=clock.now(),
            actor_id=actor.person_id,
            actor_role=actor.role,
            service=actor.service,
            **fields,
        )
    )


def install() -> None:
    """Register the hook on every ORM session (idempotent)."""
    if not event.contains(Session, "before_flush", _before_flush):
        event.listen(Session, "before_flush", _before_flush)
