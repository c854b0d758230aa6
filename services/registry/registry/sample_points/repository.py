"""Sample-point queries: filtered keyset lists, delta sync and the KNN `near` search.

These are the phone's hottest endpoints, so they avoid per-request Python work:
the SQL text is built once per combination of filters (``lru_cache``) and
PostgreSQL renders each row as JSON (``json_build_object``), so Python only
joins byte strings. Single-record reads use the ORM as usual.

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

import functools
import math
import re
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import asyncpg

from shared.auth import Principal
from shared.errors import BadRequest, Unprocessable
from shared.pagination import decode_cursor, encode_cursor

EARTH_RADIUS_M = 6_371_008.8  # mean Earth radius (IUGG), the one the tests use too
DEG_PER_M = 180.0 / (math.pi * EARTH_RADIUS_M)
MAX_RADIUS_M = 50_000.0
# Slack for the map's curvature over the search circle (≤ 0.2 % at 50 km) and rounding.
MARGIN = 1.02


def row_to_dict(row: Any) -> dict[str, Any]:
    """A sample point (ORM object or row) as its wire dict; same fields as ``ROW_JSON``."""
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


# The session runs in UTC, so timestamps render as RFC 3339 with "+00:00".
ROW_JSON = """json_build_object(
    'id', sp.id, 'code', sp.code, 'name', sp.name, 'point_type_id', sp.point_type_id,
    'division_id', sp.division_id, 'address', sp.address, 'lat', sp.lat, 'lon', sp.lon,
    'unit_id', sp.unit_id, 'status', sp.status, 'version', sp.version,
    'created_at', sp.created_at, 'updated_at', sp.updated_at,
    'deleted', sp.deleted_at IS NOT NULL"""


@dataclass(frozen=True)
class Filters:
    """The list filters in the caller's scope: which are present (the SQL shape) and their values."""

    unit: bool = False
    point_type: bool = False
    status: bool = False
    division: bool = False
    q: bool = False
    params: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)

    @property
    def shape(self) -> tuple[bool, ...]:
        return (self.unit, self.point_type, self.status, self.division, self.q)


def _like_escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def scope_filters(
    principal: Principal,
    *,
    point_type_id: uuid.UUID | None = None,
    division_id: uuid.UUID | None = None,
    unit_id: uuid.UUID | None = None,
    status: str | None = None,
    q: str | None = None,
) -> Filters:
    """The caller's region (and unit, for unit accounts) plus the list filters."""
    params: dict[str, Any] = {"region_id": principal.region_id}
    unit_ids = []
    if principal.role == "unit":
        unit_ids.append(principal.unit_id)
    if unit_id is not None:
        unit_ids.append(unit_id)
    if len(set(unit_ids)) > 1:
        params["unit_id"] = None  # another unit than the caller's own: matches nothing
    elif unit_ids:
        params["unit_id"] = unit_ids[0]
    if point_type_id is not None:
        params["point_type_id"] = point_type_id
    if status is not None:
        params["status"] = status
    if division_id is not None:
        params["division_id"] = division_id
    if q:
        params["q"] = f"%{_like_escape(q)}%"
    return Filters(
        unit="unit_id" in params,
        point_type=point_type_id is not None,
        status=status is not None,
        division=division_id is not None,
        q=bool(q),
        params=params,
    )


def _where(shape: tuple[bool, ...]) -> list[str]:
    unit, point_type, status, division, q = shape
    clauses = ["sp.region_id = :region_id"]
    if unit:
        clauses.append("sp.unit_id = :unit_id")
    if point_type:
        clauses.append("sp.point_type_id = :point_type_id")
    if status:
        clauses.append("sp.status = :status")
    if division:
        # The whole subtree: every division whose path starts with the named one's path.
        clauses.append(
            "sp.division_id IN (SELECT d.id FROM divisions d WHERE d.region_id = :region_id"
            " AND d.path LIKE (SELECT p.path FROM divisions p"
            " WHERE p.region_id = :region_id AND p.id = :division_id) || '%')"
        )
    if q:
        clauses.append(
            "(sp.name ILIKE :q ESCAPE '\\' OR sp.code ILIKE :q ESCAPE '\\'"
            " OR sp.address ILIKE :q ESCAPE '\\')"
        )
    return clauses


@functools.lru_cache(maxsize=128)
def _list_sql(shape: tuple[bool, ...], delta: bool, after: bool) -> Statement:
    clauses = _where(shape)
    if delta:
        # Delta sync: every change, deleted points included as tombstones.
        clauses.append("sp.updated_at >= :updated_since")
        key = ("sp.updated_at", "sp.id")
    else:
        clauses.append("sp.deleted_at IS NULL")
        key = ("sp.code", "sp.id")
    if after:
        clauses.append(f"({key[0]}, {key[1]}) > (:after_0, :after_1)")
    return Statement(
        f"SELECT {ROW_JSON})::text AS item, {key[0]} AS key_0, {key[1]} AS key_1"
        f" FROM sample_points sp WHERE {' AND '.join(clauses)}"
        f" ORDER BY {key[0]}, {key[1]} LIMIT :n"
    )


_PARAM = re.compile(r"(?<![:\w]):([a-z_][a-z0-9_]*)")


class Statement:
    """SQL written with ``:name`` parameters, turned once into asyncpg's ``$n`` form."""

    def __init__(self, sql: str) -> None:
        self.names: list[str] = []

        def number(match: re.Match[str]) -> str:
            name = match.group(1)
            if name not in self.names:
                self.names.append(name)
            return f"${self.names.index(name) + 1}"

        self.sql = _PARAM.sub(number, sql)

    async def fetch(self, connection: asyncpg.Connection, params: dict[str, Any]) -> list[Any]:
        """Run straight through asyncpg on a read-pool connection (shared.db.ReadConnectionDep).

        These two lists are the service's hottest queries: asyncpg's own statement
        cache and plain records skip SQLAlchemy's per-request work, and a single
        read needs no BEGIN/COMMIT.
        """
        return await connection.fetch(self.sql, *(params[n] for n in self.names))


def _page(rows: list[Any], limit: int, key) -> tuple[bytes, str | None]:
    next_cursor = None
    if len(rows) > limit:
        rows = rows[:limit]
        next_cursor = encode_cursor(key(rows[-1]))
    return b"[" + ",".join(row["item"] for row in rows).encode() + b"]", next_cursor


async def list_points(
    connection: asyncpg.Connection,
    filters: Filters,
    *,
    updated_since: datetime | None,
    cursor: str | None,
    limit: int,
) -> tuple[bytes, str | None]:
    """By code, live points only; or, for delta sync, every change by ``(updated_at, id)``.

    Returns the items as a JSON array (bytes) and the next cursor.
    """
    params = {**filters.params, "n": limit + 1}
    after = decode_cursor(cursor, size=2)
    if after is not None:
        try:
            first = datetime.fromisoformat(after[0]) if updated_since else str(after[0])
            params["after_0"], params["after_1"] = first, uuid.UUID(str(after[1]))
        except (TypeError, ValueError) as exc:
            raise BadRequest(
                "The cursor is not valid for this list; start again without it."
            ) from exc
    if updated_since is not None:
        # A time without an offset is taken as UTC.
        if updated_since.tzinfo is None:
            updated_since = updated_since.replace(tzinfo=UTC)
        params["updated_since"] = updated_since
    stmt = _list_sql(filters.shape, updated_since is not None, after is not None)
    rows = await stmt.fetch(connection, params)
    if updated_since is not None:
        return _page(rows, limit, lambda row: [row["key_0"].isoformat(), str(row["key_1"])])
    return _page(rows, limit, lambda row: [row["key_0"], str(row["key_1"])])


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


# Haversine distance in metres from (:phi, :lam) (radians; :cos_phi = cos(:phi)) to each row.
DISTANCE = (
    f"({2 * EARTH_RADIUS_M!r} * asin(sqrt(least(1.0,"
    " power(sin((radians(sp.lat) - :phi) / 2), 2)"
    " + cos(radians(sp.lat)) * :cos_phi * power(sin((radians(sp.lon) - :lam) / 2), 2)))))"
)


@functools.lru_cache(maxsize=128)
def _near_sql(shape: tuple[bool, ...], after: bool) -> Statement:
    clauses = [*_where(shape), "sp.deleted_at IS NULL", f"{DISTANCE} <= :radius_m"]
    if after:
        clauses.append(f"({DISTANCE}, sp.id) > (:after_distance, :after_id)")
    where = " AND ".join(clauses)
    return Statement(
        f"""
WITH candidates AS (
    SELECT {DISTANCE} AS distance_m
      FROM sample_points sp
     WHERE {where} AND sp.geo <@ circle(point(:x, :y), :outer_deg)
     ORDER BY sp.geo <-> point(:x, :y)
     LIMIT :n
)
SELECT {ROW_JSON}, 'distance_m', {DISTANCE})::text AS item, {DISTANCE} AS distance_m, sp.id
  FROM sample_points sp
 WHERE {where}
   AND sp.geo <@ circle(point(:x, :y), (
        SELECT CASE WHEN count(*) < :n THEN :outer_deg
                    ELSE least(:outer_deg, max(distance_m) * :deg_per_m_sigma) END
          FROM candidates))
 ORDER BY distance_m, sp.id
 LIMIT :n
"""
    )


async def near_points(
    connection: asyncpg.Connection,
    filters: Filters,
    *,
    lat: float,
    lon: float,
    radius_m: float,
    cursor: str | None,
    limit: int,
) -> tuple[bytes, str | None]:
    """Live points within ``radius_m`` of (lat, lon), nearest first, each with ``distance_m``."""
    sigma = shear_factor(lat, lon) * MARGIN
    phi = math.radians(lat)
    params = {
        **filters.params,
        "phi": phi,
        "cos_phi": math.cos(phi),
        "lam": math.radians(lon),
        "x": lon * math.cos(phi),
        "y": lat,
        "radius_m": float(radius_m),
        "outer_deg": radius_m * DEG_PER_M * sigma,
        "deg_per_m_sigma": DEG_PER_M * sigma,
        "n": limit + 1,
    }
    after = decode_cursor(cursor, size=2)
    if after is not None:
        try:
            params["after_distance"] = float(after[0])
            params["after_id"] = uuid.UUID(str(after[1]))
        except (TypeError, ValueError) as exc:
            raise BadRequest(
                "The cursor is not valid for this list; start again without it."
            ) from exc
    rows = await _near_sql(filters.shape, after is not None).fetch(connection, params)
    return _page(rows, limit, lambda row: [row["distance_m"], str(row["id"])])
