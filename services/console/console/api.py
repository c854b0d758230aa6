"""Calls to the three services' public APIs with the signed-in person's own token.

The console has no other way in: whatever the API refuses, the page refuses too.
A 401 ends the console session (the token expired or was revoked); any other
error answer becomes :class:`ApiError` carrying the service's problem details.
"""

from __future__ import annotations

from typing import Any, Literal

import httpx

Service = Literal["registry", "inspections", "reporting"]


class SignedOut(Exception):
    """The API no longer accepts the session's token."""


class ApiError(Exception):
    """The API answered with an error; ``problem`` is its RFC 9457 body."""

    def __init__(self, status: int, problem: dict[str, Any]) -> None:
        super().__init__(f"{status}: {problem.get('detail') or problem.get('title')}")
        self.status = status
        self.problem = problem

    @property
    def message(self) -> str:
        return str(self.problem.get("detail") or self.problem.get("title") or self.status)

    @property
    def errors(self) -> list[dict[str, Any]]:
        return list(self.problem.get("errors") or [])


class UpstreamDown(Exception):
    """A service could not be reached."""


class Api:
    """One person's view of the API: every call carries their bearer token."""

    def __init__(self, client: httpx.AsyncClient, urls: dict[str, str], token: str | None):
        self._client = client
        self._urls = urls
        self._token = token

    async def request(
        self,
        service: Service,
        method: str,
        path: str,
        *,
        params: dict[str, Any] | None = None,
        json: Any = None,
        data: dict[str, Any] | None = None,
        files: dict[str, Any] | None = None,
        content: bytes | None = None,
        headers: dict[str, str] | None = None,
    ) -> httpx.Response:
        all_headers = dict(headers or {})
        if self._token:
            all_headers["Authorization"] = f"Bearer {self._token}"
        clean = {k: v for k, v in (params or {}).items() if v not in (None, "")}
        try:
            response = await self._client.request(
                method,
                self._urls[service] + path,
                params=clean,
                json=json,
                data=data,
                files=files,
                content=content,
                headers=all_headers,
            )
        except httpx.TransportError as exc:
            raise UpstreamDown(service) from exc
        if response.status_code == 401 and self._token:
            raise SignedOut()
        if response.status_code >= 400:
            try:
                problem = response.json()
            except ValueError:
                problem = {"title": response.reason_phrase}
            if not isinstance(problem, dict):
                problem = {"title": str(problem)}
            raise ApiError(response.status_code, problem)
        return response

    async def get(self, service: Service, path: str, **params: Any) -> Any:
        return (await self.request(service, "GET", path, params=params)).json()

    async def all_items(self, service: Service, path: str, **params: Any) -> list[dict]:
        """Every item of a paginated list, following ``next_cursor`` (500 at a time)."""
        items: list[dict] = []
        cursor = None
        while True:
            page = await self.get(service, path, limit=500, cursor=cursor, **params)
            items.extend(page["items"])
            cursor = page.get("next_cursor")
            if not cursor:
                return items
