"""Reporting tables: report settings, black/red list entries, notices, accountability runs.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-29
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "accountability_runs",
        sa.Column("region_id", sa.UUID(), nullable=False),
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("period", sa.String(length=7), nullable=False),
        sa.Column("trigger", sa.String(length=16), nullable=False),
        sa.Column(
            "started_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("notices_created", sa.Integer(), nullable=False),
        sa.Column("actor_id", sa.UUID(), nullable=True),
        sa.ForeignKeyConstraint(
            ["region_id"], ["regions.id"], name=op.f("fk_accountability_runs_region_id_regions")
        ),
        sa.PrimaryKeyConstraint("region_id", "id", name=op.f("pk_accountability_runs")),
    )
    op.create_table(
        "blacklist_entries",
        sa.Column("region_id", sa.UUID(), nullable=False),
        sa.Column("period", sa.String(length=7), nullable=False),
        sa.Column("unit_id", sa.UUID(), nullable=False),
        sa.Column("list", sa.String(length=8), nullable=False),
        sa.Column("on_time_rate", sa.Numeric(precision=6, scale=4), nullable=True),
        sa.Column("closed_on_time", sa.Integer(), nullable=False),
        sa.Column("due", sa.Integer(), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint("list in ('red', 'black')", name=op.f("ck_blacklist_entries_list")),
        sa.ForeignKeyConstraint(
            ["region_id"], ["regions.id"], name=op.f("fk_blacklist_entries_region_id_regions")
        ),
        sa.PrimaryKeyConstraint(
            "region_id", "period", "unit_id", name=op.f("pk_blacklist_entries")
        ),
    )
    op.create_table(
        "notices",
        sa.Column("region_id", sa.UUID(), nullable=False),
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("unit_id", sa.UUID(), nullable=True),
        sa.Column("person_id", sa.UUID(), nullable=True),
        sa.Column("level", sa.String(length=16), nullable=False),
        sa.Column("rule", sa.String(length=64), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("period", sa.String(length=7), nullable=False),
        sa.Column("case_ids", postgresql.ARRAY(sa.UUID()), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("acknowledged_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("acknowledged_by", sa.UUID(), nullable=True),
        sa.CheckConstraint(
            "level in ('notice', 'interview', 'accountability')", name=op.f("ck_notices_level")
        ),
        sa.CheckConstraint(
            "unit_id is not null or person_id is not null", name=op.f("ck_notices_target")
        ),
        sa.ForeignKeyConstraint(
            ["region_id"], ["regions.id"], name=op.f("fk_notices_region_id_regions")
        ),
        sa.PrimaryKeyConstraint("region_id", "id", name=op.f("pk_notices")),
        sa.UniqueConstraint(
            "region_id",
            "period",
            "rule",
            "unit_id",
            "person_id",
            name="uq_notices_region_period_rule_target",
            postgresql_nulls_not_distinct=True,
        ),
    )
    op.create_index(
        "ix_notices_region_created", "notices", ["region_id", "created_at", "id"], unique=False
    )
    op.create_table(
        "report_settings",
        sa.Column("region_id", sa.UUID(), nullable=False),
        sa.Column("score_weights", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("min_cases", sa.Integer(), nullable=False),
        sa.Column("inspector_quota", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("accountability_rules", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
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
            ["region_id"], ["regions.id"], name=op.f("fk_report_settings_region_id_regions")
        ),
        sa.PrimaryKeyConstraint("region_id", name=op.f("pk_report_settings")),
    )


def downgrade() -> None:
    op.drop_table("report_settings")
    op.drop_index("ix_notices_region_created", table_name="notices")
    op.drop_table("notices")
    op.drop_table("blacklist_entries")
    op.drop_table("accountability_runs")
