"""Wire models of photos."""

from __future__ import annotations

import uuid
from datetime import datetime

from shared.schemas import ResponseModel


class PhotoRead(ResponseModel):
    id: uuid.UUID
    sha256: str
    content_type: str
    size: int
    taken_at: datetime | None
    uploaded_by: uuid.UUID
    created_at: datetime
