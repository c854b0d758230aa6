"""Each service's API docs under its own name, the way the gateway publishes them.

Behind the one gateway the three services' ``/docs``, ``/redoc``, ``/openapi.json`` and
Swagger's files (``/static-offline-docs/…``) would collide, so the gateway publishes them
as ``/registry/docs``, ``/inspections/openapi.json``, … and forwards the path unchanged
(``deploy/gateway.conf``). The service answers those paths itself, with ``/<service>`` as
the request's ASGI ``root_path`` (FastAPI's "behind a proxy"): Starlette routes the rest
of the path, and the docs page builds its script, stylesheet and OpenAPI URLs on the
root path, so they resolve through the gateway as on the service's own port. Only the
docs are answered under the prefix; the API stays at ``/v1/…``.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Receive, Scope, Send

DOCS_PAGES = ("/docs", "/redoc", "/openapi.json")
DOCS_FILES = "/static-offline-docs/"  # where fastapi-offline serves Swagger UI and ReDoc


def docs_prefix(service: str) -> str:
    """The path under which the gateway publishes ``service``'s docs: ``/registry``."""
    return f"/{service}"


class DocsUnderServiceName:
    """Answers ``/<service>/docs`` (and the other docs paths) as ``/docs`` under that root path."""

    def __init__(self, app: ASGIApp, service: str) -> None:
        self.app = app
        self.prefix = docs_prefix(service)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and not scope.get("root_path"):
            path: str = scope["path"]
            rest = path[len(self.prefix) :] if path.startswith(self.prefix + "/") else ""
            if rest in DOCS_PAGES or rest.startswith(DOCS_FILES):
                scope = {**scope, "root_path": self.prefix}
        await self.app(scope, receive, send)
