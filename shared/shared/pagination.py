"""Opaque cursor pagination: ``?limit=&cursor=`` in, ``{items, next_cursor}`` out.

A cursor is the sort key of the last row returned (URL-safe base64 of JSON),
so pages stay stable while rows are inserted, and sorting is always completed
by ``id`` to make it total.
"""

from __future__ import annotations

import base64
import binascii
import json
from typing import Annotated, Any, Generic, TypeVar

from fastapi import Query
from pydantic import BaseModel

from shared.errors import BadRequest

T = TypeVar("T")

DEFAULT_LIMIT = 50
MAX_LIMIT = 500


class Page(BaseModel, Generic[T]):
    items: list[T]
    next_cursor: str | None = None


LimitParam = Annotated[
    int,
    Query(ge=1, le=MAX_LIMIT, description=f"Page size (default {DEFAULT_LIMIT}, max {MAX_LIMIT})."),
]
CursorParam = Annotated[
    str | None, Query(description="Opaque cursor from the previous page's `next_cursor`.")
]


def encode_cursor(values: list[Any]) -> str:
    raw = json.dumps(values, default=str, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str | None, *, size: int) -> list[Any] | None:
    """The sort-key values inside ``cursor``, or ``None``; a malformed cursor is a 400."""
    if not cursor:
        return None
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        values = json.loads(base64.urlsafe_b64decode(padded.encode()))
    except (binascii.Error, ValueError, UnicodeDecodeError) as exc:
        raise BadRequest("The cursor is not valid; start again without it.") from exc
    if not isinstance(values, list) or len(values) != size:
        raise BadRequest("The cursor is not valid for this list; start again without it.")
    return values


def next_cursor(rows: list[Any], limit: int, key) -> str | None:
    """Given ``limit + 1`` fetched rows, the cursor for the next page (or ``None``)."""
    if len(rows) <= limit:
        return None
    return encode_cursor(list(key(rows[limit - 1])))
