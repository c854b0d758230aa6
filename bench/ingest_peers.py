"""The ingest bench's two peers of ``POST /v1/inspections``, each served by uvicorn.

- ``same_work:app`` — the product's own work with no framework: a raw ASGI callable that
  verifies the JWT (``shared.auth.decode_token`` with its cache, and the person's token
  version as ``current_principal`` does), validates the body with
  the same pydantic model and runs the service's own :func:`submit` (registry context
  through the same cache and client, the idempotency check riding on the same single
  ``INSERT … ON CONFLICT`` statement, deadlines from the region's calendar) in one
  session that commits before the answer. No FastAPI, no middleware, no access log, no
  dependency injection: b/a′ prices exactly what the framework and its plumbing add.
- ``orm_first:app`` — what a team would write first: FastAPI with the same model and
  auth, the same registry context and scoring, then the SQLAlchemy ORM: look the id up,
  add the inspection, each result, case, event and photo link one row at a time
  (a flush each), commit, answer.

Served by ``bench/inspections_ingest.py`` (``RUN_ALL = False``: not a benchmark itself).
"""

import asyncio
import sys
import types
from pathlib import Path
from typing import Any

import orjson

sys.path.insert(0, str(Path(__file__).resolve().parent))

RUN_ALL = False


def _service_state() -> types.SimpleNamespace:
    """What :func:`submit` reads from ``app.state``, built as the service builds it."""
    from inspections.ingest.registry import ContextCache
    from inspections.settings import InspectionsSettings
    from shared.db import create_sessionmaker, engine_from_settings
    from shared.http_client import ServiceClient

    settings = InspectionsSettings()
    engine = engine_from_settings(settings, application_name="chuangwei.bench.peer")
    return types.SimpleNamespace(
        settings=settings,
        engine=engine,
        sessionmaker=create_sessionmaker(engine),
        registry_client=ServiceClient(
            settings.registry_url,
            service_token=settings.service_token,
            timeout=settings.http_timeout_seconds,
            retries=settings.http_retries,
            budget=settings.registry_budget_seconds,
        ),
        context_cache=ContextCache(
            ttl=settings.context_cache_seconds, max_size=settings.context_cache_size
        ),
    )


# --------------------------------------------------------------------------- same work


class SameWork:
    """Raw ASGI: auth, validation and the service's own ``submit`` + commit, nothing else."""

    def __init__(self) -> None:
        self.state: types.SimpleNamespace | None = None
        self.turns: asyncio.Semaphore | None = None

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
            return
        if scope["path"] == "/healthz":
            await _answer(send, 200, b'{"status":"ok"}')
            return
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        status, payload = await self._submit(dict(scope["headers"]), body)
        await _answer(send, status, payload)

    async def _lifespan(self, receive, send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                self.state = _service_state()
                # The service's fair FIFO turn at the database, one per pooled connection.
                self.turns = asyncio.Semaphore(self.state.settings.db_pool_size)
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                assert self.state is not None
                await self.state.registry_client.aclose()
                await self.state.engine.dispose()
                await send({"type": "lifespan.shutdown.complete"})
                return

    async def _submit(self, headers: dict[bytes, bytes], raw: bytes) -> tuple[int, bytes]:
        from pydantic import ValidationError

        from inspections.ingest.schemas import InspectionCreate, InspectionDetail
        from inspections.ingest.service import submit
        from shared.auth import _current_token_version, decode_token
        from shared.errors import AppError

        assert self.state is not None and self.turns is not None
        try:
            scheme, _, token = headers.get(b"authorization", b"").decode().partition(" ")
            if scheme.lower() != "bearer":
                return 401, b'{"status":401}'
            principal = decode_token(token, self.state.settings.jwt_secret)
            # The product's own check that the token still matches its person (cached).
            if await _current_token_version(self, principal) != principal.token_version:
                return 401, b'{"status":401}'
            body = InspectionCreate.model_validate_json(raw)
            async with self.turns, self.state.sessionmaker() as session:
                outcome = await submit(session, self, principal=principal, body=body)
                await session.commit()
        except ValidationError as exc:
            return 422, orjson.dumps({"status": 422, "errors": exc.errors(include_url=False)})
        except AppError as exc:
            return exc.status, orjson.dumps({"status": exc.status, "detail": exc.detail})
        if outcome.detail is None:
            return outcome.status, orjson.dumps({"id": str(outcome.id)})
        return outcome.status, InspectionDetail.model_validate(
            outcome.detail
        ).model_dump_json().encode()


async def _answer(send, status: int, payload: bytes) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(b"content-type", b"application/json")],
        }
    )
    await send({"type": "http.response.body", "body": payload})


# --------------------------------------------------------------------------- ORM first


def _orm_first_app():
    from contextlib import asynccontextmanager

    from fastapi import FastAPI, Header, HTTPException
    from fastapi.responses import JSONResponse
    from sqlalchemy import func, select

    from inspections.ingest import writer
    from inspections.ingest.plan import plan_inspection, prepare
    from inspections.ingest.registry import fetch_context
    from inspections.ingest.schemas import InspectionCreate
    from inspections.ingest.validation import context_errors, static_errors
    from shared import clock
    from shared.auth import _current_token_version, decode_token
    from shared.models import Case, CaseEvent, Inspection, InspectionResult, Photo, PhotoLink

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        app.state.__dict__.update(vars(_service_state()))
        yield
        await app.state.registry_client.aclose()
        await app.state.engine.dispose()

    app = FastAPI(lifespan=lifespan)

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.post("/v1/inspections", status_code=201)
    async def submit(body: InspectionCreate, authorization: str = Header()) -> JSONResponse:
        principal = decode_token(
            authorization.removeprefix("Bearer "), app.state.settings.jwt_secret
        )
        if await _current_token_version(app, principal) != principal.token_version:
            raise HTTPException(401)
        if errors := static_errors(body, clock.now()):
            raise HTTPException(422, errors)
        ctx = await fetch_context(
            app,
            region_id=principal.region_id,
            sample_point_id=body.sample_point_id,
            checklist_version=body.checklist_version,
        )
        if errors := context_errors(body, ctx):
            raise HTTPException(422, errors)
        prepared = prepare(principal, body)
        plan = plan_inspection(
            prepared,
            ctx or {},
            region_id=principal.region_id,
            inspector_id=principal.subject_id,
            suspect=False,
        )
        region_id = principal.region_id
        async with app.state.sessionmaker() as session:
            if await session.get(Inspection, (region_id, body.id)) is not None:
                return JSONResponse({"id": str(body.id)}, status_code=200)
            photo_ids = body.photo_ids()
            if photo_ids:
                found = await session.scalar(
                    select(func.count())
                    .select_from(Photo)
                    .where(Photo.region_id == region_id, Photo.id.in_(photo_ids))
                )
                if found != len(set(photo_ids)):
                    raise HTTPException(422, "a photo was never uploaded")
            fields = dict(zip(writer.INSPECTION_COLUMNS, plan.row, strict=True))
            fields["body"] = prepared.stored
            session.add(Inspection(**fields))
            await session.flush()
            for row in plan.results:
                session.add(InspectionResult(**dict(zip(writer.RESULT_COLUMNS, row, strict=True))))
                await session.flush()
            for case in plan.cases:
                session.add(Case(**case.case))
                await session.flush()
                for event in case.events:
                    session.add(CaseEvent(**event))
                    await session.flush()
            for region, photo_id, kind, owner in plan.links:
                session.add(
                    PhotoLink(region_id=region, photo_id=photo_id, owner_kind=kind, owner_id=owner)
                )
                await session.flush()
            await session.commit()
        return JSONResponse(
            {
                "id": str(body.id),
                "validation": "valid",
                "score": float(fields["score"]) if fields["score"] is not None else None,
                "case_ids": sorted(str(c.case["id"]) for c in plan.cases),
            },
            status_code=201,
        )

    return app


def __getattr__(name: str) -> Any:
    # Built lazily, in the server process (uvicorn imports "ingest_peers:same_work").
    if name == "same_work":
        return SameWork()
    if name == "orm_first":
        return _orm_first_app()
    raise AttributeError(name)
