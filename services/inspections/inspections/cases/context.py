"""What the cases workflow asks the registry over HTTP: deadline rules and sample-point context.

The region's deadline policy and calendar change rarely and are needed on
every dispatch, so they are cached per region for a minute. A registry that
cannot be reached makes the request fail with 503 (``Retry-After``) before
anything is written; a case created by hand can simply be sent again.
"""

from __future__ import annotations

import time
import uuid
from typing import Annotated, Any

from fastapi import Depends, FastAPI, Request

from shared.errors import ServiceUnavailable
from shared.http_client import ServiceClient, UpstreamError, UpstreamUnavailable
from shared.workdays import DeadlineRules

DEADLINE_CONTEXT_TTL_SECONDS = 60.0


class RegistryLookup:
    """Registry calls made on behalf of one request."""

    def __init__(self, app: FastAPI) -> None:
        self._app = app

    @property
    def _client(self) -> ServiceClient:
        client = getattr(self._app.state, "registry_client", None)
        if client is None:
            raise ServiceUnavailable("The registry client is not configured.")
        return client

    @property
    def _cache(self) -> dict[uuid.UUID, tuple[float, DeadlineRules]]:
        cache = getattr(self._app.state, "deadline_rules_cache", None)
        if cache is None:
            cache = self._app.state.deadline_rules_cache = {}
        return cache

    async def _get(self, path: str, region_id: uuid.UUID) -> Any:
        try:
            return await self._client.get_json(path, region_id=region_id)
        except UpstreamUnavailable as exc:
            raise ServiceUnavailable(
                "The registry is unavailable, so the deadline cannot be computed; "
                "nothing was saved. Retry shortly."
            ) from exc

    async def deadline_rules(self, region_id: uuid.UUID) -> DeadlineRules:
        """The region's policy and calendar (cached for a minute)."""
        hit = self._cache.get(region_id)
        if hit is not None and hit[0] > time.monotonic():
            return hit[1]
        ctx = await self._get("/v1/internal/deadline-context", region_id)
        rules = DeadlineRules.from_context(ctx)
        self._cache[region_id] = (time.monotonic() + DEADLINE_CONTEXT_TTL_SECONDS, rules)
        return rules

    async def sample_point(
        self, region_id: uuid.UUID, sample_point_id: uuid.UUID
    ) -> dict[str, Any] | None:
        """The sample point's context, or ``None`` when the region has no such point."""
        try:
            return await self._get(
                f"/v1/internal/sample-points/{sample_point_id}/context", region_id
            )
        except UpstreamError as exc:
            if exc.status in (404, 422):
                return None
            raise ServiceUnavailable(
                f"The registry refused the sample-point lookup ({exc.status}); retry shortly."
            ) from exc


def get_registry_lookup(request: Request) -> RegistryLookup:
    return RegistryLookup(request.app)


RegistryDep = Annotated[RegistryLookup, Depends(get_registry_lookup)]
