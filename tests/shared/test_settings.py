"""Development defaults make `make run` work; production refuses them."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from shared.settings import CommonSettings

STRONG = {
    "CW_JWT_SECRET": "s" * 48,
    "CW_SERVICE_TOKEN": "a-real-service-token-0123456789-abcdef",
    "CW_BOOTSTRAP_ADMIN": "root:a-long-real-password",
    "DATABASE_URL": "postgresql://cw:pw@db:5432/cw",
}


def test_production_refuses_every_development_default(monkeypatch):
    monkeypatch.setenv("CW_ENV", "production")
    monkeypatch.delenv("DATABASE_URL", raising=False)
    with pytest.raises(ValidationError) as info:
        CommonSettings()
    message = str(info.value)
    for name in ("CW_JWT_SECRET", "CW_SERVICE_TOKEN", "CW_BOOTSTRAP_ADMIN", "DATABASE_URL"):
        assert name in message


def test_production_starts_with_real_secrets(monkeypatch):
    monkeypatch.setenv("CW_ENV", "production")
    for key, value in STRONG.items():
        monkeypatch.setenv(key, value)
    settings = CommonSettings()
    assert settings.env == "production" and settings.jwt_secret == STRONG["CW_JWT_SECRET"]


def test_production_refuses_a_short_jwt_secret(monkeypatch):
    monkeypatch.setenv("CW_ENV", "production")
    for key, value in STRONG.items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("CW_JWT_SECRET", "short")
    with pytest.raises(ValidationError, match="CW_JWT_SECRET"):
        CommonSettings()


@pytest.mark.parametrize("short", ["x", "s" * 31])
def test_production_refuses_a_short_service_token(monkeypatch, short):
    monkeypatch.setenv("CW_ENV", "production")
    for key, value in STRONG.items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("CW_SERVICE_TOKEN", short)
    with pytest.raises(ValidationError, match="CW_SERVICE_TOKEN"):
        CommonSettings()


def test_service_refuses_to_start_in_production_with_defaults(monkeypatch):
    """The app's lifespan builds settings, so a misconfigured service never serves."""
    import asyncio

    from registry.main import app

    monkeypatch.setenv("CW_ENV", "production")

    async def start() -> None:
        async with app.router.lifespan_context(app):
            pass

    with pytest.raises(ValidationError):
        asyncio.run(start())
