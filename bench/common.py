"""Shared helpers for the benchmarks in ``bench/``.

* :func:`fresh_database` — a throw-away database on the embedded PostgreSQL (or on the
  server of ``DATABASE_URL``), migrated by the real Alembic history, dropped afterwards.
* :func:`asyncpg_connect` — a raw asyncpg connection to such a URL (for fast ``COPY`` seeding).
* :class:`ServerProcess` — an ASGI app served by uvicorn as a separate process on 127.0.0.1.
* :func:`run_load` — a closed-loop HTTP/1.1 keep-alive load generator with N concurrent
  clients, run in its *own process* (own event loop, own CPU accounting), returning
  :class:`LoadResult` (requests/s and latency percentiles).
* :func:`markdown_table` and :func:`write_results` — how every bench reports.
* ``constant_app`` — a FastAPI app with one constant answer: the framework's ceiling on this
  machine, to divide real endpoints by.

Traffic only ever goes to 127.0.0.1.
"""

from __future__ import annotations

import asyncio
import json
import os
import platform
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

BENCH_DIR = Path(__file__).resolve().parent
REPO_ROOT = BENCH_DIR.parent
RESULTS_DIR = BENCH_DIR / "results"
LOG_DIR = REPO_ROOT / ".data" / "bench"

if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))


# --------------------------------------------------------------------------- database


def _admin_url() -> str:
    from sqlalchemy.engine import make_url

    configured = os.environ.get("DATABASE_URL")
    if configured:
        return make_url(configured).set(database="postgres").render_as_string(hide_password=False)
    from shared.embedded_db import server_url, start_embedded_postgres

    return server_url(start_embedded_postgres(keep_running=True), "postgres")


def asyncpg_connect_kwargs(url: str) -> dict[str, Any]:
    """asyncpg ``connect()`` arguments for a SQLAlchemy-style URL (Unix-socket aware)."""
    from sqlalchemy.engine import make_url

    u = make_url(url)
    return {
        "user": u.username,
        "password": u.password or None,
        "database": u.database,
        "host": u.query.get("host") or u.host,
        "port": u.port,
    }


async def asyncpg_connect(url: str):
    import asyncpg

    return await asyncpg.connect(**asyncpg_connect_kwargs(url))


def _execute(url: str, statement: str) -> None:
    async def run() -> None:
        conn = await asyncpg_connect(url)
        try:
            await conn.execute(statement)
        finally:
            await conn.close()

    asyncio.run(run())


@contextmanager
def fresh_database(prefix: str = "cw_bench") -> Iterator[str]:
    """A new database migrated to head; yields its URL and drops it on exit."""
    from alembic import command
    from alembic.config import Config
    from sqlalchemy.engine import make_url

    admin = _admin_url()
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    url = make_url(admin).set(database=name).render_as_string(hide_password=False)
    _execute(admin, f'CREATE DATABASE "{name}"')
    try:
        config = Config(str(REPO_ROOT / "alembic.ini"))
        config.attributes["database_url"] = url
        command.upgrade(config, "head")
        yield url
    finally:
        _execute(admin, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


# --------------------------------------------------------------------------- servers


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class ServerProcess:
    """``uvicorn <app>`` on 127.0.0.1 with one worker; use as a context manager."""

    app: str
    env: dict[str, str] = field(default_factory=dict)
    app_dir: Path | None = None
    ready_path: str = "/healthz"
    port: int = field(default_factory=free_port)
    process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def cpu_seconds(self) -> float | None:
        """User + system CPU time the server process has used so far (Linux), else ``None``."""
        try:
            fields = Path(f"/proc/{self.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
            return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        except (OSError, AttributeError, IndexError, ValueError):
            return None

    def __enter__(self) -> ServerProcess:
        import httpx

        LOG_DIR.mkdir(parents=True, exist_ok=True)
        log_path = LOG_DIR / f"{self.app.replace(':', '_').replace('.', '_')}.log"
        cmd = [sys.executable, "-m", "uvicorn", self.app, "--host", "127.0.0.1"]
        cmd += ["--port", str(self.port), "--workers", "1", "--no-access-log"]
        cmd += ["--log-level", "warning"]
        if self.app_dir is not None:
            cmd += ["--app-dir", str(self.app_dir)]
        with open(log_path, "ab") as log:
            self.process = subprocess.Popen(
                cmd,
                env={**os.environ, **self.env},
                cwd=REPO_ROOT,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.app} exited; see {log_path}")
            try:
                if httpx.get(self.url + self.ready_path, timeout=1).status_code == 200:
                    return self
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        self.__exit__(None, None, None)
        raise RuntimeError(f"{self.app} did not become ready; see {log_path}")

    def __exit__(self, *exc: object) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def _constant_app():
    from fastapi import FastAPI

    app = FastAPI()

    @app.get("/constant")
    async def constant() -> dict[str, bool]:
        return {"ok": True}

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    return app


def __getattr__(name: str) -> Any:
    # Built lazily so importing this module does not import FastAPI.
    if name == "constant_app":
        return _constant_app()
    raise AttributeError(name)


def constant_server() -> ServerProcess:
    """The ceiling: a constant JSON answer from plain FastAPI on uvicorn (1 worker)."""
    return ServerProcess(app="common:constant_app", app_dir=BENCH_DIR)


# --------------------------------------------------------------------------- load


@dataclass
class LoadResult:
    name: str
    concurrency: int
    requests: int
    errors: int
    seconds: float
    rps: float
    p50_ms: float
    p90_ms: float
    p99_ms: float
    max_ms: float
    status_counts: dict[str, int]
    server_cpu_ms_per_request: float | None = None
    latencies: list[float] = field(default_factory=list, repr=False)

    def summary(self) -> dict[str, Any]:
        """The figures without the raw latencies (what the JSON results keep)."""
        return {k: v for k, v in asdict(self).items() if k != "latencies"}


def percentile(sorted_values: Sequence[float], fraction: float) -> float:
    """Nearest-rank percentile of already sorted values."""
    if not sorted_values:
        return float("nan")
    rank = max(1, min(len(sorted_values), round(fraction * len(sorted_values) + 0.5)))
    return sorted_values[rank - 1]


async def _read_response(reader: asyncio.StreamReader) -> tuple[int, bytes, bool]:
    """One HTTP/1.1 response: (status, body, keep_alive)."""
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ", 2)[1])
    headers = {}
    for line in lines[1:]:
        if ":" in line:
            key, _, value = line.partition(":")
            headers[key.strip().lower()] = value.strip()
    if "content-length" in headers:
        body = await reader.readexactly(int(headers["content-length"]))
    elif headers.get("transfer-encoding", "").lower() == "chunked":
        parts = []
        while True:
            size = int((await reader.readline()).split(b";")[0], 16)
            if size == 0:
                await reader.readline()
                break
            parts.append(await reader.readexactly(size))
            await reader.readline()
        body = b"".join(parts)
    else:
        body = await reader.read()
        return status, body, False
    return status, body, headers.get("connection", "").lower() != "close"


async def _load(
    port: int,
    paths: list[str],
    headers: dict[str, str],
    concurrency: int,
    requests: int,
    max_seconds: float,
    warmup: int,
    loadgen: str = "raw",
    on_warm=None,
) -> dict[str, Any]:
    if loadgen == "httpx":
        return await _load_httpx(
            port, paths, headers, concurrency, requests, max_seconds, warmup, on_warm
        )
    extra = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
    encoded = [
        f"GET {p} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n{extra}\r\n".encode("latin-1")
        for p in paths
    ]
    latencies: list[float] = []
    statuses: dict[str, int] = {}

    async def phase(count: int, deadline: float, record: bool) -> None:
        next_index = 0

        async def client() -> None:
            nonlocal next_index
            reader = writer = None
            while next_index < count and time.perf_counter() < deadline:
                index = next_index
                next_index += 1
                if writer is None:
                    reader, writer = await asyncio.open_connection("127.0.0.1", port)
                started = time.perf_counter()
                try:
                    writer.write(encoded[index % len(encoded)])
                    status, _, keep_alive = await _read_response(reader)
                except (OSError, asyncio.IncompleteReadError, ValueError):
                    status, keep_alive = 0, False
                elapsed = time.perf_counter() - started
                if record:
                    latencies.append(elapsed)
                    statuses[str(status)] = statuses.get(str(status), 0) + 1
                if not keep_alive:
                    writer.close()
                    reader = writer = None
            if writer is not None:
                writer.close()

        await asyncio.gather(*(client() for _ in range(concurrency)))

    if warmup:
        await phase(warmup, time.perf_counter() + max_seconds, record=False)
    if on_warm is not None:
        on_warm()
    began = time.perf_counter()
    await phase(requests, began + max_seconds, record=True)
    return {"latencies": latencies, "statuses": statuses, "seconds": time.perf_counter() - began}


async def _load_httpx(
    port: int,
    paths: list[str],
    headers: dict[str, str],
    concurrency: int,
    requests: int,
    max_seconds: float,
    warmup: int,
    on_warm=None,
) -> dict[str, Any]:
    """The same closed loop with ``httpx.AsyncClient`` (heavier per request than the raw client)."""
    import httpx

    latencies: list[float] = []
    statuses: dict[str, int] = {}
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(
        base_url=f"http://127.0.0.1:{port}", headers=headers, limits=limits, timeout=30
    ) as http:

        async def phase(count: int, deadline: float, record: bool) -> None:
            next_index = 0

            async def client() -> None:
                nonlocal next_index
                while next_index < count and time.perf_counter() < deadline:
                    index = next_index
                    next_index += 1
                    started = time.perf_counter()
                    try:
                        status = (await http.get(paths[index % len(paths)])).status_code
                    except httpx.HTTPError:
                        status = 0
                    if record:
                        latencies.append(time.perf_counter() - started)
                        statuses[str(status)] = statuses.get(str(status), 0) + 1

            await asyncio.gather(*(client() for _ in range(concurrency)))

        if warmup:
            await phase(warmup, time.perf_counter() + max_seconds, record=False)
        if on_warm is not None:
            on_warm()
        began = time.perf_counter()
        await phase(requests, began + max_seconds, record=True)
        return {
            "latencies": latencies,
            "statuses": statuses,
            "seconds": time.perf_counter() - began,
        }


def _load_worker() -> None:
    """Child side of :func:`run_load`: arguments as JSON on stdin, "warm" then the result on stdout."""
    try:
        import uvloop

        uvloop.install()
    except ImportError:
        pass
    args = json.loads(sys.stdin.readline())

    def warm() -> None:
        print("warm", flush=True)

    print(json.dumps(asyncio.run(_load(**args, on_warm=warm))), flush=True)


def run_load(
    name: str,
    base_url: str,
    paths: Sequence[str],
    *,
    concurrency: int = 16,
    requests: int = 2000,
    warmup: int = 100,
    headers: dict[str, str] | None = None,
    max_seconds: float = 30.0,
    server: ServerProcess | None = None,
    loadgen: str | None = None,
) -> LoadResult:
    """Drive ``paths`` (cycled) at ``concurrency`` keep-alive clients from a separate process.

    With ``server``, the result also says how much CPU the server process spent per request
    (warm-up included in neither figure). ``loadgen`` is ``"raw"`` (default: a minimal
    asyncio HTTP/1.1 client, cheap enough not to be the bottleneck) or ``"httpx"``;
    the ``BENCH_LOADGEN`` environment variable sets the default.
    """
    from urllib.parse import urlsplit

    parts = urlsplit(base_url)
    if parts.hostname not in ("127.0.0.1", "localhost"):
        raise ValueError("benchmarks only send traffic to 127.0.0.1")
    args = {
        "port": parts.port,
        "paths": list(paths),
        "headers": headers or {},
        "concurrency": concurrency,
        "requests": requests,
        "max_seconds": max_seconds,
        "warmup": warmup,
        "loadgen": loadgen or os.environ.get("BENCH_LOADGEN", "raw"),
    }
    # A plain child process (not multiprocessing), so callers need no __main__ guard.
    process = subprocess.Popen(
        [sys.executable, str(Path(__file__).resolve()), "--load-worker"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        cwd=REPO_ROOT,
    )
    try:
        process.stdin.write(json.dumps(args) + "\n")
        process.stdin.flush()
        if process.stdout.readline().strip() != "warm":
            raise RuntimeError(f"the load generator for {name!r} failed during warm-up")
        cpu_before = server.cpu_seconds() if server is not None else None
        line = process.stdout.readline()
        cpu_after = server.cpu_seconds() if server is not None else None
        if not line:
            raise RuntimeError(f"the load generator for {name!r} failed")
        raw = json.loads(line)
        process.wait(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    result = summarize(name, concurrency, raw["latencies"], raw["statuses"], raw["seconds"])
    if cpu_before is not None and cpu_after is not None and result.requests:
        cpu_ms = (cpu_after - cpu_before) * 1000 / result.requests
        result.server_cpu_ms_per_request = round(cpu_ms, 3)
    return result


def summarize(
    name: str,
    concurrency: int,
    latencies: Sequence[float],
    statuses: dict[str, int],
    seconds: float,
) -> LoadResult:
    ordered = sorted(latencies)
    done = len(ordered)
    return LoadResult(
        name=name,
        concurrency=concurrency,
        requests=done,
        errors=done - statuses.get("200", 0),
        seconds=round(seconds, 3),
        rps=round(done / seconds, 1) if seconds else 0.0,
        p50_ms=round(percentile(ordered, 0.50) * 1000, 2),
        p90_ms=round(percentile(ordered, 0.90) * 1000, 2),
        p99_ms=round(percentile(ordered, 0.99) * 1000, 2),
        max_ms=round(ordered[-1] * 1000, 2) if ordered else float("nan"),
        status_counts=dict(statuses),
        latencies=ordered,
    )


def combine(results: Sequence[LoadResult]) -> LoadResult:
    """Several runs of one scenario (e.g. interleaved rounds) as one result."""
    statuses: dict[str, int] = {}
    for r in results:
        for status, count in r.status_counts.items():
            statuses[status] = statuses.get(status, 0) + count
    combined = summarize(
        results[0].name,
        results[0].concurrency,
        [x for r in results for x in r.latencies],
        statuses,
        sum(r.seconds for r in results),
    )
    cpu = [(r.server_cpu_ms_per_request, r.requests) for r in results]
    if all(ms is not None for ms, _ in cpu) and combined.requests:
        combined.server_cpu_ms_per_request = round(
            sum(ms * n for ms, n in cpu) / combined.requests, 3
        )
    return combined


# --------------------------------------------------------------------------- reporting


def markdown_table(results: Sequence[LoadResult]) -> str:
    lines = [
        "| scenario | clients | requests | errors | req/s | p50 ms | p90 ms | p99 ms | max ms"
        " | server CPU ms/req |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        lines.append(
            f"| {r.name} | {r.concurrency} | {r.requests} | {r.errors} | {r.rps:.0f} | "
            f"{r.p50_ms:.1f} | {r.p90_ms:.1f} | {r.p99_ms:.1f} | {r.max_ms:.1f} | "
            + (f"{r.server_cpu_ms_per_request:.2f} |" if r.server_cpu_ms_per_request else "– |")
        )
    return "\n".join(lines)


def machine() -> dict[str, Any]:
    load = os.getloadavg() if hasattr(os, "getloadavg") else None
    return {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
        "loadavg_at_end": load,
    }


def write_results(bench: str, payload: dict[str, Any]) -> Path:
    """``bench/results/<bench>.json`` (gitignored), with a timestamp and the machine."""
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    path = RESULTS_DIR / f"{bench}.json"
    body = {
        "bench": bench,
        "finished_at": datetime.now(UTC).isoformat(),
        "machine": machine(),
        **{k: ([r.summary() for r in v] if _is_results(v) else v) for k, v in payload.items()},
    }
    path.write_text(json.dumps(body, indent=2, ensure_ascii=False, default=str))
    return path


def _is_results(value: Any) -> bool:
    return isinstance(value, list) and bool(value) and isinstance(value[0], LoadResult)


if __name__ == "__main__" and sys.argv[1:] == ["--load-worker"]:
    _load_worker()
