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
    assert set(compose["services"]) == {"postgres", "migrate", "gateway", "console", *APP_SERVICES}


def test_console_runs_on_8004_in_production_without_database_or_token_secrets(compose):
    console = compose["services"]["console"]
    assert "console.main:app" in console["command"] and "8004" in console["command"]
    env = console["environment"]
    assert env["CW_ENV"] == "production"
    assert env["CONSOLE_SESSION_SECRET"].startswith("${")
    # It calls the public APIs with each person's token: it needs no key to anything.
    assert not {"DATABASE_URL", "CW_JWT_SECRET", "CW_SERVICE_TOKEN"} & set(env)
    assert "console" in compose["services"]["gateway"]["depends_on"]


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


def _route(path: str) -> str:
    """Where nginx sends ``path``: the first matching regex location, else the longest
    matching prefix location (``location /`` last)."""
    conf = (REPO_ROOT / "deploy" / "gateway.conf").read_text(encoding="utf-8")
    for pattern, target in _gateway_routes():
        if pattern.search(path):
            return target
    prefixes = []
    for prefix, body in re.findall(r"location (/\S*) \{\s*([^}]*)\}", conf):
        target = re.search(r"proxy_pass http://(\w+);", body)
        prefixes.append((prefix, target.group(1) if target else "blocked"))
    matching = [(len(p), t) for p, t in prefixes if path.startswith(p)]
    return max(matching)[1] if matching else "blocked"


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
            services = [t for pattern, t in routes if pattern.search(sample) and t != "blocked"]
            assert services == [name], f"{path} matches {services}, expected {name} only"
            assert _route(sample) == name


def test_gateway_sends_the_console_its_pages_and_no_api_path():
    from console.main import app as console_app

    paths = set(console_app.openapi()["paths"])
    assert {"/", "/login", "/map", "/cases/{case_id}"} <= paths
    for path in paths:
        sample = re.sub(r"\{[^}]+\}", "x", path)
        assert not sample.startswith("/v1"), f"console path {path} would shadow the API"
        assert _route(sample) == "console", f"{path} does not reach the console"
    assert _route("/static/leaflet/leaflet.js") == "console"
    assert _route("/v1/no-such-thing") == "blocked"  # an unknown API path is not a console page
    assert _route("/open311/v2/requests.json") == "inspections"
    assert _route("/v1/internal/sample-points/x/context") == "blocked"


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
