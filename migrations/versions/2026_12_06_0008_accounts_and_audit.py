"""Accounts and audit (issue 8): token versions, the audit trail and ``updated_by``.

* ``people.token_version``: bumped when a person is deactivated, changes role or
  unit, or gets a new password; a token carrying an older version is refused.
* ``audit_events``: one row per change of an audited record (registry records,
  report settings), written in the same transaction as the change: who, when,
  which record and the changed fields (before → after). Written by every service
  through ``shared.audit``; never updated.
* ``updated_by`` on every table with ``updated_at``: the person who last changed it.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-06
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UPDATED_BY_TABLES = (
    "regions",
    "divisions",
    "units",
    "people",
    "chiefs",
    "standards",
    "categories",
    "point_types",
    "checklists",
    "sample_points",
    "archive_items",
    "cases",
    "report_settings",
)


def upgrade() -> None:
    op.add_column(
        "people",
        sa.Column("token_version", sa.Integer(), nullable=False, server_default="1"),
    )
    for table in UPDATED_BY_TABLES:
        op.add_column(table, sa.Column("updated_by", postgresql.UUID(as_uuid=True)))
    op.create_table(
        "audit_events",
        sa.Column("region_id", postgresql.UUID(as_uuid=True), nullable=False),
        sa.Column("id", postgresql.UUID(as_uuid=True), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor_id", postgresql.UUID(as_uuid=True)),
        sa.Column("actor_role", sa.String(16), nullable=False),
        sa.Column("service", sa.String(16), nullable=False),
        sa.Column("record_type", sa.String(32), nullable=False),
        sa.Column("record_id", sa.String(64), nullable=False),
        sa.Column("action", sa.String(8), nullable=False),
        sa.Column("changes", postgresql.JSONB(), nullable=False),
        sa.PrimaryKeyConstraint("region_id", "id", name="pk_audit_events"),
        sa.ForeignKeyConstraint(
            ["region_id"], ["regions.id"], name="fk_audit_events_region_id_regions"
        ),
        sa.CheckConstraint(
            "action in ('create', 'update', 'delete')", name="ck_audit_events_action"
        ),
    )
    op.create_index("ix_audit_events_region_at", "audit_events", ["region_id", "at", "id"])
    op.create_index(
        "ix_audit_events_region_record",
        "audit_events",
        ["region_id", "record_type", "record_id", "at"],
    )


def downgrade() -> None:
    op.drop_table("audit_events")
    for table in UPDATED_BY_TABLES:
        op.drop_column(table, "updated_by")
    op.drop_column("people", "token_version")
