"""The gateway as it runs in production: Debian's nginx with ``deploy/gateway.conf`` in
front of registry, inspections, reporting and the console, each a real process.

docker-compose.yml cannot run here (no engine), but its gateway can: the test renders
the real file with as little change as possible — the upstreams' compose host names
become this test's processes on free ports, ``listen`` a free port — and wraps it in an
``http {}`` block as the nginx image does with ``conf.d/*.conf``. Every request below goes
over HTTP through nginx, the way a phone, a browser or an integrator would send it.
"""

from __future__ import annotations

import http.client
import os
import re
import shutil
import signal
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import httpx
import jwt
import pytest
import yaml

from shared.embedded_db import REPO_ROOT
from shared.processes import free_port
from shared.settings import DEV_SERVICE_TOKEN
from tests.e2e.conftest import SERVICE_NAMES, Stack
from tests.e2e.console_world import PASSWORD, ConsoleWorld, build_world

GATEWAY_CONF = REPO_ROOT / "deploy" / "gateway.conf"
UPSTREAMS = (*SERVICE_NAMES, "console")
ANONYMOUS_OPEN311_READS = 5  # per minute and client address, for the forwarding test
NO_SUCH_ID = "00000000-0000-4000-8000-000000000000"


def render_gateway(conf: str, ports: dict[str, int], listen: int) -> str:
    """``gateway.conf`` pointed at this test's processes; nothing else is changed."""
    for name, port in ports.items():
        conf, count = re.subn(
            rf"(upstream {name}\s*\{{\s*server )[^;]+;", rf"\g<1>127.0.0.1:{port};", conf
        )
        assert count == 1, f"gateway.conf has no upstream {name}"
    conf, count = re.subn(
        r"^(\s*)listen \d+;", rf"\g<1>listen 127.0.0.1:{listen};", conf, flags=re.M
    )
    assert count == 1, "gateway.conf listens on one port"
    return conf


def nginx_main_conf(folder: Path) -> str:
    """The rest of an nginx.conf, as the nginx image has it, with every path in ``folder``."""
    temp = "\n".join(
        f"    {kind}_temp_path {folder / kind};"
        for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    # As root, nginx's workers would drop to `nobody`, who cannot enter pytest's folder.
    user = "user root;\n" if os.geteuid() == 0 else ""
    return (
        f"{user}worker_processes 1;\npid {folder / 'nginx.pid'};\n"
        f"error_log {folder / 'error.log'} warn;\n"
        "events { worker_connections 256; }\n"
        f"http {{\n    access_log {folder / 'access.log'};\n{temp}\n"
        f"    include {folder / 'gateway.conf'};\n}}\n"
    )


@dataclass
class Gateway:
    """nginx's address, the processes behind it and a district built through it."""

    url: str
    services: Stack
    world: ConsoleWorld
    region_code: str
    region_id: str

    def direct(self, name: str) -> str:
        return self.services.url(name)


def _nginx() -> str:
    binary = shutil.which("nginx") or "/usr/sbin/nginx"
    if not Path(binary).exists():
        pytest.fail(
            "Debian's nginx is not installed: `make test` installs it as root "
            "(scripts/system-packages.sh nginx)",
            pytrace=False,
        )
    return binary


@pytest.fixture(scope="module")
def services(stack: Stack) -> Iterator[Stack]:
    """The four processes behind the gateway: the session's registry, and inspections,
    reporting and the console of this module's own, set as docker-compose.yml sets them
    (the forwarding test also counts Open311 reads per client address, which must not
    touch the shared inspections)."""
    compose = yaml.safe_load((REPO_ROOT / "docker-compose.yml").read_text(encoding="utf-8"))
    ports = {"registry": stack.ports["registry"]} | {
        name: free_port() for name in ("inspections", "reporting", "console")
    }
    env = {
        **stack.env,
        **{f"CW_{name.upper()}_URL": f"http://127.0.0.1:{port}" for name, port in ports.items()},
        # The services trust the gateway's X-Forwarded-For; Swagger signs in through it.
        "FORWARDED_ALLOW_IPS": compose["x-service"]["environment"]["FORWARDED_ALLOW_IPS"],
        "CW_DOCS_SIGN_IN_URL": compose["x-service"]["environment"]["CW_DOCS_SIGN_IN_URL"],
        "INSPECTIONS_OPEN311_ANONYMOUS_RATE_LIMIT": f"{ANONYMOUS_OPEN311_READS}/minute",
        # Plain HTTP here; compose allows 0 on a trusted intranet (Secure needs HTTPS).
        "CONSOLE_COOKIE_SECURE": "0",
    }
    own = Stack(env=env, ports=ports)
    try:
        for name in ("inspections", "reporting", "console"):
            own.start(name)
        yield own
    finally:
        own.stop_all()


@pytest.fixture(scope="module")
def gateway_url(services: Stack, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """nginx running the rendered gateway.conf in the foreground, on a free port."""
    nginx = _nginx()
    folder = tmp_path_factory.mktemp("gateway")
    listen = free_port()
    conf = render_gateway(GATEWAY_CONF.read_text(encoding="utf-8"), services.ports, listen)
    (folder / "gateway.conf").write_text(conf, encoding="utf-8")
    (folder / "nginx.conf").write_text(nginx_main_conf(folder), encoding="utf-8")
    command = [
        nginx,
        "-p",
        str(folder),
        "-c",
        str(folder / "nginx.conf"),
        "-e",
        str(folder / "error.log"),
    ]
    checked = subprocess.run([*command, "-t"], capture_output=True, text=True)
    assert checked.returncode == 0, checked.stderr
    process = subprocess.Popen([*command, "-g", "daemon off;"], stderr=subprocess.PIPE)
    url = f"http://127.0.0.1:{listen}"
    try:
        deadline = time.monotonic() + 20
        while True:
            assert process.poll() is None, process.stderr.read().decode()
            try:
                httpx.get(f"{url}/healthz", timeout=1)
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline, "nginx did not answer"
                time.sleep(0.1)
        yield url
    finally:
        process.send_signal(signal.SIGQUIT)  # graceful: finish the requests in flight
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture(scope="module")
async def gateway(gateway_url: str, services: Stack, database_url: str) -> Gateway:
    """A demo-like district built through the gateway alone: sign-in, units and points
    (registry), cases, a photo upload and case actions (inspections, which asks the
    registry for each point's context directly, behind the gateway)."""
    world = await build_world(database_url, gateway_url, gateway_url)
    region_id = jwt.decode(world.tokens["admin"], options={"verify_signature": False})["rid"]
    async with httpx.AsyncClient(base_url=services.url("registry")) as registry:
        context = await registry.get(
            "/v1/internal/deadline-context",
            headers={"Authorization": f"Bearer {DEV_SERVICE_TOKEN}", "X-Region-Id": region_id},
        )
    region = context.json()["region"]
    return Gateway(gateway_url, services, world, region["code"], region_id)


def _public_operations(spec: dict) -> Iterator[tuple[str, str]]:
    """(method, sample path) of every public operation: ids become one unknown UUID."""
    for path, item in spec["paths"].items():
        if not path.startswith(("/v1/", "/open311/")) or path.startswith("/v1/internal/"):
            continue
        for method in ("get", "post", "put", "patch", "delete"):
            if method in item:
                yield method.upper(), re.sub(r"\{[^}]+\}", NO_SUCH_ID, path)


def test_every_public_api_path_reaches_the_service_that_serves_it(gateway: Gateway):
    """Each operation of each service's OpenAPI, sent without a token through nginx,
    gets exactly the answer that service gives it directly (another service, the console
    or nginx would answer 404 Not Found, a page or a redirect)."""
    checked = 0
    with httpx.Client(timeout=10) as client:
        for name in SERVICE_NAMES:
            spec = client.get(f"{gateway.direct(name)}/openapi.json").json()
            for method, path in _public_operations(spec):
                own = client.request(method, f"{gateway.direct(name)}{path}")
                through = client.request(method, f"{gateway.url}{path}")
                assert (through.status_code, through.content) == (own.status_code, own.content), (
                    f"{method} {path}: {through.status_code} through the gateway, "
                    f"{own.status_code} from {name}"
                )
                assert own.headers["content-type"].startswith("application/")
                checked += 1
    assert checked > 100  # the three services' public operations, all of them


async def test_signed_in_calls_reach_registry_inspections_reporting_and_open311(
    gateway: Gateway,
):
    world = gateway.world
    async with httpx.AsyncClient(base_url=gateway.url, timeout=30) as client:
        units = await client.get("/v1/units", headers=world.headers("admin"))
        assert units.status_code == 200 and units.json()["items"]
        case = await client.get(
            f"/v1/cases/{world.closed_case_ids[0]}", headers=world.headers("admin")
        )
        assert case.status_code == 200 and case.json()["status"] == "closed"
        report = await client.get(
            "/v1/reports/units", params={"month": world.due_month}, headers=world.headers("admin")
        )
        assert report.status_code == 200 and report.json()["items"], report.text
        services = await client.get(
            "/open311/v2/services.json", params={"jurisdiction_id": gateway.region_code}
        )
        assert services.status_code == 200 and services.json(), services.text


def test_the_console_serves_its_pages_and_assets_through_the_gateway(gateway: Gateway):
    """Sign in to the console through nginx and open the dashboard; its stylesheets,
    scripts and images load from the gateway too."""
    with httpx.Client(base_url=gateway.url, timeout=30) as browser:
        login = browser.get("/login")
        assert login.status_code == 200 and "text/html" in login.headers["content-type"]
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', login.text).group(1)
        signed_in = browser.post(
            "/login",
            data={
                "csrf_token": csrf,
                "next": "/",
                "username": gateway.world.username("leader"),
                "password": PASSWORD,
            },
        )
        assert signed_in.status_code == 303 and signed_in.headers["location"] == "/"
        dashboard = browser.get("/")
        assert dashboard.status_code == 200, dashboard.text[:500]
        assets = set(re.findall(r'(?:src|href)="(/static/[^"?]+)', dashboard.text + login.text))
        assert any(a.endswith(".css") for a in assets), assets
        for asset in sorted(assets | {"/static/leaflet/leaflet.js"}):
            through = browser.get(asset)
            direct = httpx.get(f"{gateway.direct('console')}{asset}")
            assert through.status_code == 200, asset
            assert through.content == direct.content, asset


def test_internal_endpoints_are_refused_and_the_services_still_reach_each_other(
    gateway: Gateway,
):
    # The world's cases were reported through the gateway at sample points: inspections
    # asked the registry for each point's context at /v1/internal/ directly.
    assert gateway.world.closed_case_ids and gateway.world.open_case_ids
    service_call = {
        "Authorization": f"Bearer {DEV_SERVICE_TOKEN}",
        "X-Region-Id": gateway.region_id,
    }
    direct = httpx.get(
        f"{gateway.direct('registry')}/v1/internal/deadline-context", headers=service_call
    )
    assert direct.status_code == 200 and direct.json()["region"]["code"] == gateway.region_code
    # The plain path and the spellings that normalise to it (nginx decodes and merges
    # before it matches a location), sent byte for byte as written.
    netloc = urlsplit(gateway.url).netloc
    for path in (
        "/v1/internal/deadline-context",
        "/v1/internal",
        "/v1//internal/deadline-context",
        "/v1/%69nternal/deadline-context",
        "/v1/units/../internal/deadline-context",
        "/v1/internal/sample-points/" + NO_SUCH_ID + "/context",
    ):
        connection = http.client.HTTPConnection(netloc, timeout=10)
        connection.request("GET", path, headers=service_call)
        answer = connection.getresponse()
        body = answer.read()
        connection.close()
        assert answer.status == 404, f"{path}: {answer.status}"
        assert b"nginx" in body, f"{path} reached a service: {body[:200]!r}"


def test_a_client_sent_x_forwarded_for_is_replaced_by_the_gateway(gateway: Gateway):
    """Keyless Open311 reads are limited per client address, which the services take from
    X-Forwarded-For. Straight to inspections, a forged header would give every request an
    address of its own; through the gateway they all count as this client."""
    reads = ANONYMOUS_OPEN311_READS + 1
    query = {"jurisdiction_id": gateway.region_code}

    def statuses(base: str) -> list[int]:
        return [
            httpx.get(
                f"{base}/open311/v2/services.json",
                params=query,
                headers={"X-Forwarded-For": f"198.51.100.{n + 1}"},
            ).status_code
            for n in range(reads)
        ]

    assert statuses(gateway.direct("inspections")) == [200] * reads  # the header is trusted
    through = statuses(gateway.url)
    assert through[-1] == 429 and 200 in through, through


SWAGGER_URLS = re.compile(r"""(?:src|href|spec-url)="([^"]+)"|\burl: '([^']+)'""")


@pytest.mark.parametrize("name", SERVICE_NAMES)
def test_each_services_docs_and_openapi_are_published_under_its_name(gateway: Gateway, name):
    """An integrator opens /<service>/docs: the Swagger page, its script, stylesheet,
    icon and OpenAPI document all load through the gateway, and the document is the
    service's own, with no server prefix (Try it out calls /v1/… on the gateway)."""
    own_spec = httpx.get(f"{gateway.direct(name)}/openapi.json").json()
    with httpx.Client(base_url=gateway.url, timeout=30) as client:
        for page in (f"/{name}/docs", f"/{name}/redoc"):
            html = client.get(page)
            assert html.status_code == 200 and "text/html" in html.headers["content-type"]
            urls = {a or b for a, b in SWAGGER_URLS.findall(html.text)}
            assert f"/{name}/openapi.json" in urls, urls
            assert any(u.endswith(".js") for u in urls), urls
            for url in urls:
                assert url.startswith(f"/{name}/"), f"{page} links {url} outside /{name}/"
                answer = client.get(urljoin(f"{gateway.url}{page}", url))
                assert answer.status_code == 200, f"{page}: {url} → {answer.status_code}"
        published = client.get(f"/{name}/openapi.json").json()
        assert published == own_spec and "servers" not in published
        assert published["info"]["title"] == f"Chuangwei {name}"
        # Swagger's Authorize button signs in at the document's token URL, seen from the page.
        (scheme,) = published["components"]["securitySchemes"].values()
        token_url = urljoin(f"{gateway.url}/{name}/docs", scheme["flows"]["password"]["tokenUrl"])
        assert token_url.startswith(f"{gateway.url}/"), f"{token_url} is not the gateway"
        signed_in = client.post(
            token_url,
            data={"username": gateway.world.username("admin"), "password": PASSWORD},
        )
        assert signed_in.status_code == 200 and signed_in.json()["access_token"], token_url
        # Only the docs live under the name: the API stays at /v1, and the rest is the console's.
        elsewhere = client.get(f"/{name}/v1/units")
        console = httpx.get(f"{gateway.direct('console')}/{name}/v1/units")
        assert (elsewhere.status_code, elsewhere.content) == (console.status_code, console.content)


def test_the_rendered_gateway_is_the_compose_gateway():
    """What the test changes in gateway.conf is only what docker-compose.yml supplies:
    the upstreams' host names and ports (compose services) and the published port."""
    compose = yaml.safe_load((REPO_ROOT / "docker-compose.yml").read_text(encoding="utf-8"))
    conf = GATEWAY_CONF.read_text(encoding="utf-8")
    for name in UPSTREAMS:
        host, port = re.search(rf"upstream {name}\s*\{{\s*server ([\w-]+):(\d+);", conf).groups()
        assert host == name and f"--port {port}" in " ".join(compose["services"][name]["command"])
    listen = re.search(r"listen (\d+);", conf).group(1)
    assert compose["services"]["gateway"]["ports"] == [f"{listen}:{listen}"]
    rendered = render_gateway(conf, dict.fromkeys(UPSTREAMS, 1), 2)
    changed = [
        (a, b) for a, b in zip(conf.splitlines(), rendered.splitlines(), strict=True) if a != b
    ]
    assert len(changed) == len(UPSTREAMS) + 1, changed
