"""Blob storage for photo bytes, addressed by their sha256.

Two implementations of one small protocol: a local folder (the default) and an
S3-compatible bucket (when ``INSPECTIONS_S3_BUCKET`` is set). Content
addressing makes writes idempotent: the same bytes land under the same key, so
a retried upload or two photo ids with equal bytes never store twice.
"""

from __future__ import annotations

import asyncio
import os
import tempfile
from pathlib import Path
from typing import IO, Any, Protocol

from inspections.settings import InspectionsSettings


class BlobStore(Protocol):
    async def put(self, sha256: str, source: IO[bytes], size: int) -> None:
        """Store ``source`` (positioned anywhere; read from the start) under ``sha256``."""

    async def get(self, sha256: str) -> bytes:
        """The bytes stored under ``sha256``; ``FileNotFoundError`` when absent."""

    async def exists(self, sha256: str) -> bool: ...


def _check_key(sha256: str) -> str:
    if len(sha256) != 64 or any(c not in "0123456789abcdef" for c in sha256):
        raise ValueError("blob keys are lowercase hex sha256 digests")
    return sha256


class LocalBlobStore:
    """Files under ``root/ab/cd/<sha256>``, written atomically (temp file + rename)."""

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)

    def path_for(self, sha256: str) -> Path:
        key = _check_key(sha256)
        return self.root / key[:2] / key[2:4] / key

    def _put(self, sha256: str, source: IO[bytes]) -> None:
        target = self.path_for(sha256)
        if target.exists():
            return
        target.parent.mkdir(parents=True, exist_ok=True)
        source.seek(0)
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".upload-")
        try:
            with os.fdopen(fd, "wb") as out:
                while chunk := source.read(1024 * 1024):
                    out.write(chunk)
                out.flush()
                os.fsync(out.fileno())
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    async def put(self, sha256: str, source: IO[bytes], size: int) -> None:
        await asyncio.to_thread(self._put, sha256, source)

    async def get(self, sha256: str) -> bytes:
        return await asyncio.to_thread(self.path_for(sha256).read_bytes)

    async def exists(self, sha256: str) -> bool:
        return await asyncio.to_thread(self.path_for(sha256).exists)


class S3BlobStore:
    """Objects ``<prefix><sha256>`` in an S3-compatible bucket (boto3 runs in a thread)."""

    def __init__(self, *, bucket: str, prefix: str = "photos/", client: Any) -> None:
        self.bucket = bucket
        self.prefix = prefix
        self.client = client

    @classmethod
    def from_settings(cls, settings: InspectionsSettings) -> S3BlobStore:
        import boto3

        client = boto3.client(
            "s3",
            endpoint_url=settings.s3_endpoint_url,
            region_name=settings.s3_region,
            aws_access_key_id=settings.s3_access_key_id,
            aws_secret_access_key=settings.s3_secret_access_key,
        )
        return cls(bucket=settings.s3_bucket or "", prefix=settings.s3_prefix, client=client)

    def _key(self, sha256: str) -> str:
        return self.prefix + _check_key(sha256)

    def _exists(self, sha256: str) -> bool:
        from botocore.exceptions import ClientError

        try:
            self.client.head_object(Bucket=self.bucket, Key=self._key(sha256))
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in {"404", "NoSuchKey", "NotFound"}:
                return False
            raise
        return True

    def _put(self, sha256: str, source: IO[bytes]) -> None:
        if self._exists(sha256):
            return
        source.seek(0)
        self.client.upload_fileobj(source, self.bucket, self._key(sha256))

    def _get(self, sha256: str) -> bytes:
        from botocore.exceptions import ClientError

        try:
            response = self.client.get_object(Bucket=self.bucket, Key=self._key(sha256))
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in {"404", "NoSuchKey", "NotFound"}:
                raise FileNotFoundError(sha256) from exc
            raise
        return response["Body"].read()

    async def put(self, sha256: str, source: IO[bytes], size: int) -> None:
        await asyncio.to_thread(self._put, sha256, source)

    async def get(self, sha256: str) -> bytes:
        return await asyncio.to_thread(self._get, sha256)

    async def exists(self, sha256: str) -> bool:
        return await asyncio.to_thread(self._exists, sha256)


def blob_store_from_settings(settings: InspectionsSettings) -> BlobStore:
    """S3 when a bucket is configured, the local folder otherwise."""
    if settings.s3_bucket:
        return S3BlobStore.from_settings(settings)
    return LocalBlobStore(settings.photo_dir)
