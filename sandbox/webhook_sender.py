"""Sending webhooks the way Kombo does: signed raw JSON bodies to one URL, and reading the replies.

For order events the reply matters (contract §3.3, §4.1): a well-formed 422 rejects the order and its
``message`` is what the recruiter sees; an inline order's 200 carries the ``assessment_url``; anything else
(other statuses, timeouts, refused connections) leaves the order OPEN, to be fetched through the orders
endpoint later. Faults may drop, duplicate or delay a webhook.
"""

from __future__ import annotations

import asyncio
import json
import random
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import msgspec
import structlog

from core.kombo import signature
from sandbox.faults import Faults
from sandbox.kombo_ids import new_id
from sandbox.settings import SandboxSettings
from sandbox.state import Delivery, OrderRecord, SandboxState

log = structlog.get_logger()


class WebhookSender:
    def __init__(
        self,
        settings: SandboxSettings,
        state: SandboxState,
        faults: Faults,
        client: httpx.AsyncClient,
        on_change: Callable[[], Awaitable[None]] | None = None,
    ) -> None:
        self.on_change = on_change
        self.settings = settings
        self.state = state
        self.faults = faults
        self.client = client
        self.background: set[asyncio.Task[None]] = set()
        self.stopping = False  # set by stop(): no retry is scheduled any more
        self.rng = random.Random()  # noqa: S311 - fault sampling, not security

    def body_of(self, event_type: str, data: dict[str, Any]) -> bytes:
        return msgspec.json.encode({"id": new_id(), "type": event_type, "data": data})

    async def send(self, event_type: str, data: dict[str, Any], *, order: OrderRecord | None = None) -> None:
        """Deliver one event (honouring faults); returns once delivered unless the fault delays it."""
        body = self.body_of(event_type, data)
        rule = self.faults.take(f"webhook:{event_type}", rng_value=self.rng.random())
        if rule is not None and rule.action == "drop":
            self._record(body, event_type, order, outcome="dropped")
            return
        if rule is not None and rule.action == "delay":
            task = asyncio.create_task(self._deliver_later(rule.latency_ms / 1000, body, event_type, order))
            self.background.add(task)
            task.add_done_callback(self.background.discard)
            self._record(body, event_type, order, outcome="pending")
            return
        if rule is not None and rule.action == "latency":
            await asyncio.sleep(rule.latency_ms / 1000)
        await self.deliver(body, event_type, order)
        if rule is not None and rule.action == "duplicate":
            await self.deliver(body, event_type, order)

    async def _deliver_later(
        self, delay_s: float, body: bytes, event_type: str, order: OrderRecord | None, attempt: int = 0
    ) -> None:
        await asyncio.sleep(delay_s)
        await self.deliver(body, event_type, order, attempt=attempt)
        if self.on_change is not None:
            await self.on_change()

    def _retry_later(self, body: bytes, event_type: str, order: OrderRecord | None, attempt: int) -> None:
        if self.stopping:
            return  # shutting down: the retry stays recorded as "retrying"
        delay = self.settings.webhook_retry_delays_s[attempt]
        task = asyncio.create_task(self._deliver_later(delay, body, event_type, order, attempt + 1))
        self.background.add(task)
        task.add_done_callback(self.background.discard)

    async def deliver(self, body: bytes, event_type: str, order: OrderRecord | None, *, attempt: int = 0) -> None:
        if not self.settings.webhook_url:
            self._record(body, event_type, order, outcome="failed", reply="no webhook URL configured")
            return
        inline = event_type == "inline-assessment:order-received"
        timeout = self.settings.inline_webhook_timeout_s if inline else self.settings.webhook_timeout_s
        headers = {
            "Content-Type": "application/json",
            signature.HEADER: signature.sign(self.settings.webhook_secret, body),
        }
        try:
            response = await self.client.post(self.settings.webhook_url, content=body, headers=headers, timeout=timeout)
        except httpx.HTTPError as exc:
            if attempt < len(self.settings.webhook_retry_delays_s):  # the receiver is not reachable (yet)
                self._record(body, event_type, order, outcome="retrying", reply=f"{type(exc).__name__}: {exc}")
                self._retry_later(body, event_type, order, attempt)
                return
            self._record(body, event_type, order, outcome="failed", reply=f"{type(exc).__name__}: {exc}")
            return
        outcome = "delivered" if response.is_success else "failed"
        if order is not None:
            outcome = self._apply_reply(order, response, inline=inline) or outcome
        self._record(body, event_type, order, outcome=outcome, status=response.status_code, reply=response.text[:2000])

    def _apply_reply(self, order: OrderRecord, response: httpx.Response, *, inline: bool) -> str | None:
        if order.status != "OPEN":
            return None  # a duplicate delivery changes nothing
        if response.status_code == 422 and (not inline or self.settings.inline_honours_422):  # noqa: PLR2004
            message = self._rejection_message(response)
            if message is not None:
                order.status = "REJECTED"
                order.rejection_message = message
                order.webhook_outcome = "rejected"
                return "rejected"
            order.webhook_outcome = "malformed 422 (not recognised as a rejection)"
            return "failed"
        if response.is_success and inline:
            url = self._json_field(response, ("assessment_url",))
            if isinstance(url, str) and url:
                order.assessment_url = url
                order.webhook_outcome = "inline URL received"
            else:
                order.webhook_outcome = "inline reply without assessment_url"
            return None
        order.webhook_outcome = "accepted" if response.is_success else f"HTTP {response.status_code}: left OPEN"
        return None

    def _rejection_message(self, response: httpx.Response) -> str | None:
        path = ("message",) if self.settings.reject_body == "top_level_message" else ("error", "message")
        value = self._json_field(response, path)
        return value if isinstance(value, str) and value.strip() else None

    @staticmethod
    def _json_field(response: httpx.Response, path: tuple[str, ...]) -> Any:
        try:
            value: Any = json.loads(response.content)
        except ValueError:
            return None
        for key in path:
            if not isinstance(value, dict):
                return None
            value = value.get(key)
        return value

    def _record(
        self,
        body: bytes,
        event_type: str,
        order: OrderRecord | None,
        *,
        outcome: str,
        status: int | None = None,
        reply: str | None = None,
    ) -> None:
        event_id = json.loads(body)["id"]
        self.state.deliveries.append(
            Delivery(
                seq=self.state.next_seq(),
                event_id=event_id,
                event_type=event_type,
                order_id=order.id if order else None,
                outcome=outcome,
                status=status,
                reply=reply,
            )
        )
        log.info("sandbox_webhook", event_type=event_type, outcome=outcome, status=status)

    async def drain(self) -> None:
        """Wait for delayed deliveries (tests)."""
        while self.background:
            await asyncio.gather(*list(self.background), return_exceptions=True)

    async def stop(self, grace_s: float = 2.0) -> None:
        """At shutdown: deliveries under way get ``grace_s``; retries still waiting are dropped (they stay
        recorded as ``retrying``). Draining them could take the whole retry schedule, 15 s by default, when the
        receiver is shutting down as well (the mounted sandbox posts to its own gateway)."""
        self.stopping = True
        if not self.background:
            return
        _, pending = await asyncio.wait(list(self.background), timeout=grace_s)
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)
