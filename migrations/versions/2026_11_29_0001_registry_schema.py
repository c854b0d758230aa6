"""Registry tables: regions, organisation, standards, point types, checklists,
sample points, calendar, archive.

Revision ID: 0001
Revises: None
Create Date: 2026-11-29
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "regions",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("timezone", sa.String(length=64), nullable=False),
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
        sa.PrimaryKeyConstraint("id", name=op.f("pk_regions")),
        sa.UniqueConstraint("code", name=op.f("uq_regions_code")),
    )
    op.create_table(
        "calendar_days",
        sa.Column("region_id", sa.UUID(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint("kind in ('holiday', 'workday')", name=op.f("ck_calendar_days_kind")),
        sa.ForeignKeyConstraint(
            ["region_id"], ["regions.id"], name=op.f("fk_calendar_days_region_id_regions")
        ),
        sa.PrimaryKeyConstraint("region_id", "day", name=op.f("pk_calendar_days")),
    )
    op.create_table(
        "deadline_policies",
        sa.Column("region_id", sa.UUID(), nullable=False),
        sa.Column("severity", sa.String(length=16), nullable=False),
        sa.Column("amount", sa.Integer(), nullable=False),
        sa.Column("unit", sa.String(length=16), nullable=False),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "severity in ('urgent', 'normal', 'complex')",
            name=op.f("ck_deadline_policies_severity"),
        ),
        sa.CheckConstraint("unit in ('hours', 'workdays')", name=op.f("ck_deadline_policies_unit")),
        sa.CheckConstraint("amount > 0", name=op.f("ck_deadline_policies_amount")),
        sa.ForeignKeyConstraint(
            ["region_id"], ["regions.id"], name=op.f("fk_deadline_policies_region_id_regions")
        ),
        sa.PrimaryKeyConstraint("region_id", "severity", name=op.f("pk_deadline_policies")),
    )
    op.create_table(
        "divisions",
        sa.Column("region_id", sa.UUID(), nullable=False),
        sa.Column("parent_id", sa.UUID(), nullable=True),
        sa.Column("level", sa.String(length=16), nullable=False),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("path", sa.Text(), nullable=False),
        sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("id", sa.UUID(), nullable=False),
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
            "level in ('street', 'community', 'grid')", name=op.f("ck_divisions_level")
        ),
        sa.ForeignKeyConstraint(
            ["region_id", "parent_id"],
            ["divisions.region_id", "divisions.id"],
            name=op.f("fk_divisions_region_id_parent_id_divisions"),
        ),
        sa.ForeignKeyConstraint(
            ["region_id"], ["regions.id"], name=op.f("fk_divisions_region_id_regions")
        ),
        sa.PrimaryKeyConstraint("region_id", "id", name=op.f("pk_divisions")),
        sa.UniqueConstraint("region_id", "code", name=op.f("uq_divisions_region_id_code")),
    )
    op.create_index(
        "ix_divisions_region_path",
        "divisions",
        ["region_id", "path"],
        unique=False,
        postgresql_ops={"path": "text_pattern_ops"},
    )
    op.create_index(
        "ix_divisions_region_updated", "divisions", ["region_id", "updated_at", "id"], unique=False
    )
    op.create_table(
        "standards",
        sa.Column("region_id", sa.UUID(), nullable=False),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("version", sa.String(length=32), nullable=False),
        sa.Column("id", sa.UUID(), nullable=False),
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
        sa.ForeignKeyConstraint(
            ["region_id"], ["regions.id"], name=op.f("fk_standards_region_id_regions")
        ),
        sa.PrimaryKeyConstraint("region_id", "id", name=op.f("pk_standards")),
        sa.UniqueConstraint(
            "region_id", "code", "version", name=op.f("uq_standards_region_id_code_version")
        ),
    )
    op.create_table(
        "units",
        sa.Column("region_id", sa.UUID(), nullable=False),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("contact_phone", sa.String(length=32), nullable=True),
        sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("id", sa.UUID(), nullable=False),
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
            "kind in ('department', 'street_office', 'company', 'other')",
            name=op.f("ck_units_kind"),
        ),
        sa.ForeignKeyConstraint(
            ["region_id"], ["regions.id"], name=op.f("fk_units_region_id_regions")
        ),
        sa.PrimaryKeyConstraint("region_id", "id", name=op.f("pk_units")),
        sa.UniqueConstraint("region_id", "code", name=op.f("uq_units_region_id_code")),
    )
    op.create_index(
        "ix_units_region_updated", "units", ["region_id", "updated_at", "id"], unique=False
    )
    op.create_table(
        "categories",
        sa.Column("region_id", sa.UUID(), nullable=False),
        sa.Column("standard_id", sa.UUID(), nullable=False),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("ordinal", sa.Integer(), nullable=False),
        sa.Column("id", sa.UUID(), nullable=False),
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
        sa.ForeignKeyConstraint(
            ["region_id", "standard_id"],
            ["standards.region_id", "standards.id"],
            name=op.f("fk_categories_region_id_standard_id_standards"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("region_id", "id", name=op.f("pk_categories")),
        sa.UniqueConstraint(
            "region_id",
            "standard_id",
            "code",
            name=op.f("uq_categories_region_id_standard_id_code"),
        ),
    )
    op.create_table(
        "people",
        sa.Column("region_id", sa.UUID(), nullable=False),
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("password_hash", sa.String(length=255), nullable=False),
        sa.Column("display_name", sa.String(length=200), nullable=False),
        sa.Column("phone", sa.String(length=32), nullable=True),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("unit_id", sa.UUID(), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("id", sa.UUID(), nullable=False),
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
            "role <> 'unit' or unit_id is not null", name=op.f("ck_people_unit_role_has_unit")
        ),
        sa.CheckConstraint(
            "role in ('admin', 'inspector', 'unit', 'leader')", name=op.f("ck_people_role")
        ),
        sa.ForeignKeyConstraint(
            ["region_id", "unit_id"],
            ["units.region_id", "units.id"],
            name=op.f("fk_people_region_id_unit_id_units"),
        ),
        sa.ForeignKeyConstraint(
            ["region_id"], ["regions.id"], name=op.f("fk_people_region_id_regions")
        ),
        sa.PrimaryKeyConstraint("region_id", "id", name=op.f("pk_people")),
        sa.UniqueConstraint("username", name=op.f("uq_people_username")),
    )
    op.create_table(
        "archive_items",
        sa.Column("region_id", sa.UUID(), nullable=False),
        sa.Column("category_id", sa.UUID(), nullable=False),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("required", sa.Boolean(), nullable=False),
        sa.Column("id", sa.UUID(), nullable=False),
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
        sa.ForeignKeyConstraint(
            ["region_id", "category_id"],
            ["categories.region_id", "categories.id"],
            name=op.f("fk_archive_items_region_id_category_id_categories"),
        ),
        sa.PrimaryKeyConstraint("region_id", "id", name=op.f("pk_archive_items")),
        sa.UniqueConstraint("region_id", "code", name=op.f("uq_archive_items_region_id_code")),
    )
    op.create_table(
        "chiefs",
        sa.Column("region_id", sa.UUID(), nullable=False),
        sa.Column("person_id", sa.UUID(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("division_id", sa.UUID(), nullable=True),
        sa.Column("road_name", sa.String(length=200), nullable=True),
        sa.Column("id", sa.UUID(), nullable=False),
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
            "(kind = 'road' and road_name is not null) or (kind <> 'road' and division_id is not null)",
            name=op.f("ck_chiefs_patch"),
        ),
        sa.CheckConstraint("kind in ('area', 'grid', 'road')", name=op.f("ck_chiefs_kind")),
        sa.ForeignKeyConstraint(
            ["region_id", "division_id"],
            ["divisions.region_id", "divisions.id"],
            name=op.f("fk_chiefs_region_id_division_id_divisions"),
        ),
        sa.ForeignKeyConstraint(
            ["region_id", "person_id"],
            ["people.region_id", "people.id"],
            name=op.f("fk_chiefs_region_id_person_id_people"),
        ),
        sa.ForeignKeyConstraint(
            ["region_id"], ["regions.id"], name=op.f("fk_chiefs_region_id_regions")
        ),
        sa.PrimaryKeyConstraint("region_id", "id", name=op.f("pk_chiefs")),
    )
    op.create_table(
        "point_types",
        sa.Column("region_id", sa.UUID(), nullable=False),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("category_id", sa.UUID(), nullable=False),
        sa.Column("pass_mark", sa.Float(), nullable=False),
        sa.Column("visit_every_days", sa.Integer(), nullable=False),
        sa.Column("deadline_policy", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("id", sa.UUID(), nullable=False),
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
            "pass_mark >= 0 and pass_mark <= 100", name=op.f("ck_point_types_pass_mark")
        ),
        sa.CheckConstraint("visit_every_days >= 1", name=op.f("ck_point_types_visit_every_days")),
        sa.ForeignKeyConstraint(
            ["region_id", "category_id"],
            ["categories.region_id", "categories.id"],
            name=op.f("fk_point_types_region_id_category_id_categories"),
        ),
        sa.ForeignKeyConstraint(
            ["region_id"], ["regions.id"], name=op.f("fk_point_types_region_id_regions")
        ),
        sa.PrimaryKeyConstraint("region_id", "id", name=op.f("pk_point_types")),
        sa.UniqueConstraint("region_id", "code", name=op.f("uq_point_types_region_id_code")),
    )
    op.create_index(
        "ix_point_types_region_updated",
        "point_types",
        ["region_id", "updated_at", "id"],
        unique=False,
    )
    op.create_table(
        "archive_files",
        sa.Column("region_id", sa.UUID(), nullable=False),
        sa.Column("archive_item_id", sa.UUID(), nullable=False),
        sa.Column("filename", sa.String(length=300), nullable=False),
        sa.Column("content_type", sa.String(length=100), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("uploaded_by", sa.UUID(), nullable=True),
        sa.Column(
            "uploaded_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("id", sa.UUID(), nullable=False),
        sa.ForeignKeyConstraint(
            ["region_id", "archive_item_id"],
            ["archive_items.region_id", "archive_items.id"],
            name=op.f("fk_archive_files_region_id_archive_item_id_archive_items"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("region_id", "id", name=op.f("pk_archive_files")),
    )
    op.create_table(
        "checklists",
        sa.Column("region_id", sa.UUID(), nullable=False),
        sa.Column("point_type_id", sa.UUID(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("items", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("max_points", sa.Numeric(precision=10, scale=2), nullable=False),
        sa.Column(
            "published_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("id", sa.UUID(), nullable=False),
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
        sa.ForeignKeyConstraint(
            ["region_id", "point_type_id"],
            ["point_types.region_id", "point_types.id"],
            name=op.f("fk_checklists_region_id_point_type_id_point_types"),
        ),
        sa.PrimaryKeyConstraint("region_id", "id", name=op.f("pk_checklists")),
        sa.UniqueConstraint(
            "region_id",
            "point_type_id",
            "version",
            name=op.f("uq_checklists_region_id_point_type_id_version"),
        ),
    )
    op.create_index(
        "ix_checklists_region_updated",
        "checklists",
        ["region_id", "updated_at", "id"],
        unique=False,
    )
    op.create_table(
        "sample_points",
        sa.Column("region_id", sa.UUID(), nullable=False),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("point_type_id", sa.UUID(), nullable=False),
        sa.Column("division_id", sa.UUID(), nullable=False),
        sa.Column("address", sa.String(length=400), nullable=False),
        sa.Column("lat", sa.Float(), nullable=False),
        sa.Column("lon", sa.Float(), nullable=False),
        sa.Column("unit_id", sa.UUID(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("id", sa.UUID(), nullable=False),
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
        sa.CheckConstraint("status in ('active', 'retired')", name=op.f("ck_sample_points_status")),
        sa.CheckConstraint(
            "lat between -90 and 90 and lon between -180 and 180",
            name=op.f("ck_sample_points_lat_lon"),
        ),
        sa.ForeignKeyConstraint(
            ["region_id", "division_id"],
            ["divisions.region_id", "divisions.id"],
            name=op.f("fk_sample_points_region_id_division_id_divisions"),
        ),
        sa.ForeignKeyConstraint(
            ["region_id", "point_type_id"],
            ["point_types.region_id", "point_types.id"],
            name=op.f("fk_sample_points_region_id_point_type_id_point_types"),
        ),
        sa.ForeignKeyConstraint(
            ["region_id", "unit_id"],
            ["units.region_id", "units.id"],
            name=op.f("fk_sample_points_region_id_unit_id_units"),
        ),
        sa.ForeignKeyConstraint(
            ["region_id"], ["regions.id"], name=op.f("fk_sample_points_region_id_regions")
        ),
        sa.PrimaryKeyConstraint("region_id", "id", name=op.f("pk_sample_points")),
        sa.UniqueConstraint("region_id", "code", name=op.f("uq_sample_points_region_id_code")),
    )
    # A planar point(lon·cos(lat), lat) kept by PostgreSQL for KNN "nearest" queries.
    op.execute(
        "ALTER TABLE sample_points ADD COLUMN geo point "
        "GENERATED ALWAYS AS (point(lon * cos(radians(lat)), lat)) STORED NOT NULL"
    )
    op.create_index(
        "ix_sample_points_geo", "sample_points", ["geo"], unique=False, postgresql_using="gist"
    )
    op.create_index(
        "ix_sample_points_region_division",
        "sample_points",
        ["region_id", "division_id"],
        unique=False,
    )
    op.create_index(
        "ix_sample_points_region_type",
        "sample_points",
        ["region_id", "point_type_id"],
        unique=False,
    )
    op.create_index(
        "ix_sample_points_region_unit", "sample_points", ["region_id", "unit_id"], unique=False
    )
    op.create_index(
        "ix_sample_points_region_updated",
        "sample_points",
        ["region_id", "updated_at", "id"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index("ix_sample_points_region_updated", table_name="sample_points")
    op.drop_index("ix_sample_points_region_unit", table_name="sample_points")
    op.drop_index("ix_sample_points_region_type", table_name="sample_points")
    op.drop_index("ix_sample_points_region_division", table_name="sample_points")
    op.drop_index("ix_sample_points_geo", table_name="sample_points", postgresql_using="gist")
    op.drop_table("sample_points")
    op.drop_index("ix_checklists_region_updated", table_name="checklists")
    op.drop_table("checklists")
    op.drop_table("archive_files")
    op.drop_index("ix_point_types_region_updated", table_name="point_types")
    op.drop_table("point_types")
    op.drop_table("chiefs")
    op.drop_table("archive_items")
    op.drop_table("people")
    op.drop_table("categories")
    op.drop_index("ix_units_region_updated", table_name="units")
    op.drop_table("units")
    op.drop_table("standards")
    op.drop_index("ix_divisions_region_updated", table_name="divisions")
    op.drop_index(
        "ix_divisions_region_path",
        table_name="divisions",
        postgresql_ops={"path": "text_pattern_ops"},
    )
    op.drop_table("divisions")
    op.drop_table("deadline_policies")
    op.drop_table("calendar_days")
    op.drop_table("regions")
