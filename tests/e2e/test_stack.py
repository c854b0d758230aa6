"""The three services start as processes on the migrated database and answer."""

from __future__ import annotations

import httpx

from tests.e2e.conftest import SERVICE_NAMES


def test_every_service_is_ready_and_documents_itself(stack):
    for name in SERVICE_NAMES:
        ready = httpx.get(f"{stack.url(name)}/readyz")
        assert ready.status_code == 200 and ready.json()["status"] == "ok"
        spec = httpx.get(f"{stack.url(name)}/openapi.json").json()
        assert spec["info"]["title"] == f"Chuangwei {name}"
