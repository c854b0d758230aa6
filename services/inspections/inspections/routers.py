"""Every router of the service, in the order they appear in the OpenAPI docs."""

from __future__ import annotations

from fastapi import APIRouter

ROUTERS: list[APIRouter] = []
