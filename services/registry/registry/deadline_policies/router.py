"""deadline-policies endpoints."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(prefix="/v1/deadline-policies", tags=["deadline-policies"])
