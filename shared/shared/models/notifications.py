"""Notification tables (SPEC §9), owned (written) by the inspections service.

- ``notification_events`` is the outbox: one row per event, written in the same
  transaction as the change it describes. Case events and flagged inspections are
  written by triggers of migration 0011 (so every writer — the workflow, the raw-SQL
  ingest path, imports, the pending retry — writes them in the same statement);
  the scheduler writes ``case.due_soon``, ``case.overdue`` and ``unit.digest``;
  ``notice.raised`` is copied from reporting's ``notice_outbox`` with the same id.
- ``webhooks``, ``webhook_deliveries`` (one per webhook and event) and
  ``delivery_attempts`` (one per HTTP attempt) are the sending side.
- ``notifications`` (the inbox, addressed to a unit, a person or the office) and
  ``notification_reads`` (who read what, when).
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    ForeignKeyConstraint,
    Identity,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    func,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.orm import Mapped, mapped_column

from shared.models.base import Base, RegionScoped, Timestamps, Versioned

WEBHOOK_KINDS = ("json", "wecom", "dingtalk")
DELIVERY_STATUSES = ("pending", "succeeded", "failed")
AUDIENCES = ("unit", "person", "office")


class NotificationEvent(RegionScoped, Base):
    """One event of SPEC §9 in the outbox; ``id`` is the stable event id (``webhook-id``).

    ``seq`` orders events as they were written (one case's events are written in
    order: each action locks the case row). ``subject_id`` (a case, an inspection,
    a notice or a unit) is the ordering key of deliveries. ``dedupe_key`` makes
    the scheduler's events happen once (a case and one deadline, a unit and a day).
    ``fanned_out_at`` is set once deliveries and inbox rows have been made.
    """

    __tablename__ = "notification_events"
    __table_args__ = (
        ForeignKeyConstraint(["region_id"], ["regions.id"]),
        UniqueConstraint("region_id", "dedupe_key", name="uq_notification_events_dedupe_key"),
        Index("ix_notification_events_region_seq", "region_id", "seq", unique=True),
        Index(
            "ix_notification_events_unfanned",
            "seq",
            postgresql_where="fanned_out_at IS NULL",
        ),
    )
    id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    seq: Mapped[int] = mapped_column(BigInteger, Identity(always=False))
    type: Mapped[str] = mapped_column(String(40))
    subject_kind: Mapped[str] = mapped_column(String(16))
    subject_id: Mapped[uuid.UUID] = mapped_column()
    unit_id: Mapped[uuid.UUID | None] = mapped_column()
    person_id: Mapped[uuid.UUID | None] = mapped_column()
    occurred_at: Mapped[datetime] = mapped_column()
    data: Mapped[dict[str, Any]] = mapped_column(JSONB)
    dedupe_key: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())
    fanned_out_at: Mapped[datetime | None] = mapped_column()


class Webhook(RegionScoped, Versioned, Timestamps, Base):
    """A receiver of events: an integrator's system or a WeCom/DingTalk group robot."""

    __tablename__ = "webhooks"
    __table_args__ = (
        ForeignKeyConstraint(["region_id"], ["regions.id"]),
        CheckConstraint(f"kind in {WEBHOOK_KINDS}", name="kind"),
    )
    id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    url: Mapped[str] = mapped_column(String(2000))
    event_types: Mapped[list[str]] = mapped_column(ARRAY(String(40)))
    unit_id: Mapped[uuid.UUID | None] = mapped_column()
    kind: Mapped[str] = mapped_column(String(16))
    secret: Mapped[str | None] = mapped_column(String(200))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    description: Mapped[str | None] = mapped_column(Text)
    created_by: Mapped[uuid.UUID | None] = mapped_column()


class WebhookDelivery(RegionScoped, Base):
    """One event for one webhook, until it succeeded or was given up (``failed``).

    A replica claims a due delivery by setting ``locked_until`` (a lease longer than
    one HTTP attempt may take) under ``FOR UPDATE SKIP LOCKED``; ``attempts`` is the
    fencing number of the attempt that holds the lease.
    """

    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        ForeignKeyConstraint(["region_id", "webhook_id"], ["webhooks.region_id", "webhooks.id"]),
        ForeignKeyConstraint(
            ["region_id", "event_id"],
            ["notification_events.region_id", "notification_events.id"],
        ),
        CheckConstraint(f"status in {DELIVERY_STATUSES}", name="status"),
        UniqueConstraint("region_id", "webhook_id", "event_id", name="uq_webhook_deliveries_event"),
        Index(
            "ix_webhook_deliveries_due", "next_attempt_at", postgresql_where="status = 'pending'"
        ),
        Index(
            "ix_webhook_deliveries_order",
            "region_id",
            "webhook_id",
            "order_key",
            "event_seq",
            postgresql_where="status = 'pending'",
        ),
        Index("ix_webhook_deliveries_webhook", "region_id", "webhook_id", "event_seq"),
    )
    id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    webhook_id: Mapped[uuid.UUID] = mapped_column()
    event_id: Mapped[uuid.UUID] = mapped_column()
    event_seq: Mapped[int] = mapped_column(BigInteger)
    order_key: Mapped[uuid.UUID] = mapped_column()
    status: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column()
    locked_until: Mapped[datetime | None] = mapped_column()
    last_status_code: Mapped[int | None] = mapped_column(Integer)
    last_error: Mapped[str | None] = mapped_column(Text)
    delivered_at: Mapped[datetime | None] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(server_default=func.now())


class DeliveryAttempt(RegionScoped, Base):
    """One HTTP attempt of a delivery, as the deliveries list shows it."""

    __tablename__ = "delivery_attempts"
    __table_args__ = (
        ForeignKeyConstraint(
            ["region_id", "delivery_id"], ["webhook_deliveries.region_id", "webhook_deliveries.id"]
        ),
    )
    delivery_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    number: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column()
    status_code: Mapped[int | None] = mapped_column(Integer)
    error: Mapped[str | None] = mapped_column(Text)
    duration_ms: Mapped[int] = mapped_column(Integer)


class Notification(RegionScoped, Base):
    """An inbox entry for a unit's staff, one person, or the office (admins)."""

    __tablename__ = "notifications"
    __table_args__ = (
        ForeignKeyConstraint(["region_id"], ["regions.id"]),
        CheckConstraint(f"audience in {AUDIENCES}", name="audience"),
        UniqueConstraint(
            "region_id",
            "event_id",
            "audience",
            "audience_id",
            name="uq_notifications_event_audience",
            postgresql_nulls_not_distinct=True,
        ),
        Index("ix_notifications_audience", "region_id", "audience", "audience_id", "created_at"),
    )
    id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    event_id: Mapped[uuid.UUID] = mapped_column()
    type: Mapped[str] = mapped_column(String(40))
    audience: Mapped[str] = mapped_column(String(8))
    audience_id: Mapped[uuid.UUID | None] = mapped_column()
    subject_id: Mapped[uuid.UUID] = mapped_column()
    title: Mapped[str] = mapped_column(Text)
    data: Mapped[dict[str, Any]] = mapped_column(JSONB)
    created_at: Mapped[datetime] = mapped_column()


class NotificationRead(RegionScoped, Base):
    """That ``person_id`` read a notification, and when."""

    __tablename__ = "notification_reads"
    __table_args__ = (
        ForeignKeyConstraint(
            ["region_id", "notification_id"], ["notifications.region_id", "notifications.id"]
        ),
    )
    notification_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    person_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    read_at: Mapped[datetime] = mapped_column()
