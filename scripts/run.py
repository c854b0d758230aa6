"""`make run`: the database, migrations, the three services and the console, until Ctrl-C.

Without DATABASE_URL it starts the embedded PostgreSQL (data under .data/),
creates the ``chuangwei`` database, applies the Alembic migrations once, then
starts registry, inspections, reporting and the console as uvicorn processes. Ctrl-C (or
SIGTERM) stops the services, then the embedded database.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

SERVICES = [
    ("registry", "REGISTRY_PORT", 8001),
    ("inspections", "INSPECTIONS_PORT", 8002),
    ("reporting", "REPORTING_PORT", 8003),
    ("console", "CONSOLE_PORT", 8004),
]


def prepare_database() -> tuple[str, object | None]:
    """The URL to use, and the embedded server handle (kept alive while we run)."""
    from sqlalchemy.engine import make_url

    from shared.embedded_db import dev_database_url, start_embedded_postgres

    if url := os.environ.get("DATABASE_URL"):
        return url, None
    server = start_embedded_postgres()
    url = dev_database_url(server)
    print(f"embedded PostgreSQL: {make_url(url).render_as_string()}", flush=True)
    return url, server


def migrate(url: str) -> None:
    from alembic import command
    from alembic.config import Config

    config = Config(str(REPO / "alembic.ini"))
    config.attributes["database_url"] = url
    command.upgrade(config, "head")


def main() -> int:
    url, server = prepare_database()
    migrate(url)
    ports = {name: int(os.environ.get(var, default)) for name, var, default in SERVICES}
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "CW_REGISTRY_URL": f"http://127.0.0.1:{ports['registry']}",
        "CW_INSPECTIONS_URL": f"http://127.0.0.1:{ports['inspections']}",
        "CW_REPORTING_URL": f"http://127.0.0.1:{ports['reporting']}",
    }
    host = os.environ.get("CW_HOST", "127.0.0.1")
    processes: list[subprocess.Popen] = []
    for name, _, _ in SERVICES:
        cmd = [
            sys.executable,
            "-m",
            "uvicorn",
            f"{name}.main:app",
            "--host",
            host,
            "--port",
            str(ports[name]),
            "--no-access-log",
        ]
        processes.append(subprocess.Popen(cmd, env=env, cwd=REPO))
        page = "/" if name == "console" else "/docs"
        print(f"{name:12s} http://{host}:{ports[name]}{page}", flush=True)

    stopping = False

    def stop(*_: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    exit_code = 0
    while not stopping:
        for proc in processes:
            if proc.poll() is not None:
                print(f"a service exited with {proc.returncode}; stopping the others", flush=True)
                exit_code = proc.returncode or 1
                stopping = True
        time.sleep(0.3)
    for proc in processes:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
    for proc in processes:
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
    if server is not None:
        server.cleanup()  # stops the embedded PostgreSQL
    print("stopped", flush=True)
    return exit_code


if __name__ == "__main__":
    sys.exit(main())
