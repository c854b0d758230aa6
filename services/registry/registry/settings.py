"""Registry settings: the shared ``CW_*`` part plus nothing of its own yet."""

from __future__ import annotations

from pydantic import AliasChoices, Field

from shared.settings import CommonSettings


class RegistrySettings(CommonSettings):
    archive_dir: str = Field(
        default=".data/archive",
        validation_alias=AliasChoices("REGISTRY_ARCHIVE_DIR"),
        description="Folder for archive files, stored by content hash.",
    )
    max_upload_bytes: int = Field(
        default=20 * 1024 * 1024, validation_alias=AliasChoices("REGISTRY_MAX_UPLOAD_BYTES")
    )
