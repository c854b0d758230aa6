"""The console's own rules that need no running service: settings, redirects, headers."""

from __future__ import annotations

import re

import httpx
import pytest
from pydantic import ValidationError

from console.main import create_console
from console.settings import DEV_SESSION_SECRET, ConsoleSettings


def test_production_refuses_the_development_session_secret():
    with pytest.raises(ValidationError, match="CONSOLE_SESSION_SECRET"):
        ConsoleSettings(env="production", session_secret=DEV_SESSION_SECRET)
    with pytest.raises(ValidationError, match="CONSOLE_SESSION_SECRET"):
        ConsoleSettings(env="production", session_secret="short")
    ConsoleSettings(env="production", session_secret="x" * 40)


@pytest.fixture
async def console() -> httpx.AsyncClient:
    settings = ConsoleSettings(tile_url="https://tiles.intranet.example/{z}/{x}/{y}.png")
    transport = httpx.ASGITransport(app=create_console(settings))
    async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as client:
        yield client


@pytest.mark.parametrize("target", ["//evil.example/", "https://evil.example/", "/\\evil.example"])
async def test_sign_in_never_redirects_to_another_host(console, target):
    page = await console.get("/login", params={"next": target})
    assert re.search(r'name="next" value="/"', page.text)
    switched = await console.get("/lang/en", params={"next": target})
    assert switched.headers["location"] == "/"


async def test_pages_allow_scripts_only_from_the_console_and_images_from_the_tile_server(console):
    page = await console.get("/login")
    policy = page.headers["content-security-policy"]
    assert "script-src 'self';" in policy and "font-src 'self'" in policy
    assert "img-src 'self' data: blob: https://tiles.intranet.example;" in policy
    assert page.headers["cache-control"] == "no-store"


async def test_a_form_without_the_sessions_token_changes_nothing_and_says_why(console):
    answer = await console.post("/login", data={"username": "a", "password": "b"})
    assert answer.status_code == 403
    assert "表单已过期或来源不明" in answer.text
