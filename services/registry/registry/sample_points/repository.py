"""Sample-point queries: filtered keyset lists, delta sync and the KNN `near` search.

Lists select plain columns (no ORM objects) and hand back dicts ready for
JSON: they are the phone's hottest endpoints.

How `near` stays fast and exact without PostGIS
-----------------------------------------------
``geo`` is ``point(lon·cos(lat), lat)`` with a GiST index. Around a query
point this map is linear up to ≈0.1 % inside a district, but it is *sheared*
(x also moves with latitude, by ``lon·sin(lat)`` — about 1 at lon 118°,
lat 28°), so planar distance is only within a factor σ (and 1/σ) of the true
distance; σ is the largest singular value of the local map [[1, -k], [0, 1]],
k = lon_rad·sin(lat). Ordering by planar distance is therefore not the same as
ordering by great-circle distance. The query runs in two phases, in one SQL
statement:

1. KNN (``ORDER BY geo <-> q LIMIT n``) inside the planar circle that holds the
   whole search radius takes the n planar-nearest matching rows; the largest of
   their haversine distances, D, bounds the n-th nearest true distance.
2. Every row with true distance ≤ D lies within planar σ·D of q, so the rows of
   that (small) planar circle are ranked by exact haversine distance.

Both circles are GiST index conditions, so the work is proportional to n, not
to the table. Pages continue after the cursor ``(distance_m, id)``.
"""

from __future__ import annotations

import math
import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import Float, case, func, literal, or_, select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from shared.auth import Principal
from shared.errors import BadRequest, Unprocessable
from shared.listing import keyset_page
from shared.models import Division, SamplePoint
from shared.pagination import decode_cursor, encode_cursor

EARTH_RADIUS_M = 6_371_008.8  # mean Earth radius (IUGG), the one the tests use too
DEG_PER_M = 180.0 / (math.pi * EARTH_RADIUS_M)
MAX_RADIUS_M = 50_000.0
# Slack for the map's curvature over the search circle (≤ 0.2 % at 50 km) and rounding.
MARGIN = 1.02

T = SamplePoint.__table__
COLUMNS = [
    T.c.id,
    T.c.code,
    T.c.name,
    T.c.point_type_id,
    T.c.division_id,
    T.c.address,
    T.c.lat,
    T.c.lon,
    T.c.unit_id,
    T.c.status,
    T.c.version,
    T.c.created_at,
    T.c.updated_at,
    T.c.deleted_at,
]


def row_to_dict(row: Any) -> dict[str, Any]:
    return {
        "id": row.id,
        "code": row.code,
        "name": row.name,
        "point_type_id": row.point_type_id,
        "division_id": row.division_id,
        "address": row.address,
        "lat": row.lat,
        "lon": row.lon,
        "unit_id": row.unit_id,
        "status": row.status,
        "version": row.version,
        "created_at": row.created_at,
        "updated_at": row.updated_at,
        "deleted": row.deleted_at is not None,
    }


def _like_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def scope_filters(
    principal: Principal,
    *,
    point_type_id: uuid.UUID | None = None,
    division_id: uuid.UUID | None = None,
    unit_id: uuid.UUID | None = None,
    status: str | None = None,
    q: str | None = None,
) -> list[Any]:
    """WHERE clauses for the caller's scope and the list filters."""
    conds: list[Any] = [T.c.region_id == principal.region_id]
    if principal.role == "unit":
        conds.append(T.c.unit_id == principal.unit_id)
    if point_type_id is not None:
        conds.append(T.c.point_type_id == point_type_id)
    if unit_id is not None:
        conds.append(T.c.unit_id == unit_id)
    if status is not None:
        conds.append(T.c.status == status)
    if division_id is not None:
        # The whole subtree: every division whose path starts with the named one's path.
        prefix = (
            select(Division.path)
            .where(Division.region_id == principal.region_id, Division.id == division_id)
            .scalar_subquery()
        )
        subtree = select(Division.id).where(
            Division.region_id == principal.region_id,
            Division.path.like(prefix.concat("%")),
        )
        conds.append(T.c.division_id.in_(subtree))
    if q:
        pattern = f"%{_like_escape(q)}%"
        conds.append(
            or_(
                T.c.name.ilike(pattern, escape="\\"),
                T.c.code.ilike(pattern, escape="\\"),
                T.c.address.ilike(pattern, escape="\\"),
            )
        )
    return conds


async def list_points(
    session: AsyncSession,
    conds: list[Any],
    *,
    updated_since: datetime | None,
    cursor: str | None,
    limit: int,
) -> tuple[list[dict[str, Any]], str | None]:
    """By code, live points only; or, for delta sync, every change by ``(updated_at, id)``."""
    stmt = select(*COLUMNS).where(*conds)
    if updated_since is not None:
        stmt = stmt.where(T.c.updated_at >= updated_since)
        order_by = [SamplePoint.updated_at, SamplePoint.id]
        key = lambda row: (row.updated_at, row.id)  # noqa: E731
    else:
        stmt = stmt.where(T.c.deleted_at.is_(None))
        order_by = [SamplePoint.code, SamplePoint.id]
        key = lambda row: (row.code, row.id)  # noqa: E731
    rows, next_cursor = await keyset_page(
        session, stmt, order_by=order_by, cursor=cursor, limit=limit, scalars=False, key=key
    )
    return [row_to_dict(row) for row in rows], next_cursor


def parse_near(value: str) -> tuple[float, float]:
    """``"lat,lon"`` → floats, or a 422 naming the ``near`` parameter."""
    try:
        lat_text, lon_text = value.split(",")
        lat, lon = float(lat_text), float(lon_text)
    except ValueError:
        lat = lon = math.nan
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):
        raise Unprocessable(
            "`near` must be 'lat,lon' with lat in [-90, 90] and lon in [-180, 180].",
            errors=[{"loc": ["query", "near"], "msg": "expected lat,lon within range"}],
        )
    return lat, lon


def shear_factor(lat: float, lon: float) -> float:
    """σ: how much longer (or, as 1/σ, shorter) a planar distance can be than the true one near (lat, lon)."""
    k = abs(math.radians(lon) * math.sin(math.radians(lat)))
    trace = 2 + k * k
    return math.sqrt((trace + math.sqrt(trace * trace - 4)) / 2)


def haversine_sql(lat: float, lon: float):
    """Great-circle distance in metres from (lat, lon) to each row, as SQL."""
    phi = math.radians(lat)
    lam = math.radians(lon)
    d_phi = (func.radians(T.c.lat) - phi) / 2
    d_lam = (func.radians(T.c.lon) - lam) / 2
    a = func.power(func.sin(d_phi), 2) + func.cos(func.radians(T.c.lat)) * math.cos(
        phi
    ) * func.power(func.sin(d_lam), 2)
    return (2 * EARTH_RADIUS_M) * func.asin(func.sqrt(func.least(literal(1.0, Float), a)))


async def near_points(
    session: AsyncSession,
    conds: list[Any],
    *,
    lat: float,
    lon: float,
    radius_m: float,
    cursor: str | None,
    limit: int,
) -> tuple[list[dict[str, Any]], str | None]:
    """Live points within ``radius_m`` of (lat, lon), nearest first, each with ``distance_m``."""
    sigma = shear_factor(lat, lon) * MARGIN
    query_point = func.point(literal(lon * math.cos(math.radians(lat)), Float), literal(lat, Float))
    geo = T.c.geo
    distance = haversine_sql(lat, lon)
    base = [*conds, T.c.deleted_at.is_(None), distance <= radius_m]
    after = decode_cursor(cursor, size=2)
    if after is not None:
        try:
            after_distance, after_id = float(after[0]), uuid.UUID(str(after[1]))
        except (TypeError, ValueError):
            after_distance, after_id = None, None
        if after_id is None:
            raise BadRequest("The cursor is not valid for this list; start again without it.")
        base.append(tuple_(distance, T.c.id) > tuple_(literal(after_distance, Float), after_id))

    n = limit + 1
    outer_radius_deg = radius_m * DEG_PER_M * sigma
    candidates = (
        select(distance.label("distance_m"))
        .where(*base, geo.op("<@")(func.circle(query_point, literal(outer_radius_deg, Float))))
        .order_by(geo.op("<->")(query_point))
        .limit(n)
        .cte("candidates")
    )
    bound = select(
        case(
            (func.count() < n, outer_radius_deg),
            else_=func.least(
                outer_radius_deg, func.max(candidates.c.distance_m) * (DEG_PER_M * sigma)
            ),
        )
    ).scalar_subquery()
    stmt = (
        select(*COLUMNS, distance.label("distance_m"))
        .where(*base, geo.op("<@")(func.circle(query_point, bound)))
        .order_by(distance, T.c.id)
        .limit(n)
    )
    rows = (await session.execute(stmt)).all()
    next_cursor = None
    if len(rows) > limit:
        rows = rows[:limit]
        next_cursor = encode_cursor([rows[-1].distance_m, str(rows[-1].id)])
    items = []
    for row in rows:
        item = row_to_dict(row)
        item["distance_m"] = row.distance_m
        items.append(item)
    return items, next_cursor
