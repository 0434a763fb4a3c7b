"""The ``forward`` adapter: deliver each order (and its later events) to the vendor's own platform.

Deliveries are Standard Webhooks (``adapters.standard_webhooks``), signed with the tenant's
``forward_signing_secret`` and retried through the outbox; ``url`` is global here or per tenant (tenant
adapter settings). With ``sync = true`` the platform decides while the recruiter waits: the delivery of
``order.received`` is made inside ``decide`` and the platform answers ``{"decision": "accept"}``,
``{"decision": "reject", "message": ...}`` or ``{"decision": "inline", "assessment_url": ...}``. If it
fails or is late, ``on_sync_failure`` decides, and ``start`` delivers again (same ``webhook-id``, so the
platform can drop the repeat). The platform reports results through the results API with a tenant key.
"""

from __future__ import annotations

from typing import Annotated, Literal

import msgspec
from msgspec import Meta

from adapters.standard_webhooks import deliver, order_event
from core.adapters import (
    API_VERSION,
    Accept,
    AdapterContext,
    AdapterEvent,
    AdapterPlugin,
    Callback,
    Decision,
    FormSubmitted,
    Inline,
    OrderView,
    Redirect,
    Reject,
    Requirement,
)
from core.errors import AssessgateError


class ForwardConfig(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    #: The vendor platform's endpoint ("" : set it per tenant through the tenant's adapter settings).
    url: str = ""
    #: The tenant secret (``whsec_...``, base64) that signs deliveries.
    secret_name: str = "forward_signing_secret"  # noqa: S105 - a secret's name, not a secret
    timeout_s: Annotated[float, Meta(gt=0, le=60)] = 10.0
    sync: bool = False
    #: Seconds the platform has to decide in sync mode (keep it under ASSESSGATE_DECIDE_DEADLINE_S).
    sync_timeout_s: Annotated[float, Meta(gt=0, le=20)] = 3.0
    on_sync_failure: Literal["accept", "reject"] = "accept"
    sync_failure_message: str = "The assessment provider could not take this order right now. Please send it again."


class _SyncAnswer(msgspec.Struct, frozen=True):
    decision: Literal["accept", "reject", "inline"]
    message: str = ""
    assessment_url: str = ""


class ForwardAdapter:
    def __init__(self, config: ForwardConfig) -> None:
        self.config = config

    def requirements(self) -> list[Requirement]:
        needed = [Requirement(secret=self.config.secret_name, why="signs deliveries to the vendor's platform")]
        if not self.config.url:
            needed.append(Requirement(setting="url", why="the vendor platform's endpoint"))
        return needed

    async def decide(self, order: OrderView, ctx: AdapterContext) -> Decision:
        if not self.config.sync:
            if order.inline:
                return Reject(message="This assessment cannot be started from the career site; apply first.")
            return Accept()
        try:
            reply = await self._deliver(order, ctx, "order.received", f"order.{order.id}", self.config.sync_timeout_s)
            answer = msgspec.json.decode(reply, type=_SyncAnswer)
        except (AssessgateError, msgspec.DecodeError) as exc:
            await ctx.timeline("forward.sync_failed", {"error": str(exc)[:300]})
            answer = _SyncAnswer(decision="reject" if self.config.on_sync_failure == "reject" else "accept")
        if answer.decision == "inline" and answer.assessment_url:
            return Inline(assessment_url=answer.assessment_url)
        if answer.decision == "accept" and not order.inline:
            return Accept()
        return Reject(message=answer.message or self.config.sync_failure_message)

    async def start(self, order: OrderView, ctx: AdapterContext) -> None:
        await self._deliver(order, ctx, "order.received", f"order.{order.id}", self.config.timeout_s)
        await ctx.timeline("forward.delivered", {"type": "order.received"})

    async def handle(self, order: OrderView, event: AdapterEvent, ctx: AdapterContext) -> Redirect | None:
        if isinstance(event, FormSubmitted):
            data = await ctx.candidate_data()
            await self._deliver(
                order, ctx, "candidate_data.submitted", f"form.{order.id}", self.config.timeout_s, candidate_data=data
            )
        elif isinstance(event, Callback):
            await ctx.timeline("forward.callback_ignored", {"note": "results come through the results API"})
        return None

    async def _deliver(
        self, order: OrderView, ctx: AdapterContext, kind: str, delivery_id: str, timeout_s: float, **extra: object
    ) -> bytes:
        if not self.config.url:
            raise AssessgateError("forward: no url configured for this tenant", retryable=True)
        secret = await ctx.secret(self.config.secret_name)
        if not secret:
            raise AssessgateError(f"forward: the tenant has no secret {self.config.secret_name!r}", retryable=True)
        reply = await deliver(
            ctx.http,
            self.config.url,
            secret=secret,
            delivery_id=delivery_id,
            event=order_event(kind, order, **extra),
            timeout_s=timeout_s,
        )
        return reply.body


plugin = AdapterPlugin(name="forward", api_version=API_VERSION, config_type=ForwardConfig, create=ForwardAdapter)
