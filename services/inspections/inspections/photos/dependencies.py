"""Typed dependencies of the photo endpoints."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from inspections.photos.storage import BlobStore


def get_blob_store(request: Request) -> BlobStore:
    return request.app.state.blob_store


BlobStoreDep = Annotated[BlobStore, Depends(get_blob_store)]
