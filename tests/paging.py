"""Reading a cursor-paginated list (``{"items", "next_cursor"}``) to its end.

:func:`all_pages` with a ``limit`` is a pagination test in itself: it fails unless the
list really came in several pages of at most ``limit`` items, every page but the last
full, no item twice — so a list that ignored ``limit`` (one big page) or a cursor that
started over cannot pass. Without ``limit`` it simply reads everything.
"""

from __future__ import annotations

import json
from typing import Any

MAX_PAGES = 1000


async def all_pages(
    client: Any,
    path: str,
    *,
    headers: dict[str, str],
    params: dict[str, Any] | None = None,
    limit: int | None = None,
) -> list[dict[str, Any]]:
    """Every item of ``GET path``, following ``next_cursor``; with ``limit``, also check the
    list was paged (the caller makes sure there are more items than ``limit``)."""
    items: list[dict[str, Any]] = []
    sizes: list[int] = []
    cursor = None
    while True:
        query = {**(params or {}), **({"limit": limit} if limit else {})}
        if cursor:
            query["cursor"] = cursor
        response = await client.get(path, params=query, headers=headers)
        assert response.status_code == 200, response.text
        body = response.json()
        items += body["items"]
        sizes.append(len(body["items"]))
        cursor = body["next_cursor"]
        if not cursor:
            break
        assert len(sizes) < MAX_PAGES, f"{path}: the cursor never ends"
    if limit is not None:
        assert len(sizes) >= 2, (
            f"{path}: {len(items)} items came in one page with limit={limit}; "
            "the list was not paged (or the test asked for too few items)"
        )
        assert max(sizes) <= limit, f"{path}: page sizes {sizes} exceed limit={limit}"
        assert all(size == limit for size in sizes[:-1]), (
            f"{path}: page sizes {sizes}: a page before the last is not full"
        )
        keys = [json.dumps(item, sort_keys=True) for item in items]
        assert len(set(keys)) == len(keys), f"{path}: an item came twice across pages"
    return items
