"""The first thing every request meets: size limits and the text rule for paths and queries.

A pure-ASGI middleware, so a body that is too large is refused with 413 before
anything reads it into memory (``Content-Length`` is checked up front, a
chunked body is counted as it streams), and a control character in the path or
query string is a 422 before any route runs (shared.inputs explains the rule).

Limits: JSON (and any other) bodies 2 MB, a ``…/batch`` endpoint 10 MB;
uploads (multipart, image or octet-stream bodies) 64 MB here and, more tightly,
by the endpoint that knows what it stores (photos, archive files, imports).
"""

from __future__ import annotations

from urllib.parse import unquote

import orjson
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from shared.audit import actor_var
from shared.errors import PROBLEM_JSON, problem
from shared.inputs import text_problem

JSON_LIMIT = 2 * 1024 * 1024
BATCH_LIMIT = 10 * 1024 * 1024
UPLOAD_LIMIT = 64 * 1024 * 1024  # outer cap; each upload endpoint enforces its own, smaller one


class BodyTooLarge(HTTPException):
    """Raised inside ``receive`` when a streamed body passes its limit.

    An HTTPException, because FastAPI turns any other error while it reads the
    body into a 400; this one reaches the problem-details handler as a 413.
    """

    def __init__(self, limit: int) -> None:
        super().__init__(413, _too_large_detail(limit))


UPLOAD_TYPES = ("multipart/", "image/", "application/octet-stream")


def body_limit(path: str, content_type: str) -> int:
    """The most bytes this request's body may have."""
    if content_type.startswith(UPLOAD_TYPES):
        return UPLOAD_LIMIT
    return BATCH_LIMIT if path.endswith("/batch") else JSON_LIMIT


class RequestGuardMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = scope["path"]
        bad = text_problem(path)
        query = scope.get("query_string", b"")
        if bad is None and query:
            bad = text_problem(unquote(query.decode("latin-1"), errors="replace"))
        if bad is not None:
            await _answer(scope, send, 422, f"The path or query string {bad}.", "validation-error")
            return
        content_type, declared = "", None
        for name, value in scope["headers"]:
            if name == b"content-type":
                content_type = value.decode("latin-1").lower()
            elif name == b"content-length":
                declared = value
        limit = body_limit(path, content_type)
        if declared is not None and declared.isdigit() and int(declared) > limit:
            await _too_large(scope, send, limit)
            return
        received = 0
        started = False

        async def counted_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise BodyTooLarge(limit)
            return message

        async def watched_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        actor = actor_var.set(None)  # set by authentication; never outlives the request
        try:
            await self.app(scope, counted_receive, watched_send)
        except BodyTooLarge:
            if started:
                raise
            await _too_large(scope, send, limit)
        finally:
            actor_var.reset(actor)


def _too_large_detail(limit: int) -> str:
    return f"The request body is larger than {limit // (1024 * 1024)} MB; nothing was saved."


async def _too_large(scope: Scope, send: Send, limit: int) -> None:
    await _answer(scope, send, 413, _too_large_detail(limit), "payload-too-large")


async def _answer(scope: Scope, send: Send, status: int, detail: str, slug: str) -> None:
    body = orjson.dumps(problem(status, detail, slug=slug, instance=scope["path"]))
    headers = [
        (b"content-type", PROBLEM_JSON.encode()),
        (b"content-length", str(len(body)).encode()),
    ]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
