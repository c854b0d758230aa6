"""sample-points endpoints: the registered sites to inspect, their map search, import and export."""

from __future__ import annotations

import uuid
from typing import Annotated, Any, Literal

import orjson
from fastapi import APIRouter, File, Header, Query, Request, Response, UploadFile, status

from registry.sample_points import importing, repository, service
from registry.sample_points.dependencies import CurrentSamplePoint
from registry.sample_points.schemas import (
    ImportResult,
    SamplePointCreate,
    SamplePointRead,
    SamplePointUpdate,
)
from shared import clock
from shared.auth import AdminUser, CurrentUser
from shared.concurrency import check_if_match, etag
from shared.db import ReadConnectionDep, SessionDep
from shared.errors import PayloadTooLarge, Unprocessable
from shared.inputs import Instant
from shared.pagination import DEFAULT_LIMIT, CursorParam, LimitParam, Page
from shared.spreadsheets import table_csv, table_xlsx, wants_chinese

router = APIRouter(prefix="/v1/sample-points", tags=["sample-points"])


def json_response(
    payload: Any, *, status_code: int = 200, headers: dict[str, str] | None = None
) -> Response:
    # orjson straight to bytes: these lists are the phone's hottest endpoints.
    return Response(
        orjson.dumps(payload, default=str),
        status_code=status_code,
        headers=headers,
        media_type="application/json",
    )


LIST_DESCRIPTION = """
List sample points the caller may see (unit accounts: only their unit's).

* Default order: by `code`, live points only (`status` filter optional).
* `updated_since` (delta sync): every point changed at or after that instant, by
  `(updated_at, id)`, **deleted points included as tombstones** (`"deleted": true`).
  A retired point is not a tombstone: it stays with `"status": "retired"`.
  The bound is inclusive, so a phone can pass the last `updated_at` it saw.
* `division`: the named division and its whole subtree (street → community → grid).
* `q`: case-insensitive substring of name, code or address.
* `near=lat,lon` with `radius_m` (default 1000, max 50000): live points within the
  radius, nearest first by great-circle distance (mean Earth radius 6371008.8 m),
  each with `distance_m`. The cursor continues after `(distance_m, id)` of the
  last item. Cannot be combined with `updated_since`.
* Lists of other filters refer to the caller's region only; an unknown id simply matches nothing.
"""


@router.get("", response_model=Page[SamplePointRead], description=LIST_DESCRIPTION)
async def list_sample_points(
    principal: CurrentUser,
    connection: ReadConnectionDep,
    point_type_id: Annotated[uuid.UUID | None, Query(alias="type")] = None,
    division_id: Annotated[uuid.UUID | None, Query(alias="division")] = None,
    unit_id: Annotated[uuid.UUID | None, Query(alias="unit")] = None,
    point_status: Annotated[Literal["active", "retired"] | None, Query(alias="status")] = None,
    q: Annotated[str | None, Query(max_length=200)] = None,
    near: Annotated[str | None, Query(description="`lat,lon`", examples=["28.44,118.20"])] = None,
    radius_m: Annotated[float, Query(gt=0, le=repository.MAX_RADIUS_M)] = 1000.0,
    updated_since: Instant | None = None,
    limit: LimitParam = DEFAULT_LIMIT,
    cursor: CursorParam = None,
) -> Response:
    """List and search sample points (filters, delta sync, nearest first)."""
    filters = repository.scope_filters(
        principal,
        point_type_id=point_type_id,
        division_id=division_id,
        unit_id=unit_id,
        status=point_status,
        q=q,
    )
    if near is not None:
        if updated_since is not None:
            raise Unprocessable(
                "`near` and `updated_since` cannot be combined.",
                errors=[{"loc": ["query", "updated_since"], "msg": "not allowed with near"}],
            )
        lat, lon = repository.parse_near(near)
        items, next_cursor = await repository.near_points(
            connection, filters, lat=lat, lon=lon, radius_m=radius_m, cursor=cursor, limit=limit
        )
    else:
        items, next_cursor = await repository.list_points(
            connection, filters, updated_since=updated_since, cursor=cursor, limit=limit
        )
    # The items arrive as JSON rendered by PostgreSQL; only the envelope is built here.
    body = b'{"items":' + items + b',"next_cursor":' + orjson.dumps(next_cursor) + b"}"
    return Response(body, media_type="application/json")


@router.post(
    "", response_model=SamplePointRead, status_code=status.HTTP_201_CREATED, responses={201: {}}
)
async def create_sample_point(
    data: SamplePointCreate, principal: AdminUser, session: SessionDep
) -> Response:
    """Register a sample point (admin); its type, division and unit must belong to the region (422 naming each that does not), its code must be new (409)."""
    point = await service.create_point(session, principal.region_id, data)
    return json_response(
        service.to_read(point),
        status_code=201,
        headers={"ETag": etag(point.version), "Location": f"/v1/sample-points/{point.id}"},
    )


@router.get(
    "/export",
    responses={200: {"content": {"text/csv": {}, importing.XLSX_TYPE: {}}}},
    response_class=Response,
)
async def export_sample_points(
    principal: CurrentUser,
    session: SessionDep,
    file_format: Annotated[Literal["csv", "xlsx"], Query(alias="format")] = "csv",
    language: Annotated[
        str | None,
        Header(alias="Accept-Language", description="zh* → Chinese headings and title."),
    ] = None,
) -> Response:
    """Download the live points the caller may see as CSV (UTF-8 with BOM) or XLSX: a title row (region, time of export), the headings (Chinese for `Accept-Language: zh*`), one point per row by code. The file imports back unchanged: import skips the title row, reads either language's headings and ignores the extra columns."""
    table = await importing.export_table(
        session, principal, chinese=wants_chinese(language), now=clock.now()
    )
    if file_format == "xlsx":
        content, media_type = table_xlsx(table), importing.XLSX_TYPE
    else:
        content, media_type = table_csv(table), "text/csv; charset=utf-8"
    return Response(
        content,
        media_type=media_type,
        headers={"Content-Disposition": f'attachment; filename="sample-points.{file_format}"'},
    )


@router.post("/import", response_model=ImportResult)
async def import_sample_points(
    request: Request,
    principal: AdminUser,
    session: SessionDep,
    file: Annotated[UploadFile, File(description="CSV (UTF-8, BOM optional) or XLSX")],
) -> ImportResult:
    """Upsert sample points by `code` from a CSV or XLSX (admin). Every row is checked first; any bad row → 422 listing `{row, column, msg}` (header = row 1) and nothing changes. Too large → 413; not CSV/XLSX → 415. A deleted point whose code is imported again is restored; status is kept."""
    limit = request.app.state.settings.max_upload_bytes
    declared = request.headers.get("content-length")
    if (declared and declared.isdigit() and int(declared) > limit + 64 * 1024) or (
        file.size is not None and file.size > limit
    ):
        raise PayloadTooLarge(f"The file is larger than {limit} bytes.")
    data = await file.read(limit + 1)
    if len(data) > limit:
        raise PayloadTooLarge(f"The file is larger than {limit} bytes.")
    fmt = importing.detect_format(file.filename, file.content_type, data[:8])
    table = importing.read_table(data, fmt)
    return ImportResult(**await importing.import_points(session, principal.region_id, table))


@router.get("/{point_id}", response_model=SamplePointRead)
async def get_sample_point(point: CurrentSamplePoint) -> Response:
    """One live sample point with its `ETag`; deleted, another unit's (for unit accounts) or another region's → 404."""
    return json_response(service.to_read(point), headers={"ETag": etag(point.version)})


@router.patch("/{point_id}", response_model=SamplePointRead)
async def update_sample_point(
    data: SamplePointUpdate,
    point: CurrentSamplePoint,
    principal: AdminUser,
    session: SessionDep,
    request: Request,
) -> Response:
    """Change a sample point (admin; e.g. `{"status": "retired"}`); send `If-Match: "<version>"` — a stale version answers 412 and changes nothing."""
    check_if_match(request, point.version)
    point = await service.update_point(session, point, data)
    return json_response(service.to_read(point), headers={"ETag": etag(point.version)})


@router.delete("/{point_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_sample_point(
    point: CurrentSamplePoint, principal: AdminUser, session: SessionDep, request: Request
) -> Response:
    """Soft-delete a sample point (admin; `If-Match` honoured): it disappears from lists and reads, and appears in delta sync as a tombstone."""
    check_if_match(request, point.version)
    await service.delete_point(session, point)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
