"""One error base, rendered everywhere as RFC 9457 problem details.

Raise ``NotFound``, ``Conflict``, ``Forbidden`` … from any layer; the handlers
installed by :func:`install_error_handlers` turn them, validation errors,
``IntegrityError`` and database outages into ``application/problem+json``.
Nothing ever answers with a stack trace.
"""

from __future__ import annotations

import logging
from http import HTTPStatus
from typing import Any

import asyncpg
import structlog
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DBAPIError, IntegrityError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from starlette.exceptions import HTTPException as StarletteHTTPException

from shared.db import CommitTimedOut

log = structlog.get_logger("chuangwei.errors")

UNAVAILABLE_DETAIL = "The database is unavailable; nothing was saved. Retry shortly."
RETRY_AFTER_SECONDS = "5"
# SQLSTATEs of a transaction that lost to a concurrent one (serialization failure,
# deadlock): nothing was saved and the same request may simply be sent again.
_CONCURRENCY_SQLSTATES = {"40001", "40P01"}
# The server cannot take the work now (class 53: too many clients, out of memory or
# disk; 57P0x: shutting down, starting up): nothing was saved, retrying later may work.
_UNAVAILABLE_SQLSTATES = {"57P01", "57P02", "57P03"}


def _server_cannot_take_it(orig: object) -> bool:
    sqlstate = getattr(orig, "sqlstate", None) or ""
    return sqlstate.startswith("53") or sqlstate in _UNAVAILABLE_SQLSTATES


PROBLEM_JSON = "application/problem+json"
PROBLEM_TYPE_BASE = "https://chuangwei.example/problems/"


class AppError(Exception):
    """Base for every error a client should see; subclasses fix status and slug."""

    status: int = 400
    slug: str = "bad-request"

    def __init__(
        self,
        detail: str,
        *,
        errors: list[dict[str, Any]] | None = None,
        headers: dict[str, str] | None = None,
        extra: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(detail)
        self.detail = detail
        self.errors = errors
        self.headers = headers or {}
        self.extra = extra or {}


class BadRequest(AppError):
    status, slug = 400, "bad-request"


class Unauthorized(AppError):
    status, slug = 401, "unauthorized"

    def __init__(self, detail: str = "Missing or invalid bearer token", **kw: Any) -> None:
        kw.setdefault("headers", {"WWW-Authenticate": "Bearer"})
        super().__init__(detail, **kw)


class Forbidden(AppError):
    status, slug = 403, "forbidden"


class NotFound(AppError):
    status, slug = 404, "not-found"


class Conflict(AppError):
    status, slug = 409, "conflict"


class PreconditionFailed(AppError):
    status, slug = 412, "precondition-failed"


class PreconditionRequired(AppError):
    status, slug = 428, "precondition-required"


class PayloadTooLarge(AppError):
    status, slug = 413, "payload-too-large"


class UnsupportedMediaType(AppError):
    status, slug = 415, "unsupported-media-type"


class Unprocessable(AppError):
    """Semantically invalid input (422) with one ``errors`` entry per problem."""

    status, slug = 422, "validation-error"


class TooManyRequests(AppError):
    status, slug = 429, "too-many-requests"

    def __init__(self, detail: str, *, retry_after: int, **kw: Any) -> None:
        kw.setdefault("headers", {"Retry-After": str(retry_after)})
        super().__init__(detail, **kw)


class ServiceUnavailable(AppError):
    status, slug = 503, "service-unavailable"

    def __init__(self, detail: str, *, retry_after: int = 5, **kw: Any) -> None:
        kw.setdefault("headers", {"Retry-After": str(retry_after)})
        super().__init__(detail, **kw)


def problem(
    status: int,
    detail: str,
    *,
    slug: str | None = None,
    instance: str | None = None,
    errors: list[dict[str, Any]] | None = None,
    extra: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Build a problem-details body; also used for per-item results of batch endpoints."""
    title = HTTPStatus(status).phrase if status in HTTPStatus._value2member_map_ else "Error"
    body: dict[str, Any] = {
        "type": PROBLEM_TYPE_BASE + (slug or title.lower().replace(" ", "-")),
        "title": title,
        "status": status,
        "detail": detail,
    }
    if instance is not None:
        body["instance"] = instance
    if errors is not None:
        body["errors"] = errors
    if extra:
        # The RFC 9457 members stay what they are: an extra "status" (a case's state,
        # say) must not overwrite the HTTP status a client reads from the body.
        body = {**extra, **body}
    return body


def problem_response(
    request: Request,
    status: int,
    detail: str,
    *,
    slug: str | None = None,
    errors: list[dict[str, Any]] | None = None,
    headers: dict[str, str] | None = None,
    extra: dict[str, Any] | None = None,
) -> JSONResponse:
    body = problem(status, detail, slug=slug, instance=request.url.path, errors=errors, extra=extra)
    return JSONResponse(body, status_code=status, headers=headers, media_type=PROBLEM_JSON)


def validation_errors(exc: RequestValidationError) -> list[dict[str, Any]]:
    """One ``{loc, msg, type}`` entry per bad field, without echoing large inputs back."""
    out = []
    for err in exc.errors():
        msg = err.get("msg", "invalid")
        if err.get("type") == "extra_forbidden":
            msg = "unknown field"
        out.append(
            {"loc": [str(p) for p in err.get("loc", ())], "msg": msg, "type": err.get("type")}
        )
    return out


def _is_bad_value(error: BaseException | None) -> bool:
    """A value PostgreSQL (or the driver encoding it) refused: the input's fault, not ours.

    The validators (shared.inputs) refuse such values first; this is the net for
    whatever slips past them, so a bad value is a 422 rather than a 500.
    """
    for candidate in (error, getattr(error, "__cause__", None)):
        if isinstance(candidate, asyncpg.DataError | asyncpg.exceptions._base.DataError):
            return True
    return False


def _bad_value_response(request: Request, error: BaseException | None) -> JSONResponse:
    log.info("bad_value", error=str(error)[:300])
    return problem_response(
        request,
        422,
        "A value is out of range or contains characters that cannot be stored; nothing was saved.",
        slug="validation-error",
        errors=[
            {"loc": ["body"], "msg": "value out of range or not storable", "type": "value_error"}
        ],
    )


def install_error_handlers(app: FastAPI) -> None:
    """Render every error as problem details; never leak a stack trace."""

    @app.exception_handler(AppError)
    async def _app_error(request: Request, exc: AppError) -> JSONResponse:
        return problem_response(
            request,
            exc.status,
            exc.detail,
            slug=exc.slug,
            errors=exc.errors,
            headers=exc.headers,
            extra=exc.extra,
        )

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        return problem_response(
            request,
            422,
            "The request is not valid; see errors for each field.",
            slug="validation-error",
            errors=validation_errors(exc),
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        detail = exc.detail if isinstance(exc.detail, str) else HTTPStatus(exc.status_code).phrase
        return problem_response(
            request, exc.status_code, detail, headers=getattr(exc, "headers", None)
        )

    def unavailable(request: Request, detail: str = UNAVAILABLE_DETAIL) -> JSONResponse:
        return problem_response(
            request,
            503,
            detail,
            slug="service-unavailable",
            headers={"Retry-After": RETRY_AFTER_SECONDS},
        )

    @app.exception_handler(IntegrityError)
    async def _integrity(request: Request, exc: IntegrityError) -> JSONResponse:
        # Unique and foreign-key violations that escaped the service layer's own
        # checks (usually a race between two writers, or a deferred constraint that
        # fails at commit) are conflicts, not 500s; nothing was saved.
        log.info("integrity_error", error=str(exc.orig)[:300])
        return problem_response(
            request,
            409,
            "The change conflicts with existing data (a duplicate or a missing reference); "
            "nothing was saved.",
            slug="conflict",
        )

    @app.exception_handler(DBAPIError)
    async def _database(request: Request, exc: DBAPIError) -> JSONResponse:
        if _is_bad_value(exc.orig):
            return _bad_value_response(request, exc.orig)
        if (
            isinstance(exc, OperationalError | InterfaceError)
            or exc.connection_invalidated
            or _server_cannot_take_it(exc.orig)
        ):
            log.warning("database_unavailable", error=str(exc.orig)[:300])
            return unavailable(request)
        if getattr(exc.orig, "sqlstate", None) in _CONCURRENCY_SQLSTATES:
            log.info("transaction_conflict", error=str(exc.orig)[:300])
            return problem_response(
                request,
                409,
                "The change collided with a concurrent one and was not saved; send it again.",
                slug="conflict",
            )
        log.error("database_error", error=str(exc.orig)[:300])
        return problem_response(request, 500, "Internal server error", slug="internal-error")

    @app.exception_handler(PoolTimeoutError)
    async def _pool_timeout(request: Request, exc: PoolTimeoutError) -> JSONResponse:
        # Every pooled connection stayed busy past CW_DB_ACQUIRE_TIMEOUT_SECONDS.
        log.warning("database_pool_exhausted", error=str(exc)[:300])
        return unavailable(request, "The database is too busy to take this request; retry shortly.")

    @app.exception_handler(CommitTimedOut)
    async def _commit_timeout(request: Request, exc: CommitTimedOut) -> JSONResponse:
        log.warning("commit_timed_out", error=str(exc))
        return unavailable(
            request,
            "The database did not confirm the change in time; it may not be saved. "
            "Retry shortly (a retry of a record with a client id is answered from the "
            "stored record if it was saved).",
        )

    @app.exception_handler(TimeoutError)
    async def _timeout(request: Request, exc: TimeoutError) -> JSONResponse:
        # asyncpg's statement or connect timeout (CW_DB_*_TIMEOUT_SECONDS): the
        # database did not answer; the transaction is rolled back with its connection.
        log.warning("database_timeout", error=repr(exc)[:300])
        return unavailable(request, "The database did not answer in time; nothing was saved.")

    @app.exception_handler(asyncpg.PostgresConnectionError)
    @app.exception_handler(asyncpg.OperatorInterventionError)  # shutting down, starting up
    @app.exception_handler(asyncpg.InterfaceError)
    @app.exception_handler(asyncpg.InternalClientError)  # the server dropped an idle connection
    @app.exception_handler(asyncpg.InsufficientResourcesError)  # too many clients (53300) …
    async def _driver_connection(request: Request, exc: Exception) -> JSONResponse:
        if _is_bad_value(exc):
            return _bad_value_response(request, exc)
        # Raised by the bare asyncpg read pool (shared.db.ReadConnectionDep), which
        # SQLAlchemy does not wrap: a lost or refused connection is an outage too.
        log.warning("database_unavailable", error=str(exc)[:300])
        return unavailable(request)

    @app.exception_handler(asyncpg.DataError)
    async def _driver_data(request: Request, exc: Exception) -> JSONResponse:
        return _bad_value_response(request, exc)

    @app.exception_handler(OSError)
    async def _os_error(request: Request, exc: OSError) -> JSONResponse:
        # asyncpg raises plain OSError/ConnectionRefusedError when PostgreSQL is down.
        log.warning("dependency_unavailable", error=str(exc)[:300])
        return unavailable(
            request, "A backing service is unavailable; nothing was saved. Retry shortly."
        )

    @app.exception_handler(Exception)
    async def _unhandled(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled_error")
        return problem_response(request, 500, "Internal server error", slug="internal-error")


logging.getLogger("sqlalchemy.engine").setLevel(logging.WARNING)
