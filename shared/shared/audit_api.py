"""Reading the audit trail (shared.audit writes it): one list endpoint per service.

No ``from __future__ import annotations`` here: the route is built inside a function
and FastAPI must see its parameter types as objects, not as names to look up.
"""

import uuid
from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query
from pydantic import Field
from sqlalchemy import select

from shared.auth import Principal, require_roles
from shared.db import SessionDep
from shared.errors import Unprocessable
from shared.inputs import Instant
from shared.listing import keyset_page
from shared.models import AuditEvent
from shared.pagination import DEFAULT_LIMIT, CursorParam, LimitParam, Page
from shared.schemas import ResponseModel


class AuditEventRead(ResponseModel):
    id: uuid.UUID
    at: datetime
    actor_id: uuid.UUID | None = Field(description="The person; null for a service call.")
    actor_role: str
    service: str
    record_type: str = Field(description="The table, e.g. `sample_points`, `report_settings`.")
    record_id: str
    action: Literal["create", "update", "delete"]
    changes: dict[str, Any] = Field(
        description='Each changed field as `{"before": …, "after": …}`; passwords as `(hidden)`.',
        examples=[{"name": {"before": "东街农贸市场", "after": "东街农贸市场(新)"}}],
    )


def audit_router(path: str, *, record_types: frozenset[str], tag: str) -> APIRouter:
    """``GET path``: the region's audit events of ``record_types``, newest first (admin, leader)."""
    router = APIRouter(tags=[tag])
    Reader = Annotated[Principal, Depends(require_roles("admin", "leader"))]

    @router.get(path, response_model=Page[AuditEventRead])
    async def list_audit_events(
        principal: Reader,
        session: SessionDep,
        record_type: Annotated[
            str | None, Query(description=f"One of: {', '.join(sorted(record_types))}.")
        ] = None,
        record_id: Annotated[str | None, Query(max_length=64)] = None,
        actor_id: uuid.UUID | None = None,
        from_: Annotated[Instant | None, Query(alias="from", description="at ≥ from")] = None,
        to: Annotated[Instant | None, Query(description="at < to")] = None,
        limit: LimitParam = DEFAULT_LIMIT,
        cursor: CursorParam = None,
    ) -> Page[AuditEventRead]:
        """Who changed what and when (admin, leader): each change with its author and its fields before → after, oldest first; filters by record, author and time."""
        if record_type is not None and record_type not in record_types:
            raise Unprocessable(
                "Unknown record_type.",
                errors=[{"loc": ["query", "record_type"], "msg": "not an audited record type"}],
            )
        stmt = select(AuditEvent).where(
            AuditEvent.region_id == principal.region_id,
            AuditEvent.record_type.in_([record_type] if record_type else sorted(record_types)),
        )
        if record_id is not None:
            stmt = stmt.where(AuditEvent.record_id == record_id)
        if actor_id is not None:
            stmt = stmt.where(AuditEvent.actor_id == actor_id)
        if from_ is not None:
            stmt = stmt.where(AuditEvent.at >= from_)
        if to is not None:
            stmt = stmt.where(AuditEvent.at < to)
        rows, next_cursor = await keyset_page(
            session, stmt, order_by=[AuditEvent.at, AuditEvent.id], cursor=cursor, limit=limit
        )
        return Page(items=[AuditEventRead.model_validate(r) for r in rows], next_cursor=next_cursor)

    return router
