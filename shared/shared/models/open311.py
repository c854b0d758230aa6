"""Tables of the Open311 GeoReport v2 facade, owned (written) by the inspections service."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKeyConstraint, Index, String, Text, UniqueConstraint, func
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from shared.models.base import Base, RegionScoped


class Open311ApiKey(RegionScoped, Base):
    """An integrator's key, bound to one region; only its sha256 is kept.

    ``key_hash`` is unique across regions because a key is presented before the
    region is known (like a username at sign-in); the key itself names the region.
    """

    __tablename__ = "open311_api_keys"
    __table_args__ = (
        ForeignKeyConstraint(["region_id"], ["regions.id"]),
        UniqueConstraint("key_hash"),
    )
    id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    key_hash: Mapped[str] = mapped_column(String(64))
    key_prefix: Mapped[str] = mapped_column(String(16))
    created_by: Mapped[uuid.UUID | None] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())
    revoked_at: Mapped[datetime | None] = mapped_column()
    revoked_by: Mapped[uuid.UUID | None] = mapped_column()


class Open311Request(RegionScoped, Base):
    """A citizen's report posted through Open311: the case it became and what only Open311 has.

    ``idempotency_key`` (the ``Idempotency-Key`` header) is unique per API key, so a
    retried POST finds the first answer; ``body_hash`` tells a true retry from a reuse
    of the key for another report. ``contact`` (name, email, phone, device and account
    ids) is kept for the office and never published.
    """

    __tablename__ = "open311_requests"
    __table_args__ = (
        ForeignKeyConstraint(["region_id", "case_id"], ["cases.region_id", "cases.id"]),
        ForeignKeyConstraint(
            ["region_id", "api_key_id"], ["open311_api_keys.region_id", "open311_api_keys.id"]
        ),
        UniqueConstraint("region_id", "api_key_id", "idempotency_key"),
        Index("ix_open311_requests_region_created", "region_id", "created_at"),
    )
    case_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    api_key_id: Mapped[uuid.UUID] = mapped_column()
    idempotency_key: Mapped[str | None] = mapped_column(String(200))
    body_hash: Mapped[str] = mapped_column(String(64))
    service_code: Mapped[str] = mapped_column(String(64))
    media_url: Mapped[str | None] = mapped_column(Text)
    contact: Mapped[dict[str, Any]] = mapped_column(JSONB, server_default="{}")
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())
