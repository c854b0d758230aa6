"""The console: web pages for the campaign office and the leaders (SPEC §11).

It owns no tables. Every page calls the three services' public APIs with the
signed-in person's own token, so it can do nothing the API would refuse. Pages
are rendered on the server (Jinja2); the only script is the map's, and every
asset (styles, script, Leaflet) is served from here: offices run on intranets.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from urllib.parse import quote, urlsplit

import httpx
import xstatic.pkg.leaflet
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.middleware.sessions import SessionMiddleware

from console.api import ApiError, SignedOut, UpstreamDown
from console.i18n import translate
from console.pages import ROUTERS
from console.settings import ConsoleSettings
from console.web import (
    TEMPLATES,
    CsrfFailed,
    NotSignedIn,
    flash,
    language,
    local_time_filter,
    render,
)
from shared.observability import configure_logging

STATIC = Path(__file__).parent / "static"


def _content_security_policy(tile_url: str) -> str:
    """Scripts, styles and fonts only from the console; images also from the tile server."""
    tiles = ""
    if tile_url:
        parts = urlsplit(tile_url.replace("{s}", "a"))
        tiles = f" {parts.scheme}://{parts.netloc}"
    return (
        "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
        f"img-src 'self' data: blob:{tiles}; connect-src 'self'; font-src 'self'; "
        "frame-ancestors 'none'; form-action 'self'; base-uri 'self'"
    )


def create_console(settings: ConsoleSettings | None = None) -> FastAPI:
    """Build the console app (settings from the environment unless given)."""
    settings = settings or ConsoleSettings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        configure_logging("console", level=settings.log_level, json_logs=settings.log_json)
        logging.getLogger("httpx").setLevel(logging.WARNING)  # one line per API call is noise
        app.state.http = httpx.AsyncClient(
            timeout=httpx.Timeout(settings.http_timeout_seconds),
            limits=httpx.Limits(max_connections=50, max_keepalive_connections=20),
        )
        try:
            yield
        finally:
            await app.state.http.aclose()

    app = FastAPI(
        title="Chuangwei console",
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
    )
    app.state.settings = settings
    TEMPLATES.env.filters["localtime"] = local_time_filter(settings.timezone)
    app.state.urls = {
        "registry": settings.registry_url.rstrip("/"),
        "inspections": settings.inspections_url.rstrip("/"),
        "reporting": settings.reporting_url.rstrip("/"),
    }
    app.add_middleware(
        SessionMiddleware,
        secret_key=settings.session_secret,
        session_cookie="cw_console",
        max_age=settings.session_max_age_seconds,
        same_site="lax",
        https_only=settings.cookie_secure,
    )
    csp = _content_security_policy(settings.tile_url)

    @app.middleware("http")
    async def security_headers(request: Request, call_next):
        response = await call_next(request)
        response.headers.setdefault("Content-Security-Policy", csp)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        if not request.url.path.startswith("/static/"):
            response.headers.setdefault("Cache-Control", "no-store")
        return response

    app.mount("/static/leaflet", StaticFiles(directory=xstatic.pkg.leaflet.BASE_DIR), "leaflet")
    app.mount("/static", StaticFiles(directory=STATIC), "static")

    @app.exception_handler(NotSignedIn)
    async def _not_signed_in(request: Request, exc: NotSignedIn):
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse(f"/login?next={quote(target)}", status_code=303)

    @app.exception_handler(SignedOut)
    async def _signed_out(request: Request, exc: SignedOut):
        lang = language(request)
        request.session.clear()
        request.session["lang"] = lang
        flash(request, translate(lang)("session_ended"), "error")
        return RedirectResponse("/login", status_code=303)

    @app.exception_handler(CsrfFailed)
    async def _csrf_failed(request: Request, exc: CsrfFailed):
        return render(request, "error.html", 403, message_key="csrf_failed")

    @app.exception_handler(ApiError)
    async def _api_error(request: Request, exc: ApiError):
        # What the API refused, the page refuses the same way: another unit's case is a
        # 404 from the API and a 404 here, never a glimpse of it.
        key = {404: "not_found", 403: "forbidden"}.get(exc.status)
        status = exc.status if key else 502
        return render(request, "error.html", status, message_key=key, detail=exc.message)

    @app.exception_handler(RequestValidationError)
    async def _bad_request(request: Request, exc: RequestValidationError):
        # A hand-edited URL (an unknown status, a malformed id) gets a page, not JSON.
        fields = ", ".join(str(e["loc"][-1]) for e in exc.errors())
        return render(request, "error.html", 422, message_key="bad_request", detail=fields)

    @app.exception_handler(UpstreamDown)
    async def _down(request: Request, exc: UpstreamDown):
        return render(request, "error.html", 503, message_key="service_down", detail=str(exc))

    @app.get("/favicon.ico", include_in_schema=False)
    async def favicon() -> Response:
        """No icon: an empty answer instead of a 404 in every browser's console."""
        return Response(status_code=204)

    @app.get("/healthz", include_in_schema=False)
    async def healthz() -> JSONResponse:
        """The console process is alive."""
        return JSONResponse({"status": "ok"})

    @app.get("/readyz", include_in_schema=False)
    async def readyz(request: Request) -> JSONResponse:
        """Ready when the three services it calls are ready (503 naming the ones that are not)."""
        not_ready = []
        for name, url in app.state.urls.items():
            try:
                answer = await request.app.state.http.get(f"{url}/readyz", timeout=2)
                if answer.status_code != 200:
                    not_ready.append(name)
            except httpx.TransportError:
                not_ready.append(name)
        if not_ready:
            return JSONResponse({"status": "not ready", "services": not_ready}, status_code=503)
        return JSONResponse({"status": "ok"})

    for router in ROUTERS:
        app.include_router(router)
    return app


app = create_console()
