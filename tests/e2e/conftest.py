"""The three services as real processes on the test database, driven over HTTP."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field

import httpx
import pytest

from shared.embedded_db import REPO_ROOT
from shared.processes import free_port, stop_process

SERVICE_NAMES = ("registry", "inspections", "reporting")


@dataclass
class Stack:
    """Running service processes; ``stop``/``start`` one to test outages."""

    env: dict[str, str]
    ports: dict[str, int]
    processes: dict[str, subprocess.Popen] = field(default_factory=dict)

    def url(self, name: str) -> str:
        return f"http://127.0.0.1:{self.ports[name]}"

    def start(self, name: str, *, timeout: float = 90.0, env: dict[str, str] | None = None) -> None:
        """Start ``name`` with the stack's environment (``env`` laid over it) and wait for it."""
        log = open(REPO_ROOT / ".data" / f"e2e-{name}.log", "ab")  # noqa: SIM115
        self.processes[name] = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "uvicorn",
                f"{name}.main:app",
                "--host",
                "127.0.0.1",
                "--port",
                str(self.ports[name]),
                "--no-access-log",
            ],
            env={**self.env, **(env or {})},
            cwd=REPO_ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.processes[name].poll() is not None:
                raise RuntimeError(f"{name} exited; see .data/e2e-{name}.log")
            try:
                if httpx.get(f"{self.url(name)}/readyz", timeout=1).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        raise RuntimeError(f"{name} did not become ready; see .data/e2e-{name}.log")

    def stop(self, name: str) -> None:
        proc = self.processes.pop(name, None)
        if proc is not None:
            stop_process(proc)

    def restart(self, name: str, **env: str) -> None:
        """Stop ``name`` and start it again with ``env`` (e.g. ``CW_CLOCK_OFFSET_SECONDS``)."""
        self.stop(name)
        self.start(name, env=env)

    def stop_all(self) -> None:
        for name in list(self.processes):
            self.stop(name)


@pytest.fixture(scope="session")
def stack(database_url: str) -> Iterator[Stack]:
    """registry, inspections and reporting on free ports, ready, for the whole session."""
    (REPO_ROOT / ".data").mkdir(exist_ok=True)
    ports = {name: free_port() for name in SERVICE_NAMES}
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "CW_ENV": "test",
        "CW_DEMO": "0",
        "CW_LOG_LEVEL": "WARNING",
        # No background retries of pending inspections: a test that wants the loop restarts
        # inspections with it on (test_registry_down), so no process finishes other tests' rows.
        "INSPECTIONS_PENDING_RETRY_SECONDS": "0",
        **{f"CW_{name.upper()}_URL": f"http://127.0.0.1:{port}" for name, port in ports.items()},
    }
    stack = Stack(env=env, ports=ports)
    try:
        for name in SERVICE_NAMES:
            stack.start(name)
        yield stack
    finally:
        stack.stop_all()


@pytest.fixture
async def pending_loop(stack: Stack) -> AsyncIterator[Stack]:
    """The stack with inspections retrying pending inspections every half second (the
    product's own background loop), for the tests that wait for it; restored after."""
    await asyncio.to_thread(stack.restart, "inspections", INSPECTIONS_PENDING_RETRY_SECONDS="0.5")
    try:
        yield stack
    finally:
        await asyncio.to_thread(stack.restart, "inspections")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/e2e/" in str(item.fspath).replace("\\", "/"):
            item.add_marker(pytest.mark.e2e)
