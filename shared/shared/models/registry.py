"""Tables owned (written) by the registry service.

Other services read them: inspections through the registry's HTTP API,
reporting with read-only SQL.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any, get_args

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Computed,
    Date,
    Float,
    ForeignKeyConstraint,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    UniqueConstraint,
    func,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.dialects.postgresql.base import ischema_names
from sqlalchemy.orm import Mapped, mapped_column
from sqlalchemy.types import UserDefinedType

from shared import vocabulary
from shared.models.base import Base, RegionScoped, Timestamps, UUIDId, Versioned

ROLES = get_args(vocabulary.PersonRole)
DIVISION_LEVELS = get_args(vocabulary.DivisionLevel)
UNIT_KINDS = get_args(vocabulary.UnitKind)
CHIEF_KINDS = get_args(vocabulary.ChiefKind)
POINT_STATUSES = get_args(vocabulary.PointStatus)
SEVERITIES = get_args(vocabulary.Severity)
DEADLINE_UNITS = get_args(vocabulary.DeadlineUnit)
CALENDAR_KINDS = get_args(vocabulary.CalendarDayKind)


class PGPoint(UserDefinedType):
    """PostgreSQL's built-in planar ``point`` type (GiST-indexable, KNN with ``<->``)."""

    cache_ok = True

    def get_col_spec(self, **kw: Any) -> str:
        return "point"


# Let reflection (Alembic's model/migration comparison) recognise the column type.
ischema_names["point"] = PGPoint


def _region_fk(*cols: str, table: str, ondelete: str | None = None) -> ForeignKeyConstraint:
    """A composite foreign key ``(region_id, col) → table(region_id, id)``."""
    return ForeignKeyConstraint(
        ["region_id", *cols], [f"{table}.region_id", f"{table}.id"], ondelete=ondelete
    )


class Region(Timestamps, Base):
    """The tenant: one district or county. A Citus reference table."""

    __tablename__ = "regions"
    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    timezone: Mapped[str] = mapped_column(String(64), default="Asia/Shanghai")


class Division(RegionScoped, UUIDId, Versioned, Timestamps, Base):
    """A street, community or grid; ``path`` is the materialised ancestry for subtree filters."""

    __tablename__ = "divisions"
    __table_args__ = (
        ForeignKeyConstraint(["region_id"], ["regions.id"]),
        _region_fk("parent_id", table="divisions"),
        UniqueConstraint("region_id", "code"),
        CheckConstraint(f"level in {DIVISION_LEVELS}", name="level"),
        Index(
            "ix_divisions_region_path",
            "region_id",
            "path",
            postgresql_ops={"path": "text_pattern_ops"},
        ),
        Index("ix_divisions_region_updated", "region_id", "updated_at", "id"),
    )
    parent_id: Mapped[uuid.UUID | None] = mapped_column()
    level: Mapped[str] = mapped_column(String(16))
    code: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(200))
    # "/<root id>/<child id>/…/<own id>/": a subtree is every path LIKE prefix || '%'.
    path: Mapped[str] = mapped_column(Text)
    deleted_at: Mapped[datetime | None] = mapped_column()


class Unit(RegionScoped, UUIDId, Versioned, Timestamps, Base):
    """A responsible unit (责任单位)."""

    __tablename__ = "units"
    __table_args__ = (
        ForeignKeyConstraint(["region_id"], ["regions.id"]),
        UniqueConstraint("region_id", "code"),
        CheckConstraint(f"kind in {UNIT_KINDS}", name="kind"),
        Index("ix_units_region_updated", "region_id", "updated_at", "id"),
    )
    code: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(32), default="department")
    contact_phone: Mapped[str | None] = mapped_column(String(32))
    deleted_at: Mapped[datetime | None] = mapped_column()


class Person(RegionScoped, UUIDId, Versioned, Timestamps, Base):
    """An account. Usernames are unique across regions (login happens before the
    region is known), so in a Citus layout ``people`` is a reference table."""

    __tablename__ = "people"
    __table_args__ = (
        ForeignKeyConstraint(["region_id"], ["regions.id"]),
        _region_fk("unit_id", table="units"),
        UniqueConstraint("username"),
        CheckConstraint(f"role in {ROLES}", name="role"),
        CheckConstraint("role <> 'unit' or unit_id is not null", name="unit_role_has_unit"),
    )
    username: Mapped[str] = mapped_column(String(64))
    password_hash: Mapped[str] = mapped_column(String(255))
    display_name: Mapped[str] = mapped_column(String(200))
    phone: Mapped[str | None] = mapped_column(String(32))
    role: Mapped[str] = mapped_column(String(16))
    unit_id: Mapped[uuid.UUID | None] = mapped_column()
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # Bumped on deactivation, a role or unit change and a password reset: tokens
    # that carry an older version are refused (shared.auth).
    token_version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")


class Chief(RegionScoped, UUIDId, Versioned, Timestamps, Base):
    """A person who answers for an area (片长), a grid (网格长) or a road (路长)."""

    __tablename__ = "chiefs"
    __table_args__ = (
        ForeignKeyConstraint(["region_id"], ["regions.id"]),
        _region_fk("person_id", table="people"),
        _region_fk("division_id", table="divisions"),
        CheckConstraint(f"kind in {CHIEF_KINDS}", name="kind"),
        CheckConstraint(
            "(kind = 'road' and road_name is not null) or (kind <> 'road' and division_id is not null)",
            name="patch",
        ),
    )
    person_id: Mapped[uuid.UUID] = mapped_column()
    kind: Mapped[str] = mapped_column(String(16))
    division_id: Mapped[uuid.UUID | None] = mapped_column()
    road_name: Mapped[str | None] = mapped_column(String(200))


class Standard(RegionScoped, UUIDId, Timestamps, Base):
    """A versioned health-city standard (``version`` is the standard's edition, e.g. 2014)."""

    __tablename__ = "standards"
    __table_args__ = (
        ForeignKeyConstraint(["region_id"], ["regions.id"]),
        UniqueConstraint("region_id", "code", "version"),
    )
    code: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(200))
    version: Mapped[str] = mapped_column(String(32))


class Category(RegionScoped, UUIDId, Timestamps, Base):
    """A section of a standard ("the eight categories" of 2014)."""

    __tablename__ = "categories"
    __table_args__ = (
        _region_fk("standard_id", table="standards", ondelete="CASCADE"),
        UniqueConstraint("region_id", "standard_id", "code"),
    )
    standard_id: Mapped[uuid.UUID] = mapped_column()
    code: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(200))
    ordinal: Mapped[int] = mapped_column(Integer)


class PointType(RegionScoped, UUIDId, Versioned, Timestamps, Base):
    """A sample-point type with its pass mark, visit frequency and optional deadline policy."""

    __tablename__ = "point_types"
    __table_args__ = (
        ForeignKeyConstraint(["region_id"], ["regions.id"]),
        _region_fk("category_id", table="categories"),
        UniqueConstraint("region_id", "code"),
        CheckConstraint("pass_mark >= 0 and pass_mark <= 100", name="pass_mark"),
        CheckConstraint("visit_every_days >= 1", name="visit_every_days"),
        Index("ix_point_types_region_updated", "region_id", "updated_at", "id"),
    )
    code: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(200))
    category_id: Mapped[uuid.UUID] = mapped_column()
    pass_mark: Mapped[float] = mapped_column(Float, default=80.0)
    visit_every_days: Mapped[int] = mapped_column(Integer, default=7)
    # Optional per-type override: {"urgent": {"amount": 12, "unit": "hours"}, …}
    deadline_policy: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    deleted_at: Mapped[datetime | None] = mapped_column()


class Checklist(RegionScoped, UUIDId, Timestamps, Base):
    """One published, immutable version of a point type's checklist.

    ``items`` is a list of ``{code, text, points, veto_below, tags}``; a new
    version is a new row, so inspections made against an older one never change.
    """

    __tablename__ = "checklists"
    __table_args__ = (
        _region_fk("point_type_id", table="point_types"),
        UniqueConstraint("region_id", "point_type_id", "version"),
        Index("ix_checklists_region_updated", "region_id", "updated_at", "id"),
    )
    point_type_id: Mapped[uuid.UUID] = mapped_column()
    version: Mapped[int] = mapped_column(Integer)
    items: Mapped[list[dict[str, Any]]] = mapped_column(JSONB)
    max_points: Mapped[float] = mapped_column(Numeric(10, 2))
    published_at: Mapped[datetime] = mapped_column(server_default=func.now())


class SamplePoint(RegionScoped, UUIDId, Versioned, Timestamps, Base):
    """A registered site to inspect.

    ``geo`` is the Mercator point ``(λ, asinh(tan φ))`` in radians (conformal: a
    uniform scale around every point) maintained by PostgreSQL, so a GiST index
    answers "nearest N" by KNN without any extension (see the registry's
    ``sample_points/repository.py`` for how `near` stays exact).
    """

    __tablename__ = "sample_points"
    __table_args__ = (
        ForeignKeyConstraint(["region_id"], ["regions.id"]),
        _region_fk("point_type_id", table="point_types"),
        _region_fk("division_id", table="divisions"),
        _region_fk("unit_id", table="units"),
        UniqueConstraint("region_id", "code"),
        CheckConstraint(f"status in {POINT_STATUSES}", name="status"),
        CheckConstraint("lat between -90 and 90 and lon between -180 and 180", name="lat_lon"),
        Index("ix_sample_points_region_updated", "region_id", "updated_at", "id"),
        Index("ix_sample_points_region_type", "region_id", "point_type_id"),
        Index("ix_sample_points_region_division", "region_id", "division_id"),
        Index("ix_sample_points_region_unit", "region_id", "unit_id"),
        Index("ix_sample_points_geo", "geo", postgresql_using="gist"),
    )
    code: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(200))
    point_type_id: Mapped[uuid.UUID] = mapped_column()
    division_id: Mapped[uuid.UUID] = mapped_column()
    address: Mapped[str] = mapped_column(String(400), default="")
    lat: Mapped[float] = mapped_column(Float)
    lon: Mapped[float] = mapped_column(Float)
    unit_id: Mapped[uuid.UUID] = mapped_column()
    status: Mapped[str] = mapped_column(String(16), default="active")
    deleted_at: Mapped[datetime | None] = mapped_column()
    # Generated by PostgreSQL from lat/lon; never written by the application.
    geo: Mapped[Any] = mapped_column(
        PGPoint(),
        Computed("point(radians(lon), asinh(tan(radians(lat))))", persisted=True),
        deferred=True,
    )


class CalendarDay(RegionScoped, Base):
    """A date that differs from the Mon–Fri week: a holiday, or a make-up working day (调休)."""

    __tablename__ = "calendar_days"
    __table_args__ = (
        ForeignKeyConstraint(["region_id"], ["regions.id"]),
        CheckConstraint(f"kind in {CALENDAR_KINDS}", name="kind"),
    )
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    name: Mapped[str] = mapped_column(String(100), default="")
    updated_at: Mapped[datetime] = mapped_column(server_default=func.now(), onupdate=func.now())


class DeadlinePolicy(RegionScoped, Base):
    """How long a unit has to rectify a case of a severity."""

    __tablename__ = "deadline_policies"
    __table_args__ = (
        ForeignKeyConstraint(["region_id"], ["regions.id"]),
        CheckConstraint(f"severity in {SEVERITIES}", name="severity"),
        CheckConstraint(f"unit in {DEADLINE_UNITS}", name="unit"),
        CheckConstraint("amount > 0", name="amount"),
    )
    severity: Mapped[str] = mapped_column(String(16), primary_key=True)
    amount: Mapped[int] = mapped_column(Integer)
    unit: Mapped[str] = mapped_column(String(16))
    updated_at: Mapped[datetime] = mapped_column(server_default=func.now(), onupdate=func.now())


class ArchiveItem(RegionScoped, UUIDId, Versioned, Timestamps, Base):
    """A document the 创卫 archive must hold for a category."""

    __tablename__ = "archive_items"
    __table_args__ = (
        _region_fk("category_id", table="categories"),
        UniqueConstraint("region_id", "code"),
    )
    category_id: Mapped[uuid.UUID] = mapped_column()
    code: Mapped[str] = mapped_column(String(64))
    title: Mapped[str] = mapped_column(String(300))
    description: Mapped[str] = mapped_column(Text, default="")
    required: Mapped[bool] = mapped_column(Boolean, default=True)


class ArchiveFile(RegionScoped, UUIDId, Base):
    """One uploaded file of an archive item, stored by content hash."""

    __tablename__ = "archive_files"
    __table_args__ = (_region_fk("archive_item_id", table="archive_items", ondelete="CASCADE"),)
    archive_item_id: Mapped[uuid.UUID] = mapped_column()
    filename: Mapped[str] = mapped_column(String(300))
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    uploaded_by: Mapped[uuid.UUID | None] = mapped_column()
    uploaded_at: Mapped[datetime] = mapped_column(server_default=func.now())
