"""The one declarative base, its naming convention and the small mixins.

Multi-tenancy rule: every tenant table carries ``region_id`` and the region id
leads its primary key and every unique key that a tenant's queries use, so the
schema can later be distributed by ``region_id`` (Citus). Foreign keys between
tenant tables are composite ``(region_id, …)`` for the same reason.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import DateTime, Integer, MetaData, func
from sqlalchemy.dialects.postgresql import UUID
from sqlalchemy.orm import DeclarativeBase, Mapped, declared_attr, mapped_column

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_N_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {
        uuid.UUID: UUID(as_uuid=True),
        datetime: DateTime(timezone=True),
    }


class RegionScoped:
    """``region_id`` as the leading primary-key column of a tenant table."""

    @declared_attr
    def region_id(cls) -> Mapped[uuid.UUID]:
        return mapped_column(primary_key=True, sort_order=-100)


class UUIDId:
    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)


class Timestamps:
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(
        server_default=func.now(), onupdate=func.now(), index=False
    )
    # The person who made the last change; set by shared.audit at flush time.
    updated_by: Mapped[uuid.UUID | None] = mapped_column()


class Versioned:
    """Optimistic concurrency: ``version`` is bumped by SQLAlchemy on every UPDATE,
    and an UPDATE that finds another version raises ``StaleDataError`` (→ 412)."""

    version: Mapped[int] = mapped_column(Integer, nullable=False, default=1)

    @declared_attr.directive
    def __mapper_args__(cls) -> dict:
        return {"version_id_col": cls.version}
