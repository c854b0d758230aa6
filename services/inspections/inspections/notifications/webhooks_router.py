"""Webhooks and their deliveries (SPEC §9), for the region's admins.

Decisions where the SPEC is silent:

- **Secrets are shown once**, in the answer that creates the webhook, never again.
  A ``json`` webhook's secret is generated (``whsec_`` + 32 random bytes, base64,
  the Standard Webhooks form) unless one in that form is given; a ``dingtalk``
  webhook takes the robot's own 加签 secret; a ``wecom`` robot has none.
- Only ``http`` and ``https`` URLs are accepted; deliveries never follow redirects
  (a 3xx is a failed attempt) and each attempt is cut off after
  ``INSPECTIONS_NOTIFICATIONS_HTTP_TIMEOUT_SECONDS``.
- ``event_types`` empty means every type; ``unit_id`` limits the webhook to the
  events of that unit's cases, notices and digest.
- A webhook is never deleted (its deliveries are its history): ``PATCH`` it
  ``{"active": false}`` to stop it; its pending deliveries wait, and go out if it
  is switched on again. Events are offered to the webhooks active when the event
  is fanned out (within a second or so of its commit).
- ``POST /v1/deliveries/{id}/redeliver`` sends a delivery again, whatever its
  status, with the same ``webhook-id``; its attempts keep counting.
"""

from __future__ import annotations

import base64
import secrets
import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response, status
from sqlalchemy import select

from inspections.cases.repository import unit_exists
from inspections.notifications.schemas import (
    AttemptRead,
    DeliveryRead,
    WebhookCreate,
    WebhookCreated,
    WebhookRead,
    WebhookUpdate,
)
from shared import clock
from shared.auth import AdminUser
from shared.concurrency import check_if_match, set_etag
from shared.db import SessionDep
from shared.errors import NotFound, Unprocessable
from shared.listing import keyset_page
from shared.models import DeliveryAttempt, NotificationEvent, Webhook, WebhookDelivery
from shared.pagination import DEFAULT_LIMIT, CursorParam, LimitParam, Page

router = APIRouter(tags=["webhooks"])


def webhook_read(webhook: Webhook) -> WebhookRead:
    return WebhookRead.model_validate(
        {
            **{
                name: getattr(webhook, name)
                for name in WebhookRead.model_fields
                if name != "has_secret"
            },
            "has_secret": bool(webhook.secret),
        }
    )


def _new_secret() -> str:
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()


def _secret_for(body: WebhookCreate) -> str | None:
    if body.kind == "wecom":
        if body.secret is not None:
            raise Unprocessable(
                "A WeCom robot has no secret; its key is part of its URL.",
                errors=[{"loc": ["body", "secret"], "msg": "not used by kind wecom"}],
            )
        return None
    if body.kind == "dingtalk":
        return body.secret
    if body.secret is None:
        return _new_secret()
    # The library decodes leniently (it drops characters that are not base64), so the
    # form is checked here: whsec_ and at least 24 bytes of strict base64.
    try:
        key = base64.b64decode(body.secret.removeprefix("whsec_"), validate=True)
    except ValueError:
        key = b""
    if not body.secret.startswith("whsec_") or len(key) < 24:
        raise Unprocessable(
            "A json webhook's secret must be a Standard Webhooks secret (whsec_ + base64).",
            errors=[{"loc": ["body", "secret"], "msg": "not a whsec_… base64 secret of 24+ bytes"}],
        )
    return body.secret


async def current_webhook(
    webhook_id: uuid.UUID, principal: AdminUser, session: SessionDep
) -> Webhook:
    """The webhook in the admin's region; 404 otherwise."""
    webhook = await session.get(Webhook, (principal.region_id, webhook_id))
    if webhook is None:
        raise NotFound(f"No webhook {webhook_id} here.")
    return webhook


CurrentWebhook = Annotated[Webhook, Depends(current_webhook)]


@router.post("/v1/webhooks", response_model=WebhookCreated, status_code=status.HTTP_201_CREATED)
async def create_webhook(
    body: WebhookCreate, principal: AdminUser, session: SessionDep, response: Response
) -> WebhookCreated:
    """Register a receiver; the answer shows its secret, once.

    - ``kind: json`` — a POST per event with the Standard Webhooks headers
      ``webhook-id`` (the event id; the same on every retry: deduplicate by it),
      ``webhook-timestamp`` and ``webhook-signature`` (``v1,`` + base64
      HMAC-SHA256 of ``id.timestamp.body`` with the secret's bytes) and the body
      ``{"id", "type", "timestamp", "region_id", "data"}``; for case events
      ``data`` holds ``case_id, action, from_status, to_status, at, actor_id, note,
      unit_id, due_at, sample_point_id, inspection_id, source, severity,
      description, address, reporter_id`` and the id is the case event's id.
    - ``kind: wecom`` / ``dingtalk`` — a markdown message for the group robot;
      DingTalk's ``timestamp``/``sign`` are added to the URL when a secret is set.
    - ``secret``: leave it out for ``json`` (one is generated); give the robot's
      加签 secret for ``dingtalk``; none for ``wecom``.
    - ``event_types``: empty = all; ``unit_id``: only that unit's events.
    - Only ``http(s)`` URLs; redirects are never followed; each attempt is cut off
      after the configured timeout (10 s). A 2xx (and, for the robots,
      ``errcode`` 0) is success; otherwise retried after ~10 s, then doubling with
      jitter up to an hour apart, for 24 h, then ``failed``. One case's events
      arrive in the order they happened.
    """
    if body.unit_id is not None and not await unit_exists(
        session, principal.region_id, body.unit_id
    ):
        raise Unprocessable(
            "The webhook is not valid; see errors.",
            errors=[{"loc": ["body", "unit_id"], "msg": "no such unit in this region"}],
        )
    secret = _secret_for(body)
    webhook = Webhook(
        region_id=principal.region_id,
        id=uuid.uuid4(),
        url=str(body.url),
        kind=body.kind,
        event_types=list(body.event_types),
        unit_id=body.unit_id,
        secret=secret,
        active=body.active,
        description=body.description,
        created_by=principal.person_id,
    )
    session.add(webhook)
    await session.flush()
    await session.refresh(webhook)
    response.headers["Location"] = f"/v1/webhooks/{webhook.id}"
    set_etag(response, webhook.version)
    return WebhookCreated(**webhook_read(webhook).model_dump(), secret=secret)


@router.get("/v1/webhooks", response_model=Page[WebhookRead])
async def list_webhooks(
    principal: AdminUser,
    session: SessionDep,
    limit: LimitParam = DEFAULT_LIMIT,
    cursor: CursorParam = None,
) -> Page[WebhookRead]:
    """The region's webhooks, oldest first (secrets are never shown again)."""
    rows, next_cursor = await keyset_page(
        session,
        select(Webhook).where(Webhook.region_id == principal.region_id),
        order_by=[Webhook.created_at, Webhook.id],
        cursor=cursor,
        limit=limit,
    )
    return Page(items=[webhook_read(w) for w in rows], next_cursor=next_cursor)


@router.get("/v1/webhooks/{webhook_id}", response_model=WebhookRead)
async def get_webhook(webhook: CurrentWebhook, response: Response) -> WebhookRead:
    """One webhook; ``ETag`` is its version."""
    set_etag(response, webhook.version)
    return webhook_read(webhook)


@router.patch("/v1/webhooks/{webhook_id}", response_model=WebhookRead)
async def update_webhook(
    body: WebhookUpdate,
    request: Request,
    webhook: CurrentWebhook,
    session: SessionDep,
    response: Response,
) -> WebhookRead:
    """Change the URL, the event types, the description or switch it off (``active``)."""
    check_if_match(request, webhook.version)
    for name, value in body.model_dump(exclude_unset=True).items():
        if value is None and name != "description":
            raise Unprocessable(
                "The change is not valid; see errors.",
                errors=[{"loc": ["body", name], "msg": "may not be null"}],
            )
        setattr(webhook, name, str(value) if name == "url" else value)
    await session.flush()
    await session.refresh(webhook)
    set_etag(response, webhook.version)
    return webhook_read(webhook)


StatusFilter = Annotated[str | None, Query(alias="status", pattern="^(pending|succeeded|failed)$")]


async def _attempts(session: SessionDep, region_id: uuid.UUID, ids: list[uuid.UUID]):
    rows = (
        await session.execute(
            select(DeliveryAttempt)
            .where(DeliveryAttempt.region_id == region_id, DeliveryAttempt.delivery_id.in_(ids))
            .order_by(DeliveryAttempt.delivery_id, DeliveryAttempt.number)
        )
    ).scalars()
    found: dict[uuid.UUID, list[AttemptRead]] = {}
    for attempt in rows:
        found.setdefault(attempt.delivery_id, []).append(AttemptRead.model_validate(attempt))
    return found


def delivery_read(
    delivery: WebhookDelivery, event_type: str, attempts: list[AttemptRead]
) -> DeliveryRead:
    return DeliveryRead(
        id=delivery.id,
        webhook_id=delivery.webhook_id,
        event_id=delivery.event_id,
        event_type=event_type,
        status=delivery.status,  # type: ignore[arg-type]
        attempts=delivery.attempts,
        next_attempt_at=delivery.next_attempt_at if delivery.status == "pending" else None,
        last_status_code=delivery.last_status_code,
        last_error=delivery.last_error,
        delivered_at=delivery.delivered_at,
        created_at=delivery.created_at,
        attempt_log=attempts,
    )


@router.get("/v1/webhooks/{webhook_id}/deliveries", response_model=Page[DeliveryRead])
async def list_deliveries(
    webhook: CurrentWebhook,
    session: SessionDep,
    status_: StatusFilter = None,
    limit: LimitParam = DEFAULT_LIMIT,
    cursor: CursorParam = None,
) -> Page[DeliveryRead]:
    """The webhook's deliveries in event order, each with every attempt made."""
    stmt = (
        select(WebhookDelivery, NotificationEvent.type)
        .join(
            NotificationEvent,
            (NotificationEvent.region_id == WebhookDelivery.region_id)
            & (NotificationEvent.id == WebhookDelivery.event_id),
        )
        .where(
            WebhookDelivery.region_id == webhook.region_id,
            WebhookDelivery.webhook_id == webhook.id,
        )
    )
    if status_ is not None:
        stmt = stmt.where(WebhookDelivery.status == status_)
    rows, next_cursor = await keyset_page(
        session,
        stmt,
        order_by=[WebhookDelivery.event_seq, WebhookDelivery.id],
        cursor=cursor,
        limit=limit,
        scalars=False,
        key=lambda row: [row[0].event_seq, str(row[0].id)],
    )
    attempts = await _attempts(session, webhook.region_id, [row[0].id for row in rows])
    return Page(
        items=[delivery_read(d, t, attempts.get(d.id, [])) for d, t in rows],
        next_cursor=next_cursor,
    )


@router.post(
    "/v1/deliveries/{delivery_id}/redeliver",
    response_model=DeliveryRead,
    status_code=status.HTTP_202_ACCEPTED,
    tags=["webhooks"],
)
async def redeliver(
    delivery_id: uuid.UUID, principal: AdminUser, session: SessionDep
) -> DeliveryRead:
    """Send a delivery again now (same ``webhook-id``); 202: it is queued, not yet sent."""
    delivery = await session.get(
        WebhookDelivery, (principal.region_id, delivery_id), with_for_update=True
    )
    if delivery is None:
        raise NotFound(f"No delivery {delivery_id} here.")
    now = clock.now()
    delivery.status = "pending"
    delivery.next_attempt_at = now
    # An attempt in flight keeps its lease: the delivery is never sent twice at once.
    delivery.updated_at = now
    await session.flush()
    event_type = await session.scalar(
        select(NotificationEvent.type).where(
            NotificationEvent.region_id == delivery.region_id,
            NotificationEvent.id == delivery.event_id,
        )
    )
    attempts = await _attempts(session, delivery.region_id, [delivery.id])
    return delivery_read(delivery, event_type or "", attempts.get(delivery.id, []))
