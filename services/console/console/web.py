"""What every page shares: the signed-in viewer, CSRF checks and template rendering.

The session lives in a signed cookie (Starlette's SessionMiddleware, itsdangerous):
HttpOnly always, Secure and SameSite=Lax as configured. It holds the API token, the
person as the registry described them at sign-in, the language and a CSRF token.
Every form posts that token back and :func:`checked_form` compares it in constant
time (the synchronizer-token pattern); SameSite alone would not cover older
browsers or a sibling site on the same intranet host.
"""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import Depends, Request
from fastapi.templating import Jinja2Templates
from starlette.datastructures import FormData

from console.api import Api
from console.i18n import LANGUAGES, translate

TEMPLATES = Jinja2Templates(directory=str(Path(__file__).parent / "templates"))


class NotSignedIn(Exception):
    """No session: the page sends the browser to the sign-in form."""


class CsrfFailed(Exception):
    """A form came back without the session's CSRF token."""


@dataclass
class Viewer:
    """The signed-in person and their API."""

    person: dict[str, Any]
    api: Api

    @property
    def role(self) -> str:
        return self.person["role"]

    @property
    def unit_id(self) -> str | None:
        return self.person.get("unit_id")


def local_time_filter(timezone: str):
    """The ``localtime`` template filter: an RFC 3339 string shown in the region's zone."""
    zone = ZoneInfo(timezone)

    def localtime(value: str | None) -> str:
        if not value:
            return "–"
        try:
            return datetime.fromisoformat(value).astimezone(zone).strftime("%Y-%m-%d %H:%M")
        except ValueError:
            return value

    return localtime


def language(request: Request) -> str:
    lang = request.session.get("lang")
    return lang if lang in LANGUAGES else "zh"


def csrf_token(request: Request) -> str:
    """The session's CSRF token, created on first use (also before sign-in)."""
    token = request.session.get("csrf")
    if not token:
        token = secrets.token_urlsafe(32)
        request.session["csrf"] = token
    return token


def anonymous_api(request: Request) -> Api:
    return Api(request.app.state.http, request.app.state.urls, None)


def current_viewer(request: Request) -> Viewer:
    token = request.session.get("token")
    person = request.session.get("person")
    if not token or not person:
        raise NotSignedIn()
    return Viewer(person=person, api=Api(request.app.state.http, request.app.state.urls, token))


CurrentViewer = Annotated[Viewer, Depends(current_viewer)]


async def checked_form(request: Request) -> FormData:
    """The posted form, once its CSRF token matches the session's."""
    form = await request.form()
    sent = form.get("csrf_token")
    expected = request.session.get("csrf")
    if not isinstance(sent, str) or not expected or not hmac.compare_digest(sent, expected):
        raise CsrfFailed()
    return form


CheckedForm = Annotated[FormData, Depends(checked_form)]


def render(request: Request, template: str, status_code: int = 200, **context: Any):
    """Render a page with what every template uses (t, lang, csrf, the viewer)."""
    lang = language(request)
    flash = request.session.pop("flash", None)
    return TEMPLATES.TemplateResponse(
        request,
        template,
        {
            "t": translate(lang),
            "lang": lang,
            "csrf": csrf_token(request),
            "me": request.session.get("person"),
            "flash": flash,
            "path": request.url.path,
            **context,
        },
        status_code=status_code,
    )


def flash(request: Request, message: str, kind: str = "ok") -> None:
    """A one-time message shown on the next page (after a redirect)."""
    request.session["flash"] = {"message": message, "kind": kind}
