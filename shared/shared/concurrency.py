"""Optimistic concurrency over HTTP: ``ETag`` out, ``If-Match`` in, 412 when stale."""

from __future__ import annotations

from fastapi import Request, Response

from shared.errors import PreconditionFailed


def etag(version: int) -> str:
    return f'"{version}"'


def set_etag(response: Response, version: int) -> None:
    response.headers["ETag"] = etag(version)


def check_if_match(request: Request, current_version: int) -> None:
    """Refuse with 412 when ``If-Match`` names another version; no header means no check."""
    header = request.headers.get("if-match")
    if header is None or header.strip() == "*":
        return
    wanted = {tag.strip().removeprefix("W/").strip('"') for tag in header.split(",")}
    if str(current_version) not in wanted:
        raise PreconditionFailed(
            f"The record changed (now version {current_version}); reload it and try again.",
            extra={"current_version": current_version},
        )
