"""A real HTTP receiver of webhooks on 127.0.0.1, started by a test (uvicorn, in-process).

It records every request it gets (headers, raw body) and answers 200 unless told
to fail the next ``fail_next`` requests with 500, to answer another ``status``
(with ``extra_headers``), or to wait ``delay`` seconds first. ``stop()`` closes the listening socket (senders meet a refused connection,
as with a receiver that is down) and ``start()`` brings it back on the same port.
"""

from __future__ import annotations

import asyncio
import json
import socket
from dataclasses import dataclass, field
from typing import Any

import uvicorn
from starlette.requests import Request


@dataclass
class Received:
    headers: dict[str, str]
    body: bytes
    path: str

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class Receiver:
    port: int = 0
    fail_next: int = 0
    delay: float = 0.0
    answer: dict[str, Any] | None = None
    status: int = 200
    extra_headers: list[tuple[bytes, bytes]] = field(default_factory=list)
    received: list[Received] = field(default_factory=list)
    _server: uvicorn.Server | None = None
    _task: asyncio.Task | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook"

    async def __call__(self, scope, receive, send) -> None:  # the ASGI app
        if scope["type"] != "http":
            return
        request = Request(scope, receive)
        body = await request.body()
        self.received.append(
            Received(
                headers=dict(request.headers),
                body=body,
                path=scope["path"]
                + ("?" + scope["query_string"].decode() if scope["query_string"] else ""),
            )
        )
        if self.delay:
            await asyncio.sleep(self.delay)
        status = self.status
        if self.fail_next > 0:
            self.fail_next -= 1
            status = 500
        payload = json.dumps(self.answer or {"ok": True}).encode()
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [(b"content-type", b"application/json"), *self.extra_headers],
            }
        )
        await send({"type": "http.response.body", "body": payload})

    async def start(self) -> Receiver:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", self.port))
        self.port = sock.getsockname()[1]
        config = uvicorn.Config(self, log_level="warning", lifespan="off", access_log=False)
        self._server = uvicorn.Server(config)
        self._task = asyncio.create_task(self._server.serve(sockets=[sock]))
        for _ in range(1000):
            if self._server.started:
                break
            await asyncio.sleep(0.01)
        return self

    async def stop(self) -> None:
        if self._server is not None and self._task is not None:
            self._server.should_exit = True
            self._server.force_exit = True  # do not wait for a request it is holding
            await self._task
        self._server = self._task = None

    def of_type(self, event_type: str) -> list[Received]:
        return [r for r in self.received if r.json().get("type") == event_type]
