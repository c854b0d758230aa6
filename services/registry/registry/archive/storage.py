"""Content-addressed file storage: bytes live at ``<archive_dir>/<sha[:2]>/<sha>``, so the
same document uploaded twice is stored once and a stored file never changes."""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path
from typing import BinaryIO

from starlette.concurrency import run_in_threadpool

from shared.errors import PayloadTooLarge, Unprocessable

CHUNK = 1024 * 1024


def blob_path(archive_dir: str, sha256: str) -> Path:
    return Path(archive_dir) / sha256[:2] / sha256


def _store(source: BinaryIO, archive_dir: str, max_bytes: int) -> tuple[str, int]:
    root = Path(archive_dir)
    root.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256()
    size = 0
    fd, tmp_name = tempfile.mkstemp(dir=root, prefix=".upload-")
    try:
        with os.fdopen(fd, "wb") as tmp:
            while chunk := source.read(CHUNK):
                size += len(chunk)
                if size > max_bytes:
                    raise PayloadTooLarge(f"The file is larger than {max_bytes} bytes.")
                digest.update(chunk)
                tmp.write(chunk)
        if size == 0:
            raise Unprocessable(
                "The file is empty.", errors=[{"loc": ["body", "file"], "msg": "empty file"}]
            )
        sha = digest.hexdigest()
        target = blob_path(archive_dir, sha)
        target.parent.mkdir(parents=True, exist_ok=True)
        os.replace(tmp_name, target)  # atomic; an identical blob is simply replaced
        return sha, size
    finally:
        if os.path.exists(tmp_name):
            os.unlink(tmp_name)


async def store(source: BinaryIO, *, archive_dir: str, max_bytes: int) -> tuple[str, int]:
    """Copy ``source`` into the store; ``(sha256, size)``. 413 above ``max_bytes``."""
    return await run_in_threadpool(_store, source, archive_dir, max_bytes)


def safe_filename(name: str | None) -> str:
    """The last path segment, trimmed to the column's size; clients' folders are not kept."""
    base = (name or "").replace("\\", "/").rsplit("/", 1)[-1].strip()
    return (base or "file")[:300]
