"""The audit trail: written by every service through ``shared.audit``, never updated."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import CheckConstraint, ForeignKeyConstraint, Index, String
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from shared.models.base import Base, RegionScoped


class AuditEvent(RegionScoped, Base):
    """One change of an audited record: who, when, which record, and each changed field's
    ``{"before": …, "after": …}``."""

    __tablename__ = "audit_events"
    __table_args__ = (
        ForeignKeyConstraint(["region_id"], ["regions.id"]),
        CheckConstraint("action in ('create', 'update', 'delete')", name="action"),
        Index("ix_audit_events_region_at", "region_id", "at", "id"),
        Index("ix_audit_events_region_record", "region_id", "record_type", "record_id", "at"),
    )
    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    at: Mapped[datetime] = mapped_column()
    actor_id: Mapped[uuid.UUID | None] = mapped_column()
    actor_role: Mapped[str] = mapped_column(String(16))
    service: Mapped[str] = mapped_column(String(16))
    record_type: Mapped[str] = mapped_column(String(32))
    record_id: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(8))
    changes: Mapped[dict[str, Any]] = mapped_column(JSONB)
