"""Photo endpoints: upload by client id, read back by anyone who may see a record using it."""

from __future__ import annotations

import asyncio
import uuid
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Request, Response

from inspections.photos import service
from inspections.photos.dependencies import BlobStoreDep
from inspections.photos.schemas import PhotoRead
from shared.auth import Principal, require_roles
from shared.db import SessionDep
from shared.errors import NotFound

router = APIRouter(prefix="/v1/photos", tags=["photos"])

Uploader = Annotated[Principal, Depends(require_roles("admin", "inspector", "unit", "leader"))]
Reader = Annotated[
    Principal, Depends(require_roles("admin", "inspector", "unit", "leader", "service"))
]


@router.put(
    "/{photo_id}",
    response_model=PhotoRead,
    status_code=201,
    responses={
        200: {"description": "The same bytes were already uploaded under this id."},
        409: {"description": "Other bytes were already uploaded under this id."},
        413: {"description": "Larger than 15 MB."},
        415: {
            "description": "Not a JPEG, PNG, HEIC/HEIF or WebP image (sniffed from the bytes) "
            "that decodes in full."
        },
    },
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                mime: {"schema": {"type": "string", "format": "binary"}}
                for mime in service.ALLOWED_TYPES
            },
        }
    },
)
async def upload_photo(
    photo_id: uuid.UUID,
    request: Request,
    response: Response,
    session: SessionDep,
    principal: Uploader,
    store: BlobStoreDep,
) -> PhotoRead:
    """Upload the raw bytes of a photo under a client-generated id (201 new, 200 same bytes again, 409 other bytes; the type is sniffed from the bytes, the Content-Type header is ignored; EXIF DateTimeOriginal becomes `taken_at`, read in the region's time zone when the camera wrote no offset)."""
    settings = request.app.state.settings
    upload = await service.receive_upload(
        request.stream(),
        max_bytes=settings.max_photo_bytes,
        declared_length=request.headers.get("content-length"),
    )
    try:
        photo, created = await service.store_photo(
            session, store, principal=principal, photo_id=photo_id, upload=upload
        )
    finally:
        upload.close()
    response.status_code = 201 if created else 200
    response.headers["Location"] = f"/v1/photos/{photo.id}"
    response.headers["ETag"] = f'"{photo.sha256}"'
    return PhotoRead.model_validate(photo)


@router.get(
    "/{photo_id}",
    response_class=Response,
    responses={200: {"content": {mime: {} for mime in service.ALLOWED_TYPES}}},
)
async def get_photo(
    photo_id: uuid.UUID,
    session: SessionDep,
    principal: Reader,
    store: BlobStoreDep,
    size: Annotated[
        Literal["full", "thumb"],
        Query(description="`thumb`: a JPEG at most 320 px on its long side."),
    ] = "full",
) -> Response:
    """The photo's bytes with their content type (or, with `?size=thumb`, a JPEG at most 320 px on its long side), for the uploader, the region's admins, leaders and inspectors, and a unit's users when the photo belongs to one of the unit's cases or their events (404 for anyone else)."""
    photo = await service.readable_photo(session, principal=principal, photo_id=photo_id)
    try:
        data = await store.get(photo.sha256)
    except FileNotFoundError as exc:
        raise NotFound("The photo's bytes are missing from storage.") from exc
    media_type, etag = photo.content_type, photo.sha256
    if size == "thumb":
        data = await asyncio.to_thread(service.thumbnail, data)
        media_type, etag = "image/jpeg", f"{photo.sha256}-thumb"
    return Response(
        content=data,
        media_type=media_type,
        headers={
            "ETag": f'"{etag}"',
            "Cache-Control": "private, max-age=31536000, immutable",
        },
    )


@router.get("/{photo_id}/meta", response_model=PhotoRead)
async def get_photo_meta(photo_id: uuid.UUID, session: SessionDep, principal: Reader) -> PhotoRead:
    """The photo's metadata (hash, type, size, EXIF `taken_at`, uploader), under the same access rules as its bytes."""
    photo = await service.readable_photo(session, principal=principal, photo_id=photo_id)
    return PhotoRead.model_validate(photo)
