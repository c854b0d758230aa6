"""The inspections not valid, indexed for the coverage report (issue 13).

``ix_inspections_region_finished_not_valid (region_id, finished_at) INCLUDE
(sample_point_id) WHERE validation <> 'valid'``: the few pending or rejected
inspections. The coverage report counts a point's valid inspections in a period as
all its inspections there — an index-only count on the narrow
``ix_inspections_region_point_finished`` (half the size of the valid-only index,
which also carries the id, score and passed) — less the not-valid ones read here.
Valid rows never enter this index, so the ingest's writes do not pay for it.

Revision ID: 0018
Revises: 0016
Create Date: 2026-12-06
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0018"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        "ix_inspections_region_finished_not_valid",
        "inspections",
        ["region_id", "finished_at"],
        unique=False,
        postgresql_include=["sample_point_id"],
        postgresql_where="validation <> 'valid'",
    )


def downgrade() -> None:
    op.drop_index("ix_inspections_region_finished_not_valid", table_name="inspections")
