"""Inspections tables: photos, inspections, item results, cases and their events.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-29
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "cases",
        sa.Column("region_id", sa.UUID(), nullable=False),
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("sample_point_id", sa.UUID(), nullable=True),
        sa.Column("inspection_id", sa.UUID(), nullable=True),
        sa.Column("item_code", sa.String(length=64), nullable=True),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("category_id", sa.UUID(), nullable=True),
        sa.Column("point_type_id", sa.UUID(), nullable=True),
        sa.Column("division_id", sa.UUID(), nullable=True),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("severity", sa.String(length=16), nullable=False),
        sa.Column("lat", sa.Float(), nullable=True),
        sa.Column("lon", sa.Float(), nullable=True),
        sa.Column("address", sa.String(length=400), nullable=True),
        sa.Column("unit_id", sa.UUID(), nullable=True),
        sa.Column("reporter_id", sa.UUID(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("reported_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("dispatched_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("rectified_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_rectified_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("closed_on_time", sa.Boolean(), nullable=True),
        sa.Column("rework_count", sa.Integer(), nullable=False),
        sa.Column("extension_count", sa.Integer(), nullable=False),
        sa.Column("return_count", sa.Integer(), nullable=False),
        sa.Column("extension_requested_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("extension_requested_due_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("parked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("duplicate_of", sa.UUID(), nullable=True),
        sa.Column("photo_ids", postgresql.ARRAY(sa.UUID()), nullable=False),
        sa.Column("body_hash", sa.String(length=64), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "severity in ('urgent', 'normal', 'complex')", name=op.f("ck_cases_severity")
        ),
        sa.CheckConstraint(
            "source in ('woodpecker', 'expert', 'supervision', 'leader', 'self', 'citizen')",
            name=op.f("ck_cases_source"),
        ),
        sa.CheckConstraint(
            "status in ('reported', 'assigned', 'returned', 'rectified', 'closed', 'cancelled', 'parked')",
            name=op.f("ck_cases_status"),
        ),
        sa.ForeignKeyConstraint(
            ["region_id", "duplicate_of"],
            ["cases.region_id", "cases.id"],
            name=op.f("fk_cases_region_id_duplicate_of_cases"),
        ),
        sa.ForeignKeyConstraint(
            ["region_id"], ["regions.id"], name=op.f("fk_cases_region_id_regions")
        ),
        sa.PrimaryKeyConstraint("region_id", "id", name=op.f("pk_cases")),
    )
    op.create_index("ix_cases_region_due", "cases", ["region_id", "due_at"], unique=False)
    op.create_index(
        "ix_cases_region_inspection", "cases", ["region_id", "inspection_id"], unique=False
    )
    op.create_index(
        "ix_cases_region_point", "cases", ["region_id", "sample_point_id"], unique=False
    )
    op.create_index(
        "ix_cases_region_reported", "cases", ["region_id", "reported_at", "id"], unique=False
    )
    op.create_index(
        "ix_cases_region_status_due", "cases", ["region_id", "status", "due_at"], unique=False
    )
    op.create_index(
        "ix_cases_region_unit_status", "cases", ["region_id", "unit_id", "status"], unique=False
    )
    op.create_table(
        "inspections",
        sa.Column("region_id", sa.UUID(), nullable=False),
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("sample_point_id", sa.UUID(), nullable=False),
        sa.Column("point_type_id", sa.UUID(), nullable=True),
        sa.Column("category_id", sa.UUID(), nullable=True),
        sa.Column("division_id", sa.UUID(), nullable=True),
        sa.Column("unit_id", sa.UUID(), nullable=True),
        sa.Column("checklist_version", sa.Integer(), nullable=False),
        sa.Column("inspector_id", sa.UUID(), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("lat", sa.Float(), nullable=True),
        sa.Column("lon", sa.Float(), nullable=True),
        sa.Column("accuracy_m", sa.Float(), nullable=True),
        sa.Column("distance_m", sa.Float(), nullable=True),
        sa.Column("max_points", sa.Numeric(precision=10, scale=2), nullable=True),
        sa.Column("earned_points", sa.Numeric(precision=10, scale=2), nullable=True),
        sa.Column("score", sa.Numeric(precision=5, scale=2), nullable=True),
        sa.Column("passed", sa.Boolean(), nullable=True),
        sa.Column("vetoed_items", postgresql.ARRAY(sa.String(length=64)), nullable=False),
        sa.Column("off_site", sa.Boolean(), nullable=False),
        sa.Column("suspect_photos", sa.Boolean(), nullable=False),
        sa.Column("health_code_checked", sa.Boolean(), nullable=True),
        sa.Column("temperature_checked", sa.Boolean(), nullable=True),
        sa.Column("masks_worn", sa.Boolean(), nullable=True),
        sa.Column("validation", sa.String(length=16), nullable=False),
        sa.Column("validation_error", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("body", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("body_hash", sa.String(length=64), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("validated_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "source in ('woodpecker', 'expert', 'supervision', 'leader', 'self', 'citizen')",
            name=op.f("ck_inspections_source"),
        ),
        sa.CheckConstraint(
            "validation in ('valid', 'pending', 'rejected')", name=op.f("ck_inspections_validation")
        ),
        sa.ForeignKeyConstraint(
            ["region_id"], ["regions.id"], name=op.f("fk_inspections_region_id_regions")
        ),
        sa.PrimaryKeyConstraint("region_id", "id", name=op.f("pk_inspections")),
    )
    op.create_index(
        "ix_inspections_pending",
        "inspections",
        ["region_id", "created_at"],
        unique=False,
        postgresql_where="validation = 'pending'",
    )
    op.create_index(
        "ix_inspections_region_finished", "inspections", ["region_id", "finished_at"], unique=False
    )
    op.create_index(
        "ix_inspections_region_inspector_finished",
        "inspections",
        ["region_id", "inspector_id", "finished_at"],
        unique=False,
    )
    op.create_index(
        "ix_inspections_region_point_finished",
        "inspections",
        ["region_id", "sample_point_id", "finished_at"],
        unique=False,
    )
    op.create_table(
        "photos",
        sa.Column("region_id", sa.UUID(), nullable=False),
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("content_type", sa.String(length=64), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("taken_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("uploaded_by", sa.UUID(), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["region_id"], ["regions.id"], name=op.f("fk_photos_region_id_regions")
        ),
        sa.PrimaryKeyConstraint("region_id", "id", name=op.f("pk_photos")),
    )
    op.create_index("ix_photos_region_sha256", "photos", ["region_id", "sha256"], unique=False)
    op.create_table(
        "case_events",
        sa.Column("region_id", sa.UUID(), nullable=False),
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("case_id", sa.UUID(), nullable=False),
        sa.Column(
            "at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False
        ),
        sa.Column("actor_id", sa.UUID(), nullable=True),
        sa.Column("action", sa.String(length=32), nullable=False),
        sa.Column("from_status", sa.String(length=16), nullable=True),
        sa.Column("to_status", sa.String(length=16), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("photo_ids", postgresql.ARRAY(sa.UUID()), nullable=False),
        sa.Column("unit_id", sa.UUID(), nullable=True),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "action in ('report', 'dispatch', 'cancel', 'mark_duplicate', 'return', 'request_extension', 'extend', 'rectify', 'verify', 'reject', 'park', 'resume')",
            name=op.f("ck_case_events_action"),
        ),
        sa.ForeignKeyConstraint(
            ["region_id", "case_id"],
            ["cases.region_id", "cases.id"],
            name=op.f("fk_case_events_region_id_case_id_cases"),
        ),
        sa.PrimaryKeyConstraint("region_id", "id", name=op.f("pk_case_events")),
    )
    op.create_index(
        "ix_case_events_region_action_at",
        "case_events",
        ["region_id", "action", "at"],
        unique=False,
    )
    op.create_index(
        "ix_case_events_region_case_at", "case_events", ["region_id", "case_id", "at"], unique=False
    )
    op.create_table(
        "inspection_results",
        sa.Column("region_id", sa.UUID(), nullable=False),
        sa.Column("inspection_id", sa.UUID(), nullable=False),
        sa.Column("item_code", sa.String(length=64), nullable=False),
        sa.Column("outcome", sa.String(length=8), nullable=False),
        sa.Column("grade", sa.Integer(), nullable=True),
        sa.Column("deduction", sa.Numeric(precision=10, scale=2), nullable=True),
        sa.Column("points", sa.Numeric(precision=10, scale=2), nullable=False),
        sa.Column("earned", sa.Numeric(precision=10, scale=2), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("photo_ids", postgresql.ARRAY(sa.UUID()), nullable=False),
        sa.CheckConstraint(
            "outcome in ('pass', 'fail', 'na')", name=op.f("ck_inspection_results_outcome")
        ),
        sa.CheckConstraint(
            "grade is null or (grade between 0 and 10)", name=op.f("ck_inspection_results_grade")
        ),
        sa.ForeignKeyConstraint(
            ["region_id", "inspection_id"],
            ["inspections.region_id", "inspections.id"],
            name=op.f("fk_inspection_results_region_id_inspection_id_inspections"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "region_id", "inspection_id", "item_code", name=op.f("pk_inspection_results")
        ),
    )
    op.create_table(
        "photo_links",
        sa.Column("region_id", sa.UUID(), nullable=False),
        sa.Column("photo_id", sa.UUID(), nullable=False),
        sa.Column("owner_kind", sa.String(length=16), nullable=False),
        sa.Column("owner_id", sa.UUID(), nullable=False),
        sa.CheckConstraint(
            "owner_kind in ('inspection', 'case', 'case_event')",
            name=op.f("ck_photo_links_owner_kind"),
        ),
        sa.ForeignKeyConstraint(
            ["region_id", "photo_id"],
            ["photos.region_id", "photos.id"],
            name=op.f("fk_photo_links_region_id_photo_id_photos"),
        ),
        sa.PrimaryKeyConstraint(
            "region_id", "photo_id", "owner_kind", "owner_id", name=op.f("pk_photo_links")
        ),
    )
    op.create_index(
        "ix_photo_links_owner", "photo_links", ["region_id", "owner_kind", "owner_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_photo_links_owner", table_name="photo_links")
    op.drop_table("photo_links")
    op.drop_table("inspection_results")
    op.drop_index("ix_case_events_region_case_at", table_name="case_events")
    op.drop_index("ix_case_events_region_action_at", table_name="case_events")
    op.drop_table("case_events")
    op.drop_index("ix_photos_region_sha256", table_name="photos")
    op.drop_table("photos")
    op.drop_index("ix_inspections_region_point_finished", table_name="inspections")
    op.drop_index("ix_inspections_region_inspector_finished", table_name="inspections")
    op.drop_index("ix_inspections_region_finished", table_name="inspections")
    op.drop_index(
        "ix_inspections_pending",
        table_name="inspections",
        postgresql_where="validation = 'pending'",
    )
    op.drop_table("inspections")
    op.drop_index("ix_cases_region_unit_status", table_name="cases")
    op.drop_index("ix_cases_region_status_due", table_name="cases")
    op.drop_index("ix_cases_region_reported", table_name="cases")
    op.drop_index("ix_cases_region_point", table_name="cases")
    op.drop_index("ix_cases_region_inspection", table_name="cases")
    op.drop_index("ix_cases_region_due", table_name="cases")
    op.drop_table("cases")
