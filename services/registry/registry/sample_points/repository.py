"""Sample-point queries: filtered keyset lists, delta sync and the KNN `near` search.

These are the phone's hottest endpoints, so they avoid per-request Python work:
the SQL text is built once per combination of filters (``lru_cache``) and
PostgreSQL renders each row as JSON (``json_build_object``), so Python only
joins byte strings. Single-record reads use the ORM as usual.

How `near` stays fast and exact without PostGIS
-----------------------------------------------
``geo`` is the Mercator point ``(λ, asinh(tan φ))`` (radians) with a GiST index.
Mercator is conformal: around any point the map is a uniform scale, sec φ / R
per metre in every direction (no shear, unlike the ``lon·cos(lat)`` map it
replaced, migration 0015), and over a search circle that scale varies only by
the change of sec φ (≈ 3·10⁻⁴ over 2 km at 28°N). So a planar distance is
bounded by the true one: a point within ``d`` metres of q lies within planar
``d · P`` of q, with ``P = sec(φ_max) / R`` for the farthest latitude the
circle reaches. Planar order is great-circle order up to that tiny slack, and
`near` checks that the slack did not matter:

1. One statement: KNN (``ORDER BY geo <-> q LIMIT n + 2``) inside the planar
   circle that holds the whole search radius takes the planar-nearest matching
   rows, each with its exact (haversine) distance and its planar one, ranked by
   exact distance, then id — the same shape as PostGIS's KNN query.
2. Let D be the n-th smallest of those distances within the radius (the radius
   itself if fewer are). Every matching row the scan did not reach is at least as
   far on the plane as the last one it did; if that is farther than ``D · P``, no
   unreached row is within D, and the n nearest fetched rows within the radius
   are the answer (ranked by exact distance, then id). That fails only when two
   distances lie within the slack of each other (e.g. ties), and always holds when
   the scan ran dry (fewer rows than asked for).
3. Otherwise a second statement ranks the rows of the planar circle ``D · P``
   (the n true nearest among them, ties included) by exact distance — the old
   second phase, now rare (none in 1,500 random queries of the bench).

Both circles are GiST index conditions, so the work is proportional to n, not
to the table. Step 2 runs in Python on the n + 2 rows: as a SQL CTE it cost
PostgreSQL more (plan nodes) than it saves. Pages continue after
the cursor ``(distance_m, id)``. Not handled (as before): search circles across
the antimeridian; a circle within 0.5° of a pole falls back to ranking every
row of the region (correct, slow; China has neither).
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
MAX_RADIUS_M = 50_000.0
# Rows the KNN scan reads beyond the n it needs, so that the check of step 2 (module
# docstring) almost always settles the answer: it fails only when the n-th and
# (n+2)-th nearest lie within the map's slack (≈ 10⁻⁴) of each other.
EXTRA_ROWS = 2
# Beyond this latitude (radians; 89.5°) the Mercator scale has no useful bound: the
# search circle becomes the whole plane (|x| ≤ π, |y| < 38) and step 3 always runs.
POLAR_LIMIT = math.radians(89.5)
POLAR_OUTER = 1000.0


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


def planar_reach(distance_m: float, lat: float) -> float:
    """D·P: how far from q (at ``lat``) on the plane a point within ``distance_m`` can lie.

    P, the planar length of a metre, is sec φ / R at the farthest latitude the circle
    reaches: twice D in latitude covers the circle and the great circle's poleward
    bulge; the factor 1 + 10⁻⁶ and the 10⁻¹² (≈ 6 µm) cover rounding. ``inf`` near a pole.
    """
    farthest = abs(math.radians(lat)) + 2 * distance_m / EARTH_RADIUS_M
    if farthest >= POLAR_LIMIT:
        return math.inf
    return distance_m * (1 + 1e-6) / (EARTH_RADIUS_M * math.cos(farthest)) + 1e-12


# Haversine distance in metres from (:phi, :lam) (radians; :cos_phi = cos(:phi)) to each row.
DISTANCE = (
    f"({2 * EARTH_RADIUS_M!r} * asin(sqrt(least(1.0,"
    " power(sin((radians(sp.lat) - :phi) / 2), 2)"
    " + cos(radians(sp.lat)) * :cos_phi * power(sin((radians(sp.lon) - :lam) / 2), 2)))))"
)
# The columns ROW_JSON renders, carried from the KNN scan to the answer.
ROW_COLUMNS = (
    "sp.id, sp.code, sp.name, sp.point_type_id, sp.division_id, sp.address, sp.lat, sp.lon,"
    " sp.unit_id, sp.status, sp.version, sp.created_at, sp.updated_at, sp.deleted_at"
)


def _near_where(shape: tuple[bool, ...], after: bool) -> str:
    clauses = [*_where(shape), "sp.deleted_at IS NULL"]
    if after:
        clauses.append(f"({DISTANCE}, sp.id) > (:after_distance, :after_id)")
    return " AND ".join(clauses)


@functools.lru_cache(maxsize=128)
def _near_sql(shape: tuple[bool, ...], after: bool) -> Statement:
    """Step 1: the m planar-nearest matching rows, ranked by exact distance, then id."""
    return Statement(
        f"""
SELECT {ROW_JSON}, 'distance_m', sp.distance_m)::text AS item, sp.distance_m, sp.planar, sp.id
  FROM (SELECT {ROW_COLUMNS}, {DISTANCE} AS distance_m, sp.geo <-> point(:x, :y) AS planar
          FROM sample_points sp
         WHERE {_near_where(shape, after)} AND sp.geo <@ circle(point(:x, :y), :outer)
         ORDER BY sp.geo <-> point(:x, :y)
         LIMIT :m) sp
 ORDER BY sp.distance_m, sp.id
"""
    )


@functools.lru_cache(maxsize=128)
def _near_fallback_sql(shape: tuple[bool, ...], after: bool) -> Statement:
    """Step 3: every matching row of the planar circle D·P, ranked by exact distance."""
    where = _near_where(shape, after)
    return Statement(
        f"""
SELECT {ROW_JSON}, 'distance_m', sp.distance_m)::text AS item, sp.distance_m, sp.id
  FROM (SELECT {ROW_COLUMNS}, {DISTANCE} AS distance_m
          FROM sample_points sp
         WHERE {where} AND sp.geo <@ circle(point(:x, :y), :fallback_outer)) sp
 WHERE sp.distance_m <= :radius_m
 ORDER BY sp.distance_m, sp.id
 LIMIT :n
"""
    )


def near_query(
    filters: Filters,
    *,
    lat: float,
    lon: float,
    radius_m: float,
    cursor: str | None,
    limit: int,
) -> tuple[Statement, dict[str, Any]]:
    """The statement `near` sends and its parameters (one more row than ``limit``: the next page)."""
    phi, lam = math.radians(lat), math.radians(lon)
    params = {
        **filters.params,
        "phi": phi,
        "cos_phi": math.cos(phi),
        "lam": lam,
        # q on the Mercator plane: the same expression as the generated column ``geo``.
        "x": lam,
        "y": math.asinh(math.tan(phi)),
        "radius_m": float(radius_m),
        "outer": min(POLAR_OUTER, planar_reach(radius_m, lat)),
        "n": limit + 1,
        "m": limit + 1 + EXTRA_ROWS,
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
    return _near_sql(filters.shape, after is not None), params


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
    statement, params = near_query(
        filters, lat=lat, lon=lon, radius_m=radius_m, cursor=cursor, limit=limit
    )
    rows = await statement.fetch(connection, params)  # by exact distance, then id
    n = params["n"]
    within = [row for row in rows if row["distance_m"] <= radius_m]
    # D: the n-th nearest distance found within the radius, else the radius itself.
    nearest = within[n - 1]["distance_m"] if len(within) >= n else radius_m
    reach = planar_reach(nearest, lat)
    # Step 2: the scan ran dry, or every row it did not reach lies farther than D.
    if len(rows) < params["m"] or reach < max(row["planar"] for row in rows):
        rows = within[:n]
    else:  # step 3, rare
        params["fallback_outer"] = min(params["outer"], reach)
        fallback = _near_fallback_sql(filters.shape, "after_id" in params)
        rows = await fallback.fetch(connection, params)
    return _page(rows, limit, lambda row: [row["distance_m"], str(row["id"])])
