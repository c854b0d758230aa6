"""Building and sending one webhook request: signing, the chat robots' formats, timeouts.

- ``json``: the Standard Webhooks convention — ``webhook-id`` (the event id, the same
  on every retry so a receiver can deduplicate), ``webhook-timestamp`` and
  ``webhook-signature`` from the ``standardwebhooks`` package's own signer (the
  reference library of the convention, so receivers can verify with it or with any
  of its ports instead of trusting our HMAC framing).
- ``wecom``: 企业微信群机器人 markdown message; the robot's key is in its URL, it
  has no signature of its own; an answer with ``errcode`` ≠ 0 is a failure.
- ``dingtalk``: 钉钉自定义机器人 markdown message, signed the DingTalk way when the
  webhook has a secret (``timestamp`` in ms and ``sign`` =
  base64(HMAC-SHA256(secret, "timestamp\\nsecret")) added to the URL).

Outbound requests never follow redirects (a 3xx is a failed attempt), and the whole
attempt — connect, send, answer — is bounded, so a receiver that hangs or trickles
cannot hold a worker longer than the timeout.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import time
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import quote_plus
from zoneinfo import ZoneInfo

import httpx
from standardwebhooks.webhooks import Webhook as StandardWebhook

from inspections.notifications.events import chat_markdown, webhook_body

USER_AGENT = "Chuangwei-Webhooks/1"


@dataclass(frozen=True)
class Outcome:
    """How one attempt went: ``ok``, the receiver's status (None if none came) and why not."""

    ok: bool
    status_code: int | None
    error: str | None
    duration_ms: int


def dingtalk_signed_url(url: str, secret: str, now_ms: int) -> str:
    """The robot URL with DingTalk's ``timestamp`` and ``sign`` parameters."""
    to_sign = f"{now_ms}\n{secret}".encode()
    digest = hmac.new(secret.encode(), to_sign, hashlib.sha256).digest()
    sign = quote_plus(base64.b64encode(digest).decode())
    separator = "&" if "?" in url else "?"
    return f"{url}{separator}timestamp={now_ms}&sign={sign}"


def build_request(
    *, kind: str, url: str, secret: str | None, event: dict[str, Any], tz: ZoneInfo, now: datetime
) -> tuple[str, dict[str, str], bytes]:
    """``(url, headers, body)`` of one attempt to deliver ``event``."""
    headers = {"content-type": "application/json", "user-agent": USER_AGENT}
    if kind == "json":
        body = json.dumps(webhook_body(event), ensure_ascii=False, default=str).encode()
        event_id = str(event["id"])
        headers["webhook-id"] = event_id
        headers["webhook-timestamp"] = str(int(now.timestamp()))
        if secret:
            headers["webhook-signature"] = StandardWebhook(secret).sign(event_id, now, body)
        return url, headers, body
    heading, text = chat_markdown(event, tz)
    if kind == "wecom":
        message = {"msgtype": "markdown", "markdown": {"content": text}}
    else:  # dingtalk
        message = {"msgtype": "markdown", "markdown": {"title": heading, "text": text}}
        if secret:
            url = dingtalk_signed_url(url, secret, int(now.timestamp() * 1000))
    return url, headers, json.dumps(message, ensure_ascii=False).encode()


def _chat_error(kind: str, response: httpx.Response) -> str | None:
    """The robots answer 200 with ``errcode`` ≠ 0 when they refuse a message."""
    if kind == "json":
        return None
    try:
        answer = response.json()
    except ValueError:
        return None
    if isinstance(answer, dict) and answer.get("errcode", 0) != 0:
        return f"errcode {answer.get('errcode')}: {str(answer.get('errmsg'))[:200]}"
    return None


async def send(
    client: httpx.AsyncClient,
    *,
    kind: str,
    url: str,
    headers: dict[str, str],
    body: bytes,
    within: float,
) -> Outcome:
    """POST once; any answer other than 2xx (redirects included), or none in time, fails."""
    started = time.perf_counter()
    status_code: int | None = None
    error: str | None = None
    try:
        async with asyncio.timeout(within):
            response = await client.post(url, content=body, headers=headers)
        status_code = response.status_code
        if 200 <= status_code < 300:
            error = _chat_error(kind, response)
        else:
            error = f"HTTP {status_code}: {response.text[:200]}"
    except TimeoutError:
        error = f"no answer within {within:g} s"
    except httpx.HTTPError as exc:
        error = f"{type(exc).__name__}: {str(exc)[:200]}"
    duration_ms = int((time.perf_counter() - started) * 1000)
    return Outcome(ok=error is None, status_code=status_code, error=error, duration_ms=duration_ms)


def http_client(timeout: float) -> httpx.AsyncClient:
    """The dispatcher's client: bounded phases, no redirects, no proxies from the environment."""
    return httpx.AsyncClient(
        timeout=httpx.Timeout(timeout),
        follow_redirects=False,
        trust_env=False,
        limits=httpx.Limits(max_connections=100, max_keepalive_connections=20),
    )
