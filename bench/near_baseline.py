"""The fair baseline of the near bench: the product's own `near` SQL on a bare asyncpg pool.

The same statement the registry runs for ``GET /v1/sample-points?near=…`` — built by
``registry.sample_points.repository.near_points`` with the same filters (the caller's
region, live points, the radius) and the same JSON rendering by PostgreSQL — behind the
thinnest FastAPI route: no auth, no scope, no session, no middleware or access log, no
validation beyond three floats. So near / baseline measures what the service's
framework and its own work (auth, scope, validation, logging) cost, not the algorithm.
Served by bench/registry_near.py as ``near_baseline:app`` with DATABASE_URL and
BENCH_REGION_ID set.
"""

from __future__ import annotations

import os
import uuid
from contextlib import asynccontextmanager

import orjson
from fastapi import FastAPI, Response

from registry.sample_points.repository import Filters, near_points
from shared.db import create_read_pool

READ_POOL = 10


@asynccontextmanager
async def lifespan(app: FastAPI):
    # The registry's own read pool (same settings: UTC session, cheap reset).
    app.state.pool = await create_read_pool(
        os.environ["DATABASE_URL"], application_name="chuangwei.bench.near", max_size=READ_POOL
    )
    # What scope_filters gives an inspector of the region: the region, nothing else.
    app.state.filters = Filters(params={"region_id": uuid.UUID(os.environ["BENCH_REGION_ID"])})
    yield
    await app.state.pool.close()


app = FastAPI(lifespan=lifespan)


@app.get("/healthz")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


@app.get("/near")
async def near(lat: float, lon: float, radius_m: float = 1000, limit: int = 50) -> Response:
    async with app.state.pool.acquire() as connection:
        items, next_cursor = await near_points(
            connection,
            app.state.filters,
            lat=lat,
            lon=lon,
            radius_m=radius_m,
            cursor=None,
            limit=limit,
        )
    body = b'{"items":' + items + b',"next_cursor":' + orjson.dumps(next_cursor) + b"}"
    return Response(body, media_type="application/json")
