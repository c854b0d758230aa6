"""The HTTP client services use to call each other.

Every call carries the service token, the region it acts for and the current
request id; it has a timeout and retries connection failures and 5xx answers
with exponential backoff, all inside an optional total ``budget`` (the whole call,
retries and backoff included, never takes longer). When the other service stays
unreachable or the budget runs out the caller gets :class:`UpstreamUnavailable`
and decides what to do (ingest stores the inspection as pending, SPEC §7).
"""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import httpx
from tenacity import (
    AsyncRetrying,
    retry_if_exception_type,
    stop_after_attempt,
    wait_exponential,
)

from shared.auth import REGION_HEADER
from shared.observability import REQUEST_ID_HEADER, request_id_var


class UpstreamUnavailable(Exception):
    """The other service could not be reached or kept failing."""


class UpstreamError(Exception):
    """The other service answered with a client error (4xx) that retrying will not fix."""

    def __init__(self, status: int, body: Any) -> None:
        super().__init__(f"upstream answered {status}")
        self.status = status
        self.body = body


class _Retryable(Exception):
    pass


class ServiceClient:
    def __init__(
        self,
        base_url: str,
        *,
        service_token: str,
        timeout: float = 3.0,
        retries: int = 2,
        budget: float | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self._client = httpx.AsyncClient(
            base_url=base_url,
            timeout=httpx.Timeout(timeout),
            transport=transport,
            headers={"Authorization": f"Bearer {service_token}"},
            limits=httpx.Limits(max_connections=50, max_keepalive_connections=20),
        )
        self._retries = retries
        self._budget = budget

    async def aclose(self) -> None:
        await self._client.aclose()

    async def get_json(self, path: str, *, region_id: uuid.UUID, params: dict | None = None) -> Any:
        """GET ``path`` for ``region_id``; 4xx raises UpstreamError, outages UpstreamUnavailable."""
        headers = {REGION_HEADER: str(region_id)}
        if (rid := request_id_var.get()) is not None:
            headers[REQUEST_ID_HEADER] = rid
        try:
            async with asyncio.timeout(self._budget):
                response = await self._get_with_retries(path, headers, params)
        except TimeoutError as exc:
            raise UpstreamUnavailable(f"no answer within {self._budget} s") from exc
        except _Retryable as exc:
            raise UpstreamUnavailable(str(exc)) from exc
        if response.status_code >= 400:
            try:
                body = response.json()
            except ValueError:
                body = response.text
            raise UpstreamError(response.status_code, body)
        return response.json()

    async def _get_with_retries(
        self, path: str, headers: dict[str, str], params: dict | None
    ) -> httpx.Response:
        """GET with backoff retries of transport failures and 5xx; raises ``_Retryable`` last."""
        async for attempt in AsyncRetrying(
            stop=stop_after_attempt(self._retries + 1),
            wait=wait_exponential(multiplier=0.1, max=1.0),
            retry=retry_if_exception_type(_Retryable),
            reraise=True,
        ):
            with attempt:
                try:
                    response = await self._client.get(path, headers=headers, params=params)
                except httpx.TransportError as exc:
                    raise _Retryable(str(exc)) from exc
                if response.status_code >= 500:
                    raise _Retryable(f"status {response.status_code}")
        return response
