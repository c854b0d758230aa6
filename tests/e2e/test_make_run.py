"""`make run`'s script on an empty database: migrate, bootstrap, demo and its history, serve,
stop on Ctrl-C."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import httpx
import pytest
from sqlalchemy.engine import make_url

from shared.embedded_db import REPO_ROOT
from shared.processes import free_port
from tests.conftest import _admin_url, _execute_autocommit
from tests.statement_log import RECORDER


@pytest.fixture
def blank_database_url():
    """A database with nothing in it, not even the schema."""
    admin = _admin_url()
    name = f"cw_run_{uuid.uuid4().hex[:10]}"
    _execute_autocommit(admin, f'CREATE DATABASE "{name}"')
    RECORDER.watch(admin, name)
    yield make_url(admin).set(database=name).render_as_string(hide_password=False)
    _execute_autocommit(admin, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _wait_ready(url: str, process: subprocess.Popen, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert process.poll() is None, "scripts/run.py exited early"
        try:
            if httpx.get(f"{url}/readyz", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise AssertionError(f"{url} never became ready")


def _assert_the_demo_has_a_history(reporting: str, token: str, process: subprocess.Popen) -> None:
    """Within the first start, the demo district's reports show months of work (SPEC §13)."""
    headers = {"Authorization": f"Bearer {token}"}
    deadline = time.monotonic() + 150
    notices: list = []
    while time.monotonic() < deadline and not notices:
        assert process.poll() is None, "scripts/run.py exited early"
        notices = httpx.get(f"{reporting}/v1/accountability/notices", headers=headers).json()[
            "items"
        ]
        time.sleep(1)
    assert notices, "no accountability notice within 150 s of the first start"
    today = datetime.now(ZoneInfo("Asia/Shanghai")).date()
    last_month = (today.replace(day=1) - timedelta(days=1)).strftime("%Y-%m")
    units = httpx.get(
        f"{reporting}/v1/reports/units", params={"month": last_month}, headers=headers
    ).json()["items"]
    assert len([u for u in units if u["rank"] is not None and u["due"] > 0]) >= 5, units
    coverage = httpx.get(f"{reporting}/v1/reports/coverage", headers=headers).json()
    blind = {p["sample_point_id"] for p in coverage["blind_spots"]}
    assert blind and {p["sample_point_id"] for p in coverage["items"]} - blind


def test_run_migrates_bootstraps_loads_the_demo_and_stops_cleanly(blank_database_url, database_url):
    ports = {name: free_port() for name in ("registry", "inspections", "reporting", "console")}
    env = {
        **os.environ,
        "DATABASE_URL": blank_database_url,
        "CW_ENV": "development",
        "CW_DEMO": "1",
        "CW_LOG_LEVEL": "WARNING",
        "REGISTRY_PORT": str(ports["registry"]),
        "INSPECTIONS_PORT": str(ports["inspections"]),
        "REPORTING_PORT": str(ports["reporting"]),
        "CONSOLE_PORT": str(ports["console"]),
        "REPORTING_DAILY_RUN_ENABLED": "0",
    }
    process = subprocess.Popen(
        [sys.executable, "scripts/run.py"],
        cwd=REPO_ROOT,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        for port in ports.values():
            _wait_ready(f"http://127.0.0.1:{port}", process)
        registry = f"http://127.0.0.1:{ports['registry']}"
        # The bootstrap admin of the default region and the demo district's accounts both sign in.
        for username, password in (
            ("admin", "admin-dev-password"),
            ("demo-admin", "demo-password"),
        ):
            token = httpx.post(
                f"{registry}/v1/auth/token", data={"username": username, "password": password}
            )
            assert token.status_code == 200, (username, token.text)
        points = httpx.get(
            f"{registry}/v1/sample-points?limit=500",
            headers={"Authorization": f"Bearer {token.json()['access_token']}"},
        )
        assert len(points.json()["items"]) == 172
        _assert_the_demo_has_a_history(
            f"http://127.0.0.1:{ports['reporting']}", token.json()["access_token"], process
        )
        # The console answers with its sign-in page, in Chinese by default.
        console = f"http://127.0.0.1:{ports['console']}"
        sign_in = httpx.get(f"{console}/", follow_redirects=True)
        assert sign_in.status_code == 200 and "登录" in sign_in.text
    finally:
        process.send_signal(signal.SIGINT)
        output, _ = process.communicate(timeout=30)
    assert process.returncode == 0, output
    assert "stopped" in output
    assert f"console      http://127.0.0.1:{ports['console']}/" in output
    for port in ports.values():
        with pytest.raises(httpx.TransportError):
            httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1)
