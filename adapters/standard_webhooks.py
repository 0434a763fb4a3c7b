"""Deliveries to the vendor's platform, signed as Standard Webhooks (https://www.standardwebhooks.com).

Headers ``webhook-id`` (stable across retries of one delivery, so the platform can drop repeats),
``webhook-timestamp`` and ``webhook-signature``; the platform verifies them with any Standard Webhooks
library and the shared ``whsec_...`` secret.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any

import msgspec
from standardwebhooks.webhooks import Webhook

from core.adapters import HttpClient, HttpReply, OrderView
from core.errors import AssessgateError


def signed_headers(secret: str, delivery_id: str, body: bytes, *, now_s: float) -> dict[str, str]:
    timestamp = datetime.fromtimestamp(int(now_s), tz=UTC)
    return {
        "content-type": "application/json",
        "webhook-id": delivery_id,
        "webhook-timestamp": str(int(now_s)),
        "webhook-signature": Webhook(secret).sign(delivery_id, timestamp, body.decode()),
    }


def order_event(event_type: str, order: OrderView, **extra: Any) -> dict[str, Any]:
    """The body of a delivery about an order: its type, the order as adapters see it, and ``extra``."""
    return {"type": event_type, "order": msgspec.to_builtins(order), **extra}


async def deliver(
    http: HttpClient,
    url: str,
    *,
    secret: str,
    delivery_id: str,
    event: dict[str, Any],
    timeout_s: float,
) -> HttpReply:
    """POST one signed event. A 2xx is delivered; 408, 429 and 5xx are retried; any other answer is final.

    The signature's timestamp is the real time of sending (receivers refuse old ones), not the gateway's
    logical clock."""
    body = msgspec.json.encode(event)
    headers = signed_headers(secret, delivery_id, body, now_s=time.time())
    reply = await http.post(url, content=body, headers=headers, timeout_s=timeout_s)
    if 200 <= reply.status < 300:  # noqa: PLR2004
        return reply
    retryable = reply.status in {408, 429} or reply.status >= 500  # noqa: PLR2004
    raise AssessgateError(f"{url} answered {reply.status}: {reply.body[:200]!r}", retryable=retryable)
