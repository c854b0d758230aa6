"""The HTTP-plus-database ceiling of the near bench: FastAPI + a bare asyncpg bounding-box query on the same GiST index.

No auth, no scope, no session, no validation beyond two floats: what "the same
query over HTTP" costs on this machine, to put the real endpoint in context
(issue 2 quotes such an endpoint at about 30 % of the constant one).
Served by bench/registry_near.py as ``near_baseline:app`` with DATABASE_URL set.
"""

from __future__ import annotations

import math
import os
from contextlib import asynccontextmanager

import asyncpg
from fastapi import FastAPI, Response
from sqlalchemy.engine import make_url

SQL = """
SELECT coalesce(json_agg(t), '[]')::text FROM (
  SELECT id, code, name, lat, lon,
         12742017.6 * asin(sqrt(power(sin((radians(lat) - $1) / 2), 2)
           + cos(radians(lat)) * cos($1) * power(sin((radians(lon) - $2) / 2), 2))) AS distance_m
    FROM sample_points
   WHERE geo <@ box(point($3, $4), point($5, $6)) AND deleted_at IS NULL
   ORDER BY distance_m LIMIT 20
) t
"""


@asynccontextmanager
async def lifespan(app: FastAPI):
    url = make_url(os.environ["DATABASE_URL"])
    app.state.pool = await asyncpg.create_pool(
        user=url.username,
        password=url.password or None,
        database=url.database,
        host=url.query.get("host") or url.host,
        port=url.port,
        min_size=10,
        max_size=10,
    )
    yield
    await app.state.pool.close()


app = FastAPI(lifespan=lifespan)


@app.get("/healthz")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


@app.get("/near")
async def near(lat: float, lon: float, radius_m: float = 2000) -> Response:
    # The bounding box in the indexed plane x = lon·cos(lat), y = lat (GiST on sample_points.geo).
    dlat = radius_m / 111_195.0
    dlon = dlat / max(math.cos(math.radians(lat)), 1e-6)
    xs = [
        x * math.cos(math.radians(y))
        for x in (lon - dlon, lon + dlon)
        for y in (lat - dlat, lat + dlat)
    ]
    body = await app.state.pool.fetchval(
        SQL, math.radians(lat), math.radians(lon), min(xs), lat - dlat, max(xs), lat + dlat
    )
    return Response(body, media_type="application/json")
