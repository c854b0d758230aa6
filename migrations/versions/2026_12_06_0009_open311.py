"""Open311 GeoReport v2 facade (issue 12): integrators' API keys, the reports posted
through it, and the duplicate candidates a citizen's report lists on its case.

* ``open311_api_keys``: one per integrator, bound to a region, kept as sha256 only;
* ``open311_requests``: the case each posted report became, its idempotency key, its
  ``media_url`` and the reporter's contact details (never published);
* ``cases.duplicate_candidates``: open cases of the same point type within 50 m;
* ``ix_cases_region_type_open_lat``: the index that nearby search walks.

All owned and written by the inspections service.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-06
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OPEN_STATUSES = "('reported', 'assigned', 'returned', 'rectified', 'parked')"


def upgrade() -> None:
    op.create_table(
        "open311_api_keys",
        sa.Column("region_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("key_hash", sa.String(64), nullable=False),
        sa.Column("key_prefix", sa.String(16), nullable=False),
        sa.Column("created_by", sa.Uuid(), nullable=True),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_by", sa.Uuid(), nullable=True),
        sa.ForeignKeyConstraint(
            ["region_id"], ["regions.id"], name="fk_open311_api_keys_region_id_regions"
        ),
        sa.PrimaryKeyConstraint("region_id", "id", name="pk_open311_api_keys"),
        sa.UniqueConstraint("key_hash", name="uq_open311_api_keys_key_hash"),
    )
    op.create_table(
        "open311_requests",
        sa.Column("region_id", sa.Uuid(), nullable=False),
        sa.Column("case_id", sa.Uuid(), nullable=False),
        sa.Column("api_key_id", sa.Uuid(), nullable=False),
        sa.Column("idempotency_key", sa.String(200), nullable=True),
        sa.Column("body_hash", sa.String(64), nullable=False),
        sa.Column("service_code", sa.String(64), nullable=False),
        sa.Column("media_url", sa.Text(), nullable=True),
        sa.Column(
            "contact",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default="{}",
            nullable=False,
        ),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.ForeignKeyConstraint(
            ["region_id", "case_id"],
            ["cases.region_id", "cases.id"],
            name="fk_open311_requests_region_id_case_id_cases",
        ),
        sa.ForeignKeyConstraint(
            ["region_id", "api_key_id"],
            ["open311_api_keys.region_id", "open311_api_keys.id"],
            name="fk_open311_requests_region_id_api_key_id_open311_api_keys",
        ),
        sa.PrimaryKeyConstraint("region_id", "case_id", name="pk_open311_requests"),
        sa.UniqueConstraint(
            "region_id",
            "api_key_id",
            "idempotency_key",
            name="uq_open311_requests_region_id_api_key_id_idempotency_key",
        ),
    )
    op.create_index(
        "ix_open311_requests_region_created", "open311_requests", ["region_id", "created_at"]
    )
    op.add_column(
        "cases",
        sa.Column(
            "duplicate_candidates",
            postgresql.ARRAY(sa.Uuid()),
            server_default="{}",
            nullable=False,
        ),
    )
    op.create_index(
        "ix_cases_region_type_open_lat",
        "cases",
        ["region_id", "point_type_id", "lat"],
        postgresql_include=["lon"],
        postgresql_where=sa.text(f"status IN {OPEN_STATUSES}"),
    )


def downgrade() -> None:
    op.drop_index("ix_cases_region_type_open_lat", table_name="cases")
    op.drop_column("cases", "duplicate_candidates")
    op.drop_index("ix_open311_requests_region_created", table_name="open311_requests")
    op.drop_table("open311_requests")
    op.drop_table("open311_api_keys")
