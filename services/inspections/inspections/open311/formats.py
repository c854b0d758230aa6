"""Open311's two wire formats, and its error shape on every ``/open311/`` path.

GeoReport v2 answers in XML (required by the standard) and JSON, chosen by the
path's extension (``services.json``, ``requests/{id}.xml``). Both are rendered
here from the same Python values, so they cannot carry different data: a JSON
list becomes a root element with one child per item (``service_requests`` →
``request``), nested lists get their own wrapper (``attributes`` →
``attribute``), ``true``/``false`` for booleans and an empty element for null.

Errors follow the standard too: a list of ``{"code", "description"}``
(``<errors><error><code/><description/></error></errors>``). The rest of the
API keeps RFC 9457 problem details; :class:`Open311ErrorMiddleware` rewrites
every problem answered on an ``/open311/`` path — validation errors (400, the
standard's status for bad input, instead of 422), authentication, rate limits,
unknown paths, database outages — into this shape, so no error escapes in the
other format.
"""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from collections.abc import Mapping, Sequence
from typing import Any, Literal

import structlog
from fastapi import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from shared.errors import PROBLEM_JSON

log = structlog.get_logger("chuangwei.open311")

Format = Literal["json", "xml"]
OPEN311_PREFIX = "/open311/"
JSON_TYPE = "application/json; charset=utf-8"
XML_TYPE = "text/xml; charset=utf-8"

# Characters XML 1.0 cannot carry at all; dropped rather than answering a broken document.
_NOT_XML = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")

# Element name of one item of a list, by the list's own element name.
ITEM_TAGS = {
    "services": "service",
    "service_requests": "request",
    "attributes": "attribute",
    "values": "value",
    "errors": "error",
}


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    return _NOT_XML.sub("", str(value))


def _append(parent: ET.Element, tag: str, value: Any) -> None:
    element = ET.SubElement(parent, tag)
    if isinstance(value, Mapping):
        for key, child in value.items():
            _append(element, key, child)
    elif isinstance(value, Sequence) and not isinstance(value, str):
        item_tag = ITEM_TAGS.get(tag, "item")
        for child in value:
            _append(element, item_tag, child)
    else:
        element.text = _text(value)


def to_xml(root: str, value: Mapping[str, Any] | Sequence[Any]) -> bytes:
    """``value`` as an XML document whose root element is ``root``."""
    document = ET.Element(root)
    if isinstance(value, Mapping):
        for key, child in value.items():
            _append(document, key, child)
    else:
        item_tag = ITEM_TAGS[root]
        for child in value:
            _append(document, item_tag, child)
    return ET.tostring(document, encoding="utf-8", xml_declaration=True)


def render(
    fmt: Format,
    root: str,
    value: Mapping[str, Any] | Sequence[Any],
    *,
    status_code: int = 200,
    headers: Mapping[str, str] | None = None,
) -> Response:
    """The answer in the format the path asked for; ``root`` names XML's root element."""
    if fmt == "xml":
        return Response(to_xml(root, value), status_code, headers, media_type=XML_TYPE)
    body = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    return Response(body.encode(), status_code, headers, media_type=JSON_TYPE)


def error_items(problem: Mapping[str, Any]) -> list[dict[str, Any]]:
    """A problem-details body as Open311's error list: one entry per field error."""
    status = problem.get("status") or 500
    code = 400 if status == 422 else status
    errors = problem.get("errors") or []
    items = []
    for error in errors:
        loc = [str(part) for part in error.get("loc") or [] if part not in ("body", "query")]
        where = ".".join(loc)
        message = str(error.get("msg") or "invalid")
        items.append({"code": code, "description": f"{where}: {message}" if where else message})
    return items or [{"code": code, "description": str(problem.get("detail") or "Error")}]


def path_format(path: str) -> Format:
    return "xml" if path.endswith(".xml") else "json"


class Open311ErrorMiddleware:
    """Rewrites problem-details answers on ``/open311/`` paths into Open311's error list.

    Only answers whose content type is ``application/problem+json`` are touched;
    an exception no handler turned into an answer is logged and becomes a 500 in
    the same shape.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith(OPEN311_PREFIX):
            await self.app(scope, receive, send)
            return
        fmt = path_format(scope["path"])
        held: Message | None = None
        chunks: list[bytes] = []
        started = False

        async def send_rewritten(message: Message) -> None:
            nonlocal held, started
            if message["type"] == "http.response.start":
                headers = dict(message.get("headers") or [])
                if headers.get(b"content-type", b"").startswith(PROBLEM_JSON.encode()):
                    held = message
                    return
                started = True
                await send(message)
                return
            if held is None or message["type"] != "http.response.body":
                await send(message)
                return
            chunks.append(message.get("body", b""))
            if message.get("more_body"):
                return
            try:
                problem = json.loads(b"".join(chunks))
            except ValueError:
                problem = {"status": held["status"], "detail": "Error"}
            problem.setdefault("status", held["status"])
            await _send_errors(send, held, fmt, error_items(problem))

        try:
            await self.app(scope, receive, send_rewritten)
        except Exception:
            if started:
                raise
            log.exception("unhandled_error", path=scope["path"])
            start: Message = {"type": "http.response.start", "status": 500, "headers": []}
            await _send_errors(
                send, start, fmt, [{"code": 500, "description": "Internal server error"}]
            )


async def _send_errors(send: Send, start: Message, fmt: Format, items: list[dict]) -> None:
    response = render(fmt, "errors", items)
    status = 400 if start["status"] == 422 else start["status"]
    kept = [
        (name, value)
        for name, value in start.get("headers") or []
        if name.lower() not in (b"content-type", b"content-length")
    ]
    headers = kept + [
        (b"content-type", response.media_type.encode()),
        (b"content-length", str(len(response.body)).encode()),
    ]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": response.body})


_ERROR_LIST_SCHEMA: dict[str, Any] = {
    "type": "array",
    "description": "GeoReport v2 errors; in XML `<errors><error><code/><description/></error></errors>`.",
    "items": {
        "type": "object",
        "required": ["code", "description"],
        "properties": {"code": {"type": "integer"}, "description": {"type": "string"}},
    },
}


def document_open311_errors(schema: dict[str, Any]) -> None:
    """In the OpenAPI document, the errors of ``/open311/`` operations are Open311's list
    (JSON or XML), and bad input is a 400 there, never a 422 (in place)."""
    for path, item in schema.get("paths", {}).items():
        if not path.startswith(OPEN311_PREFIX):
            continue
        for operation in item.values():
            if not isinstance(operation, dict):
                continue
            responses = operation.get("responses", {})
            responses.pop("412", None)  # nothing here takes If-Match
            invalid = responses.pop("422", None)
            if invalid is not None:
                responses.setdefault("400", {"description": "Bad input, one entry per problem."})
            for status, response in responses.items():
                if status.isdigit() and int(status) >= 400:
                    response["content"] = {
                        "application/json": {"schema": _ERROR_LIST_SCHEMA},
                        "text/xml": {},
                    }
