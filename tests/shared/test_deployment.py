"""docker-compose.yml cannot run here (no Docker engine), so it is checked as a file."""

from __future__ import annotations

import re

import pytest
import yaml

from shared.embedded_db import REPO_ROOT

APP_SERVICES = {"registry": 8001, "inspections": 8002, "reporting": 8003}


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load((REPO_ROOT / "docker-compose.yml").read_text(encoding="utf-8"))


def test_compose_names_every_service(compose):
    assert set(compose["services"]) == {"postgres", "migrate", "gateway", *APP_SERVICES}


def test_migrations_run_once_before_the_services(compose):
    migrate = compose["services"]["migrate"]
    assert migrate["command"] == ["alembic", "upgrade", "head"]
    assert migrate["restart"] == "no"
    assert migrate["depends_on"]["postgres"]["condition"] == "service_healthy"
    for name, port in APP_SERVICES.items():
        service = compose["services"][name]
        assert service["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
        assert f"{name}.main:app" in service["command"] and str(port) in service["command"]
        assert "alembic" not in " ".join(service["command"])  # only `migrate` upgrades


def test_services_run_in_production_mode_with_secrets_from_the_environment(compose):
    for name in APP_SERVICES:
        env = compose["services"][name]["environment"]
        assert env["CW_ENV"] == "production"
        for secret in ("CW_JWT_SECRET", "CW_SERVICE_TOKEN", "CW_BOOTSTRAP_ADMIN"):
            assert env[secret].startswith("${"), f"{name}.{secret} must come from the environment"


def _gateway_routes() -> list[tuple[re.Pattern[str], str]]:
    conf = (REPO_ROOT / "deploy" / "gateway.conf").read_text(encoding="utf-8")
    routes = []
    for pattern, body in re.findall(r"location ~ (\S+) \{\s*([^}]*)\}", conf):
        target = re.search(r"proxy_pass http://(\w+);", body)
        routes.append((re.compile(pattern), target.group(1) if target else "blocked"))
    return routes


def test_gateway_routes_every_public_path_to_the_service_that_serves_it():
    from inspections.main import app as inspections_app
    from registry.main import app as registry_app
    from reporting.main import app as reporting_app

    routes = _gateway_routes()
    apps = {"registry": registry_app, "inspections": inspections_app, "reporting": reporting_app}
    for name, app in apps.items():
        for path in app.openapi()["paths"]:
            if not path.startswith("/v1/") or path.startswith("/v1/internal/"):
                continue
            sample = re.sub(r"\{[^}]+\}", "x", path)
            targets = [target for pattern, target in routes if pattern.search(sample)]
            assert targets == [name], f"{path} routes to {targets}, expected {name}"


def test_gateway_does_not_publish_internal_endpoints():
    conf = (REPO_ROOT / "deploy" / "gateway.conf").read_text(encoding="utf-8")
    assert "location /v1/internal/ { return 404; }" in conf


def test_services_see_the_clients_address_and_clients_cannot_forge_it(compose):
    """Per-address rate limits need the client's address behind the gateway, unforgeable."""
    conf = (REPO_ROOT / "deploy" / "gateway.conf").read_text(encoding="utf-8")
    assert "proxy_set_header X-Forwarded-For $remote_addr;" in conf
    assert "$proxy_add_x_forwarded_for" not in conf  # would keep a client-sent header
    for name in ("registry", "inspections", "reporting"):
        service = compose["services"][name]
        assert service["environment"]["FORWARDED_ALLOW_IPS"] == "*"
        assert "ports" not in service, f"{name} must be reachable only through the gateway"
