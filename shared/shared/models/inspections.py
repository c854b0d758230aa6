"""Tables owned (written) by the inspections service. Reporting reads them with SQL."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, get_args

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Float,
    ForeignKeyConstraint,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    func,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, UUID
from sqlalchemy.orm import Mapped, mapped_column

from shared import vocabulary
from shared.models.base import Base, RegionScoped, Timestamps, Versioned
from shared.models.registry import SEVERITIES

SOURCES = get_args(vocabulary.CaseSource)
OUTCOMES = get_args(vocabulary.Outcome)
VALIDATION_STATES = get_args(vocabulary.ValidationState)
CASE_STATUSES = get_args(vocabulary.CaseStatus)
# Still in the workflow: neither closed nor cancelled.
OPEN_STATUSES = ("reported", "assigned", "returned", "rectified", "parked")
# "report" is the event that opens a case; it is not an action anyone can take.
CASE_ACTIONS = ("report", *get_args(vocabulary.CaseActionName))


class Photo(RegionScoped, Base):
    """A photo uploaded by client id; the bytes live in blob storage under ``sha256``."""

    __tablename__ = "photos"
    __table_args__ = (
        ForeignKeyConstraint(["region_id"], ["regions.id"]),
        Index("ix_photos_region_sha256", "region_id", "sha256"),
    )
    id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    sha256: Mapped[str] = mapped_column(String(64))
    content_type: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(Integer)
    taken_at: Mapped[datetime | None] = mapped_column()  # from EXIF, when present
    uploaded_by: Mapped[uuid.UUID] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())


class PhotoLink(RegionScoped, Base):
    """Which record uses a photo: decides who may read it and detects reused bytes."""

    __tablename__ = "photo_links"
    __table_args__ = (
        ForeignKeyConstraint(["region_id", "photo_id"], ["photos.region_id", "photos.id"]),
        CheckConstraint("owner_kind in ('inspection', 'case', 'case_event')", name="owner_kind"),
        Index("ix_photo_links_owner", "region_id", "owner_kind", "owner_id"),
    )
    photo_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    owner_kind: Mapped[str] = mapped_column(String(16), primary_key=True)
    owner_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)


class Inspection(RegionScoped, Base):
    """One visit to one sample point, scored against one checklist version.

    ``validation='pending'`` rows were accepted while the registry was down:
    ``body`` holds the submission until the retry loop validates it.
    """

    __tablename__ = "inspections"
    __table_args__ = (
        ForeignKeyConstraint(["region_id"], ["regions.id"]),
        CheckConstraint(f"source in {SOURCES}", name="source"),
        CheckConstraint(f"validation in {VALIDATION_STATES}", name="validation"),
        Index(
            "ix_inspections_region_point_finished", "region_id", "sample_point_id", "finished_at"
        ),
        Index("ix_inspections_region_finished", "region_id", "finished_at"),
        Index(
            "ix_inspections_region_point_valid",
            "region_id",
            "sample_point_id",
            "finished_at",
            "id",
            postgresql_include=["score", "passed"],
            postgresql_where="validation = 'valid'",
        ),
        Index(
            "ix_inspections_region_inspector_finished", "region_id", "inspector_id", "finished_at"
        ),
        # Added by migration 0012: the rows created after a report rollup run.
        Index("ix_inspections_region_created", "region_id", "created_at"),
        Index(
            "ix_inspections_pending",
            "region_id",
            "created_at",
            postgresql_where="validation = 'pending'",
        ),
        # Added by migration 0018: the few inspections not valid (pending, rejected), so
        # the coverage report counts a point's valid ones as all of them (an index-only
        # count on the narrow ix_inspections_region_point_finished) less these.
        Index(
            "ix_inspections_region_finished_not_valid",
            "region_id",
            "finished_at",
            postgresql_include=["sample_point_id"],
            postgresql_where="validation <> 'valid'",
        ),
    )
    id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    sample_point_id: Mapped[uuid.UUID] = mapped_column()
    point_type_id: Mapped[uuid.UUID | None] = mapped_column()
    category_id: Mapped[uuid.UUID | None] = mapped_column()
    division_id: Mapped[uuid.UUID | None] = mapped_column()
    unit_id: Mapped[uuid.UUID | None] = mapped_column()
    checklist_version: Mapped[int] = mapped_column(Integer)
    inspector_id: Mapped[uuid.UUID] = mapped_column()
    source: Mapped[str] = mapped_column(String(16))
    started_at: Mapped[datetime] = mapped_column()
    finished_at: Mapped[datetime] = mapped_column()
    lat: Mapped[float | None] = mapped_column(Float)
    lon: Mapped[float | None] = mapped_column(Float)
    accuracy_m: Mapped[float | None] = mapped_column(Float)
    distance_m: Mapped[float | None] = mapped_column(Float)
    max_points: Mapped[float | None] = mapped_column(Numeric(10, 2))
    earned_points: Mapped[float | None] = mapped_column(Numeric(10, 2))
    score: Mapped[float | None] = mapped_column(Numeric(5, 2))
    passed: Mapped[bool | None] = mapped_column(Boolean)
    vetoed_items: Mapped[list[str]] = mapped_column(ARRAY(String(64)), default=list)
    off_site: Mapped[bool] = mapped_column(Boolean, default=False)
    suspect_photos: Mapped[bool] = mapped_column(Boolean, default=False)
    health_code_checked: Mapped[bool | None] = mapped_column(Boolean)
    temperature_checked: Mapped[bool | None] = mapped_column(Boolean)
    masks_worn: Mapped[bool | None] = mapped_column(Boolean)
    validation: Mapped[str] = mapped_column(String(16), default="valid")
    validation_error: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    body: Mapped[dict[str, Any]] = mapped_column(JSONB)
    body_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())
    validated_at: Mapped[datetime | None] = mapped_column()


class InspectionResult(RegionScoped, Base):
    """One checklist item's result inside an inspection."""

    __tablename__ = "inspection_results"
    __table_args__ = (
        ForeignKeyConstraint(
            ["region_id", "inspection_id"],
            ["inspections.region_id", "inspections.id"],
            ondelete="CASCADE",
        ),
        CheckConstraint(f"outcome in {OUTCOMES}", name="outcome"),
        CheckConstraint("grade is null or (grade between 0 and 10)", name="grade"),
    )
    inspection_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    item_code: Mapped[str] = mapped_column(String(64), primary_key=True)
    outcome: Mapped[str] = mapped_column(String(8))
    grade: Mapped[int | None] = mapped_column(Integer)
    deduction: Mapped[float | None] = mapped_column(Numeric(10, 2))
    points: Mapped[float] = mapped_column(Numeric(10, 2))
    earned: Mapped[float | None] = mapped_column(Numeric(10, 2))
    note: Mapped[str | None] = mapped_column(Text)
    photo_ids: Mapped[list[uuid.UUID]] = mapped_column(ARRAY(UUID(as_uuid=True)), default=list)


# The state columns the reports read from the covering indexes of migration 0006.
_CASE_STATE = [
    "status",
    "due_at",
    "dispatched_at",
    "reported_at",
    "last_rectified_at",
    "closed_on_time",
]


class Case(RegionScoped, Versioned, Timestamps, Base):
    """One problem to rectify, with its workflow state and deadline.

    ``last_rectified_at`` is the time of the latest ``rectify``; a case closed
    with ``last_rectified_at <= due_at`` closed on time (``closed_on_time``).
    """

    __tablename__ = "cases"
    __table_args__ = (
        ForeignKeyConstraint(["region_id"], ["regions.id"]),
        ForeignKeyConstraint(["region_id", "duplicate_of"], ["cases.region_id", "cases.id"]),
        CheckConstraint(f"status in {CASE_STATUSES}", name="status"),
        CheckConstraint(f"severity in {SEVERITIES}", name="severity"),
        CheckConstraint(f"source in {SOURCES}", name="source"),
        Index("ix_cases_region_unit_status", "region_id", "unit_id", "status"),
        Index("ix_cases_region_status_due", "region_id", "status", "due_at"),
        # The case list's order and the reports' index-only reads (migration 0020).
        Index(
            "ix_cases_region_reported",
            "region_id",
            "reported_at",
            "id",
            postgresql_include=["unit_id", "due_at", "status"],
        ),
        Index("ix_cases_region_due", "region_id", "due_at"),
        Index("ix_cases_region_point", "region_id", "sample_point_id"),
        Index("ix_cases_region_inspection", "region_id", "inspection_id"),
        Index(
            "ix_cases_region_closed_cover",
            "region_id",
            "closed_at",
            postgresql_include=["unit_id", *_CASE_STATE],
            postgresql_where="closed_at IS NOT NULL",
        ),
        Index(
            "ix_cases_region_unclosed_held",
            "region_id",
            "unit_id",
            postgresql_include=_CASE_STATE,
            postgresql_where="closed_at IS NULL AND status IN ('assigned', 'rectified', 'closed')",
        ),
        Index(
            "ix_cases_region_point_open",
            "region_id",
            "sample_point_id",
            postgresql_where="status IN ('reported', 'assigned', 'returned', 'rectified')",
        ),
        Index("ix_cases_region_reporter_reported", "region_id", "reporter_id", "reported_at"),
        # Added by migration 0011: the notification scheduler's due_soon/overdue sweep.
        Index("ix_cases_assigned_due", "due_at", postgresql_where="status = 'assigned'"),
        Index(
            "ix_cases_region_type_open_lat",
            "region_id",
            "point_type_id",
            "lat",
            postgresql_include=["lon"],
            postgresql_where=f"status IN {OPEN_STATUSES}",
        ),
        # Added by migration 0012 (the reports' daily rollup): the rows created after a
        # rollup run (counted live), and the cases whose status can still change.
        Index("ix_cases_region_created", "region_id", "created_at"),
        Index(
            "ix_cases_region_reported_unclosed",
            "region_id",
            "reported_at",
            postgresql_include=[
                "status",
                "due_at",
                "category_id",
                "point_type_id",
                "source",
                "severity",
                "reporter_id",
                "item_code",
                "inspection_id",
            ],
            postgresql_where="status <> 'closed'",
        ),
        # Added by migration 0017 (the chiefs report's rollup): closures ahead of their
        # deadline by deadline — the few closed cases whose deadline lies across a
        # period's start or end, found without reading every closure; with their patch
        # key (0019), added up from the index alone.
        Index(
            "ix_cases_region_closed_early",
            "region_id",
            "due_at",
            postgresql_include=[
                "closed_at",
                "created_at",
                "division_id",
                "sample_point_id",
                "address",
            ],
            postgresql_where="status = 'closed' AND closed_at < due_at",
        ),
        # The cases whose status can still change (neither closed nor cancelled), read
        # live by the chiefs report from the index alone.
        Index(
            "ix_cases_region_reported_changing",
            "region_id",
            "reported_at",
            postgresql_include=[
                "division_id",
                "sample_point_id",
                "address",
                "unit_id",
                "status",
                "due_at",
                "closed_at",
                "dispatched_at",
                "last_rectified_at",
                "closed_on_time",
            ],
            postgresql_where="status NOT IN ('closed', 'cancelled')",
        ),
        Index(
            "ix_cases_region_id_cover",
            "region_id",
            "id",
            postgresql_include=["unit_id", "due_at", "status"],
        ),
        # Added by migration 0016: the cases cancelled after a dispatch, whose events the
        # units report subtracts from its stored days.
        Index(
            "ix_cases_region_cancelled_dispatched",
            "region_id",
            postgresql_where="status = 'cancelled' AND dispatched_at IS NOT NULL",
        ),
    )
    id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    sample_point_id: Mapped[uuid.UUID | None] = mapped_column()
    inspection_id: Mapped[uuid.UUID | None] = mapped_column()
    item_code: Mapped[str | None] = mapped_column(String(64))
    source: Mapped[str] = mapped_column(String(16))
    category_id: Mapped[uuid.UUID | None] = mapped_column()
    point_type_id: Mapped[uuid.UUID | None] = mapped_column()
    division_id: Mapped[uuid.UUID | None] = mapped_column()
    description: Mapped[str] = mapped_column(Text)
    severity: Mapped[str] = mapped_column(String(16))
    lat: Mapped[float | None] = mapped_column(Float)
    lon: Mapped[float | None] = mapped_column(Float)
    address: Mapped[str | None] = mapped_column(String(400))
    unit_id: Mapped[uuid.UUID | None] = mapped_column()
    reporter_id: Mapped[uuid.UUID | None] = mapped_column()
    status: Mapped[str] = mapped_column(String(16))
    due_at: Mapped[datetime | None] = mapped_column()
    reported_at: Mapped[datetime] = mapped_column()
    dispatched_at: Mapped[datetime | None] = mapped_column()
    rectified_at: Mapped[datetime | None] = mapped_column()
    last_rectified_at: Mapped[datetime | None] = mapped_column()
    closed_at: Mapped[datetime | None] = mapped_column()
    closed_on_time: Mapped[bool | None] = mapped_column(Boolean)
    rework_count: Mapped[int] = mapped_column(Integer, default=0)
    extension_count: Mapped[int] = mapped_column(Integer, default=0)
    return_count: Mapped[int] = mapped_column(Integer, default=0)
    extension_requested_at: Mapped[datetime | None] = mapped_column()
    extension_requested_due_at: Mapped[datetime | None] = mapped_column()
    parked_at: Mapped[datetime | None] = mapped_column()
    duplicate_of: Mapped[uuid.UUID | None] = mapped_column()
    # Open cases of the same point type within 50 m when a citizen's report came in
    # (Open311); the admin decides with mark_duplicate.
    duplicate_candidates: Mapped[list[uuid.UUID]] = mapped_column(
        ARRAY(UUID(as_uuid=True)), server_default="{}"
    )
    photo_ids: Mapped[list[uuid.UUID]] = mapped_column(ARRAY(UUID(as_uuid=True)), default=list)
    body_hash: Mapped[str | None] = mapped_column(String(64))


class CaseEvent(RegionScoped, Base):
    """An immutable step in a case's history; never updated or deleted."""

    __tablename__ = "case_events"
    __table_args__ = (
        ForeignKeyConstraint(["region_id", "case_id"], ["cases.region_id", "cases.id"]),
        CheckConstraint(f"action in {CASE_ACTIONS}", name="action"),
        Index("ix_case_events_region_case_at", "region_id", "case_id", "at"),
        Index(
            "ix_case_events_region_action_at_report",
            "region_id",
            "action",
            "at",
            postgresql_include=["case_id", "unit_id", "from_status", "id"],
        ),
    )
    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    case_id: Mapped[uuid.UUID] = mapped_column()
    at: Mapped[datetime] = mapped_column(server_default=func.now())
    actor_id: Mapped[uuid.UUID | None] = mapped_column()
    action: Mapped[str] = mapped_column(String(32))
    from_status: Mapped[str | None] = mapped_column(String(16))
    to_status: Mapped[str] = mapped_column(String(16))
    note: Mapped[str | None] = mapped_column(Text)
    photo_ids: Mapped[list[uuid.UUID]] = mapped_column(ARRAY(UUID(as_uuid=True)), default=list)
    unit_id: Mapped[uuid.UUID | None] = mapped_column()
    due_at: Mapped[datetime | None] = mapped_column()
