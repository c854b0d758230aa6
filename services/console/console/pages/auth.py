"""Sign in, sign out and the language switch."""

from __future__ import annotations

import secrets
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import RedirectResponse

from console.api import Api, ApiError
from console.i18n import LANGUAGES
from console.web import CheckedForm, anonymous_api, language, render

router = APIRouter()


def _safe_next(target: str | None) -> str:
    """Only a path on this console: never an open redirect to another host."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target


@router.get("/login")
async def login_page(request: Request, next_: Annotated[str | None, Query(alias="next")] = None):
    """The sign-in form."""
    return render(request, "login.html", next=_safe_next(next_))


@router.post("/login")
async def sign_in(request: Request, form: CheckedForm):
    """Exchange username and password for an API token kept in the session cookie."""
    username = str(form.get("username") or "").strip()
    password = str(form.get("password") or "")
    target = _safe_next(str(form.get("next") or ""))
    api = anonymous_api(request)
    try:
        answer = await api.request(
            "registry",
            "POST",
            "/v1/auth/token",
            data={"username": username, "password": password},
        )
    except ApiError as exc:
        key = "too_many_attempts" if exc.status == 429 else "wrong_password"
        status = 429 if exc.status == 429 else 401
        return render(request, "login.html", status, error_key=key, username=username, next=target)
    token = answer.json()["access_token"]
    me = await Api(request.app.state.http, request.app.state.urls, token).get(
        "registry", "/v1/people/me"
    )
    lang = language(request)
    # A fresh session at sign-in: nothing chosen before (a planted CSRF token or
    # cookie) carries over into the signed-in one.
    request.session.clear()
    request.session.update(
        token=token,
        person={k: me.get(k) for k in ("id", "username", "display_name", "role", "unit_id")},
        csrf=secrets.token_urlsafe(32),
        lang=lang,
    )
    return RedirectResponse(target, status_code=303)


@router.post("/logout")
async def sign_out(request: Request, form: CheckedForm):
    """Forget the token; the next page asks to sign in again."""
    lang = language(request)
    request.session.clear()
    request.session["lang"] = lang
    return RedirectResponse("/login", status_code=303)


@router.get("/lang/{lang}")
async def switch_language(
    request: Request, lang: str, next_: Annotated[str | None, Query(alias="next")] = None
):
    """Show the pages in Chinese (zh) or English (en)."""
    if lang in LANGUAGES:
        request.session["lang"] = lang
    return RedirectResponse(_safe_next(next_), status_code=303)
