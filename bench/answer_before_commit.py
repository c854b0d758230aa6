"""The inspections service as it was before issue 7 — it answers, then commits — for the
ingest bench's comparison only (``inspections_ingest.py`` measures both in one run).

The session and the ingest turn are declared with FastAPI's default ``request`` scope
again, so their exit code (the commit, the turn's release) runs after the response has
been sent. Never deploy this: a failed commit follows a 201.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

import shared.db

shared.db.SessionDep = Annotated[
    shared.db.AsyncSession, Depends(shared.db.get_session, scope="request")
]

import inspections.ingest.dependencies as ingest_dependencies  # noqa: E402

ingest_dependencies.IngestSession = Annotated[
    shared.db.AsyncSession, Depends(ingest_dependencies.ingest_session, scope="request")
]

from inspections.main import app  # noqa: E402  (routers built with the patched scopes)

__all__ = ["app"]
