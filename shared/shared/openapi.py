"""The OpenAPI document tells the truth about errors, sign-in and groups.

FastAPI documents every error as ``application/json`` ``HTTPValidationError``,
which no endpoint here ever sends. :func:`install_openapi` rewrites the
generated document once:

- every operation lists the problem responses it can give, each with the
  RFC 9457 ``Problem`` schema under ``application/problem+json`` (a route's own
  description of a status is kept, only its content is corrected);
- the bearer scheme becomes the OAuth2 password flow against the registry's
  ``POST /v1/auth/token``, so Swagger's Authorize button is a sign-in form;
- every tag has a description (a missing one is an error at start-up, not a
  silent gap).

Which problems an operation can give follows from what it is: every one may be
a 422 (a control character in its query) or a 503 (the database is down); a
secured one 401/403; one with path parameters 404; one with a cursor 400; a
write 409 and 412; one with a body 400 (unparseable) and 413; one that uploads 415. Routes add their
own (429 at sign-in) through ``responses=``.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from shared.errors import PROBLEM_JSON

PROBLEM_SCHEMA: dict[str, Any] = {
    "title": "Problem",
    "description": "RFC 9457 problem details. Validation problems list one `errors` entry per field.",
    "type": "object",
    "required": ["type", "title", "status", "detail"],
    "properties": {
        "type": {"type": "string", "description": "A URI naming the kind of problem."},
        "title": {"type": "string"},
        "status": {"type": "integer", "description": "The HTTP status, repeated."},
        "detail": {"type": "string", "description": "What went wrong, for a person."},
        "instance": {"type": "string", "description": "The request path."},
        "errors": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "loc": {"type": "array", "items": {}},
                    "msg": {"type": "string"},
                    "type": {"type": ["string", "null"]},
                },
            },
        },
    },
    "additionalProperties": True,
}

DESCRIPTIONS = {
    400: "Bad request: a body that cannot be parsed, or a cursor from another list.",
    401: "No valid bearer token (missing, expired, or older than its account's last change).",
    403: "The caller's role or scope does not allow this.",
    404: "No such record in the caller's region and scope.",
    409: "Conflicts with the record's state or with existing data.",
    412: "`If-Match` names an older version; reload and try again.",
    413: "The body is larger than allowed (JSON 2 MB, a batch 10 MB, uploads per endpoint).",
    415: "The uploaded file is not of an accepted type.",
    422: "Not valid: one `errors` entry per problem.",
    429: "Too many attempts; see `Retry-After`.",
    503: "The database or another service is unavailable; nothing was saved. See `Retry-After`.",
}
WRITES = {"post", "put", "patch", "delete"}
UPLOAD_TYPES = ("multipart/form-data", "image/")


def _statuses(path: str, method: str, operation: dict[str, Any]) -> set[int]:
    statuses = {422, 503}
    if operation.get("security"):
        statuses |= {401, 403}
    parameters = operation.get("parameters", [])
    if any(p.get("in") == "path" for p in parameters):
        statuses.add(404)
    if any(p.get("name") == "cursor" for p in parameters):
        statuses.add(400)
    if method in WRITES:
        statuses |= {409, 412}
    body = operation.get("requestBody")
    if body is not None:
        statuses |= {400, 413}  # 400: a body that is not even JSON (or not UTF-8)
        if any(t.startswith(UPLOAD_TYPES) for t in body.get("content", {})):
            statuses.add(415)
    return statuses


def _problem_content() -> dict[str, Any]:
    return {PROBLEM_JSON: {"schema": {"$ref": "#/components/schemas/Problem"}}}


def document_problems(schema: dict[str, Any]) -> None:
    """Rewrite every operation's error responses as problem details (in place)."""
    for path, item in schema.get("paths", {}).items():
        for method, operation in item.items():
            if method not in {"get", "post", "put", "patch", "delete"}:
                continue
            responses = operation.setdefault("responses", {})
            declared = {int(code) for code in responses if code.isdigit() and int(code) >= 400}
            for status in sorted(declared | _statuses(path, method, operation)):
                entry = responses.setdefault(str(status), {})
                if status == 422 or not entry.get("description"):
                    entry["description"] = entry.get("description") or DESCRIPTIONS.get(
                        status, "Error."
                    )
                if entry.get("description") == "Validation Error":
                    entry["description"] = DESCRIPTIONS[422]
                entry["content"] = _problem_content()
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    components.pop("HTTPValidationError", None)
    components.pop("ValidationError", None)
    components["Problem"] = PROBLEM_SCHEMA


def use_password_flow(schema: dict[str, Any], token_url: str) -> None:
    """Swagger's Authorize button signs in with username and password (OAuth2 password flow)."""
    schemes = schema.get("components", {}).get("securitySchemes", {})
    if "HTTPBearer" not in schemes:
        return
    description = schemes.pop("HTTPBearer").get("description", "")
    schemes["OAuth2Password"] = {
        "type": "oauth2",
        "description": description or "Sign in with a username and password.",
        "flows": {"password": {"tokenUrl": token_url, "scopes": {}}},
    }
    for item in schema.get("paths", {}).values():
        for operation in item.values():
            if isinstance(operation, dict):
                for requirement in operation.get("security", []):
                    if "HTTPBearer" in requirement:
                        requirement["OAuth2Password"] = requirement.pop("HTTPBearer")


def check_tags(schema: dict[str, Any]) -> None:
    described = {t["name"] for t in schema.get("tags", []) if t.get("description")}
    used = {
        tag
        for item in schema.get("paths", {}).values()
        for operation in item.values()
        if isinstance(operation, dict)
        for tag in operation.get("tags", [])
    }
    if used - described:
        raise RuntimeError(f"OpenAPI tags without a description: {sorted(used - described)}")


HEALTH_TAG = {"name": "health", "description": "Liveness, readiness (schema at the Alembic head)."}
SIGN_IN_PATH = "/v1/auth/token"


def attach_examples(schema: dict[str, Any], examples: dict[str, dict]) -> None:
    """Show a valid example for each JSON request body whose schema has one, instead of the
    one Swagger would make up from the schema (which fills every field, even exclusive ones)."""
    for item in schema.get("paths", {}).values():
        for operation in item.values():
            if not isinstance(operation, dict):
                continue
            media = operation.get("requestBody", {}).get("content", {}).get("application/json")
            if media is None:
                continue
            name = media.get("schema", {}).get("$ref", "").rsplit("/", 1)[-1]
            if name in examples:
                media["examples"] = {"valid": {"summary": "A valid body", "value": examples[name]}}


def install_openapi(
    app: FastAPI, *, token_url: str | None, examples: dict[str, dict] | None = None
) -> None:
    """Replace ``app.openapi`` with the truthful document (built once, on first use).

    ``token_url`` None: ``CW_DOCS_SIGN_IN_URL`` if set (behind the gateway), else the
    registry's sign-in at ``CW_REGISTRY_URL`` (known once the settings are loaded), for
    the services that do not sign people in themselves.
    """

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            url = token_url
            if url is None:
                settings = getattr(app.state, "settings", None)
                if settings is not None and settings.docs_sign_in_url:
                    url = settings.docs_sign_in_url
                else:
                    registry = settings.registry_url if settings is not None else ""
                    url = registry.rstrip("/") + SIGN_IN_PATH
            schema = get_openapi(
                title=app.title,
                version=app.version,
                description=app.description,
                routes=app.routes,
                tags=app.openapi_tags,
            )
            document_problems(schema)
            attach_examples(schema, examples or {})
            use_password_flow(schema, url)
            check_tags(schema)
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
