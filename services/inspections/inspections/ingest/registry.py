"""Sample-point context from the registry, with a short-lived in-process cache.

A patrol submits a burst of inspections for the same few points; the cache
(keyed by region, point and checklist version; bounded; ~45 s) and the
coalescing of concurrent misses keep that burst from hammering the registry.
A point that is not found is never cached, so a newly registered point works
at once.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections import OrderedDict
from typing import Any

from fastapi import FastAPI

from shared.http_client import ServiceClient, UpstreamError, UpstreamUnavailable

Key = tuple[uuid.UUID, uuid.UUID, int | None]


class ContextCache:
    """A bounded LRU of registry answers that expire after ``ttl`` seconds."""

    def __init__(self, *, ttl: float, max_size: int) -> None:
        self.ttl = ttl
        self.max_size = max_size
        self._entries: OrderedDict[Key, tuple[float, dict[str, Any]]] = OrderedDict()
        self._inflight: dict[Key, asyncio.Future[dict[str, Any] | None]] = {}

    def get(self, key: Key) -> dict[str, Any] | None:
        entry = self._entries.get(key)
        if entry is None:
            return None
        expires, value = entry
        if expires < time.monotonic():
            del self._entries[key]
            return None
        self._entries.move_to_end(key)
        return value

    def put(self, key: Key, value: dict[str, Any]) -> None:
        if self.ttl <= 0:
            return
        self._entries[key] = (time.monotonic() + self.ttl, value)
        self._entries.move_to_end(key)
        while len(self._entries) > self.max_size:
            self._entries.popitem(last=False)

    def clear(self) -> None:
        self._entries.clear()


async def fetch_context(
    app: FastAPI,
    *,
    region_id: uuid.UUID,
    sample_point_id: uuid.UUID,
    checklist_version: int | None,
) -> dict[str, Any] | None:
    """The point's context, or ``None`` when the registry does not know the point.

    Raises :class:`UpstreamUnavailable` when the registry cannot answer — also for
    answers other than 404 that retrying later may fix (a misconfigured token),
    because a submission must be kept pending rather than rejected for that.
    """
    cache: ContextCache = app.state.context_cache
    key: Key = (region_id, sample_point_id, checklist_version)
    if (hit := cache.get(key)) is not None:
        return hit
    if (waiting := cache._inflight.get(key)) is not None:
        try:
            return await asyncio.shield(waiting)
        except asyncio.CancelledError:
            task = asyncio.current_task()
            if not waiting.cancelled() or (task is not None and task.cancelling()):
                raise
            # The request that was fetching for us went away; fetch ourselves.
    future: asyncio.Future[dict[str, Any] | None] = asyncio.get_running_loop().create_future()
    cache._inflight[key] = future
    try:
        value = await _fetch(
            app.state.registry_client, region_id, sample_point_id, checklist_version
        )
    except asyncio.CancelledError:
        future.cancel()
        raise
    except BaseException as exc:
        future.set_exception(exc)
        future.exception()  # mark retrieved: no "never retrieved" warning without waiters
        raise
    else:
        future.set_result(value)
        if value is not None:
            cache.put(key, value)
        return value
    finally:
        if cache._inflight.get(key) is future:
            del cache._inflight[key]


async def _fetch(
    client: ServiceClient,
    region_id: uuid.UUID,
    sample_point_id: uuid.UUID,
    checklist_version: int | None,
) -> dict[str, Any] | None:
    params = {"checklist_version": checklist_version} if checklist_version is not None else None
    try:
        return await client.get_json(
            f"/v1/internal/sample-points/{sample_point_id}/context",
            region_id=region_id,
            params=params,
        )
    except UpstreamError as exc:
        if exc.status == 404:
            return None
        raise UpstreamUnavailable(f"registry answered {exc.status}") from exc
