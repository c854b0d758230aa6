"""Wire models of webhooks, their deliveries and the inbox."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import AnyUrl, Field, UrlConstraints, field_validator

from inspections.notifications.events import EventType
from shared.schemas import RequestModel, ResponseModel

# http and https only: a file:, gopher: or ftp: URL is refused at the door.
WebhookUrl = Annotated[
    AnyUrl, UrlConstraints(allowed_schemes=["http", "https"], max_length=2000, host_required=True)
]
WebhookKind = Literal["json", "wecom", "dingtalk"]


class WebhookCreate(RequestModel):
    """A receiver of events. ``secret``: for ``json`` leave it out and one is generated
    (Standard Webhooks ``whsec_…``); for ``dingtalk`` give the robot's 加签 secret
    (``SEC…``); ``wecom`` robots have none (their key is in the URL)."""

    url: WebhookUrl
    kind: WebhookKind = "json"
    event_types: list[EventType] = Field(
        default_factory=list, max_length=20, description="Empty: every event type."
    )
    unit_id: uuid.UUID | None = Field(
        default=None, description="Only the events of this unit's cases and notices."
    )
    secret: str | None = Field(default=None, min_length=8, max_length=200)
    active: bool = True
    description: str | None = Field(default=None, max_length=400)

    @field_validator("event_types")
    @classmethod
    def _unique(cls, value: list[str]) -> list[str]:
        return list(dict.fromkeys(value))


class WebhookUpdate(RequestModel):
    """Fields to change; the secret cannot be read back or changed (make a new webhook)."""

    url: WebhookUrl | None = None
    event_types: list[EventType] | None = Field(default=None, max_length=20)
    active: bool | None = None
    description: str | None = Field(default=None, max_length=400)


class WebhookRead(ResponseModel):
    id: uuid.UUID
    url: str
    kind: WebhookKind
    event_types: list[str]
    unit_id: uuid.UUID | None
    active: bool
    description: str | None
    has_secret: bool
    version: int
    created_at: datetime
    updated_at: datetime


class WebhookCreated(WebhookRead):
    secret: str | None = Field(
        description="Shown once, in this answer only: keep it to verify signatures."
    )


class AttemptRead(ResponseModel):
    number: int
    at: datetime
    status_code: int | None
    error: str | None
    duration_ms: int


class DeliveryRead(ResponseModel):
    id: uuid.UUID
    webhook_id: uuid.UUID
    event_id: uuid.UUID
    event_type: str
    status: Literal["pending", "succeeded", "failed"]
    attempts: int
    next_attempt_at: datetime | None
    last_status_code: int | None
    last_error: str | None
    delivered_at: datetime | None
    created_at: datetime
    attempt_log: list[AttemptRead]


class NotificationItem(ResponseModel):
    id: uuid.UUID
    event_id: uuid.UUID
    type: str
    title: str
    subject_id: uuid.UUID
    data: dict[str, Any]
    created_at: datetime
    read_at: datetime | None
    updated_at: datetime


class NotificationPage(ResponseModel):
    items: list[NotificationItem]
    next_cursor: str | None = None
    unread: int = Field(description="How many of the caller's notifications are unread.")


class MarkRead(RequestModel):
    """Either ``ids`` (up to 500) or ``all: true`` (everything the caller has)."""

    ids: list[uuid.UUID] = Field(default_factory=list, max_length=500)
    all: bool = False


class MarkReadResult(ResponseModel):
    marked: int
    unread: int
