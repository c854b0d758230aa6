"""The 创卫 archive: the documents each category requires, their files, and completeness."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, File, Query, Request, Response, UploadFile, status
from fastapi.responses import FileResponse

from registry.archive import service
from registry.archive.dependencies import CurrentFile, CurrentItem
from registry.archive.schemas import (
    ArchiveFileRead,
    ArchiveItemCreate,
    ArchiveItemRead,
    ArchiveItemUpdate,
    CategoryCompleteness,
)
from registry.archive.storage import blob_path, safe_filename, store
from shared.auth import AdminUser, CurrentUser
from shared.concurrency import check_if_match, set_etag
from shared.db import SessionDep
from shared.errors import NotFound, PayloadTooLarge
from shared.pagination import CursorParam, LimitParam, Page

router = APIRouter(prefix="/v1/archive-items", tags=["archive"])


async def _read(session: SessionDep, item) -> ArchiveItemRead:
    return (await service.with_files(session, [item]))[0]


@router.get("", response_model=Page[ArchiveItemRead])
async def list_archive_items(
    session: SessionDep,
    principal: CurrentUser,
    category: uuid.UUID | None = None,
    required: bool | None = None,
    limit: LimitParam = 50,
    cursor: CursorParam = None,
) -> Page[ArchiveItemRead]:
    """List archive items by code, each with its files; filter by `category` or `required`."""
    items, next_cursor = await service.list_items(
        session,
        region_id=principal.region_id,
        category=category,
        required=required,
        cursor=cursor,
        limit=limit,
    )
    return Page(items=items, next_cursor=next_cursor)


@router.get("/completeness", response_model=Page[CategoryCompleteness])
async def archive_completeness(
    session: SessionDep,
    principal: CurrentUser,
    standard: uuid.UUID | None = Query(None, description="Only this standard's categories."),
) -> Page[CategoryCompleteness]:
    """Per category (in section order, never paged): how many required items exist, how many have at least one file, and the fraction (1 when nothing is required). Optional items do not count."""
    rows = await service.completeness(session, region_id=principal.region_id, standard=standard)
    return Page(items=rows)


@router.post("", response_model=ArchiveItemRead, status_code=status.HTTP_201_CREATED)
async def create_archive_item(
    principal: AdminUser, body: ArchiveItemCreate, session: SessionDep, response: Response
) -> ArchiveItemRead:
    """Add a required (or optional) document to a category (admin); codes are unique in the region (409)."""
    item = await service.create_item(session, region_id=principal.region_id, body=body)
    set_etag(response, item.version)
    return await _read(session, item)


@router.get("/{item_id}", response_model=ArchiveItemRead)
async def get_archive_item(
    item: CurrentItem, session: SessionDep, response: Response
) -> ArchiveItemRead:
    """One archive item with its files."""
    set_etag(response, item.version)
    return await _read(session, item)


@router.patch("/{item_id}", response_model=ArchiveItemRead)
async def update_archive_item(
    principal: AdminUser,
    body: ArchiveItemUpdate,
    item: CurrentItem,
    session: SessionDep,
    request: Request,
    response: Response,
) -> ArchiveItemRead:
    """Change an archive item (admin, `If-Match` honoured)."""
    check_if_match(request, item.version)
    item = await service.update_item(session, item, body.model_dump(exclude_unset=True))
    set_etag(response, item.version)
    return await _read(session, item)


@router.delete("/{item_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_archive_item(
    principal: AdminUser, item: CurrentItem, session: SessionDep, request: Request
) -> None:
    """Delete an archive item and its file records (admin, `If-Match` honoured)."""
    check_if_match(request, item.version)
    await service.delete_item(session, item)


@router.post(
    "/{item_id}/files", response_model=ArchiveFileRead, status_code=status.HTTP_201_CREATED
)
async def upload_archive_file(
    principal: AdminUser,
    item: CurrentItem,
    file: Annotated[UploadFile, File(description="The document (multipart field `file`).")],
    session: SessionDep,
    request: Request,
    response: Response,
) -> ArchiveFileRead:
    """Attach a file to an archive item (admin, multipart field `file`); larger than the configured limit (default 20 MiB) is 413, empty is 422. The item's version goes up."""
    settings = request.app.state.settings
    if file.size is not None and file.size > settings.max_upload_bytes:
        raise PayloadTooLarge(f"The file is larger than {settings.max_upload_bytes} bytes.")
    check_if_match(request, item.version)
    sha256, size = await store(
        file.file, archive_dir=settings.archive_dir, max_bytes=settings.max_upload_bytes
    )
    row = await service.add_file(
        session,
        item,
        filename=safe_filename(file.filename),
        content_type=(file.content_type or "application/octet-stream")[:100],
        size=size,
        sha256=sha256,
        uploaded_by=principal.person_id,
    )
    set_etag(response, item.version)
    return ArchiveFileRead.model_validate(row)


@router.get("/{item_id}/files/{file_id}", response_class=FileResponse)
async def download_archive_file(stored: CurrentFile, request: Request) -> FileResponse:
    """Download a file of an archive item, with its original name and content type."""
    path = blob_path(request.app.state.settings.archive_dir, stored.sha256)
    if not path.is_file():
        raise NotFound("The file's content is missing from the store.")
    return FileResponse(path, media_type=stored.content_type, filename=stored.filename)


@router.delete("/{item_id}/files/{file_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_archive_file(
    principal: AdminUser,
    item: CurrentItem,
    stored: CurrentFile,
    session: SessionDep,
    request: Request,
) -> None:
    """Remove a file from an archive item (admin, `If-Match` on the item honoured)."""
    check_if_match(request, item.version)
    await service.delete_file(session, item, stored)
