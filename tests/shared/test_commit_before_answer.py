"""A 2xx means committed, by construction: no route can answer before its commit.

The e2e tests (tests/e2e/test_commit_window.py) show the behaviour on real
processes; this test guards the mechanism, so that a route added tomorrow
cannot slip back to committing after the response has been sent.
"""

from __future__ import annotations

import inspect
from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute, iter_route_contexts


def _apps() -> dict[str, FastAPI]:
    from inspections.main import app as inspections
    from registry.main import app as registry
    from reporting.main import app as reporting

    return {"registry": registry, "inspections": inspections, "reporting": reporting}


def _walk(dependant: Dependant) -> Iterator[Dependant]:
    for sub in dependant.dependencies:
        yield sub
        yield from _walk(sub)


def _yield_dependencies() -> Iterator[tuple[str, str, Dependant]]:
    for service, app in _apps().items():
        # Routes as served: with the dependencies their including routers add.
        for context in iter_route_contexts(app.routes):
            route = context.original_route
            if not isinstance(route, APIRoute):
                continue
            dependant = getattr(context._effective_route, "dependant", route.dependant)
            for sub in _walk(dependant):
                call = sub.call
                if inspect.isasyncgenfunction(call) or inspect.isgeneratorfunction(call):
                    yield service, f"{sorted(route.methods)} {context.path}", sub


def test_the_apps_have_write_routes_with_a_session() -> None:
    from shared.db import get_session

    sessions = [d for _, _, d in _yield_dependencies() if d.call is get_session]
    assert len(sessions) > 50  # the walk really sees the routes' sessions


@pytest.mark.parametrize("service", ["registry", "inspections", "reporting"])
def test_every_dependency_with_yield_finishes_before_the_response_is_sent(service: str) -> None:
    late = [
        f"{route}: {getattr(d.call, '__name__', d.call)}"
        for name, route, d in _yield_dependencies()
        if name == service and d.scope != "function"
    ]
    assert late == [], (
        "These dependencies run their exit code (a commit, a release) after the "
        "response has been sent; declare them with Depends(..., scope='function'): " + str(late)
    )
