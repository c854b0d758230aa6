"""`near` on a Mercator plane (issue 13): ``sample_points.geo`` becomes ``(λ, asinh(tan φ))``.

The old ``point(lon·cos(lat), lat)`` is sheared far from longitude 0 (at 118°E,
28°N a planar circle had to be ≈1.6× the true one to be safe), so the exact
`near` query ranked ≈6× the rows it returns. Mercator is conformal — a uniform
scale around every point — so a planar circle only ≈1.0003× the true one is
safe and the KNN scan's own rows nearly always settle the answer (see
``registry/sample_points/repository.py``). ``asinh(tan φ)`` rather than
``ln(tan(π/4 + φ/2))``: finite at both poles, which the lat check allows.

Rewrites ``sample_points`` once (a stored generated column) and rebuilds its GiST index.

Revision ID: 0015
Revises: 0011
Create Date: 2026-12-06
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0015"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

MERCATOR = "point(radians(lon), asinh(tan(radians(lat))))"
EQUIRECTANGULAR = "point(lon * cos(radians(lat)), lat)"


def _geo(expression: str) -> None:
    # Dropping the column drops its index; both come back in one table rewrite.
    op.execute("ALTER TABLE sample_points DROP COLUMN geo")
    op.execute(
        f"ALTER TABLE sample_points ADD COLUMN geo point GENERATED ALWAYS AS ({expression}) STORED NOT NULL"
    )
    op.create_index(
        "ix_sample_points_geo", "sample_points", ["geo"], unique=False, postgresql_using="gist"
    )


def upgrade() -> None:
    _geo(MERCATOR)


def downgrade() -> None:
    _geo(EQUIRECTANGULAR)
