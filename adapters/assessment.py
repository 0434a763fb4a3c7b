"""The ``assessment`` and ``inline_assessment`` adapters: invite the candidate to the vendor's test platform.

``start`` emails an invitation with a signed, expiring, single-use link to the gateway (``/c/<token>``),
schedules reminders and the expiry. The candidate who opens the link confirms on a page of ours (so a mail
scanner fetching the link does not use it up), and is sent to ``launch_url_template``: the vendor's platform,
with a short-lived signature it can check (HMAC-SHA256 with the tenant's ``launch_signing_secret``).
On expiry an order still without a final result is written back as CANCELLED with the reason. Results come
from the vendor's platform through the results API.

``inline_assessment`` is the same adapter for inline orders: ``decide`` answers with the candidate's link at
once (an HMAC, no I/O), and by default sends no invitation (the candidate is already on the career site).
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import UTC, datetime
from typing import Annotated, Final

import msgspec
from msgspec import Meta

from adapters.candidate_mail import Branding, remind, send
from core.adapters import (
    API_VERSION,
    Accept,
    AdapterContext,
    AdapterEvent,
    AdapterPlugin,
    Decision,
    Inline,
    LinkOpened,
    OrderView,
    Redirect,
    Requirement,
    Timer,
)
from core.errors import AssessgateError
from core.kombo import ResultBody, ResultStatus, TextAttribute, format_timestamp

LAUNCH: Final = "launch"
EXPIRE: Final = "expire"
HOUR_S: Final = 3600


class AssessmentConfig(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    #: The vendor's test platform. Placeholders: {order_id}, {kombo_order_id}, {package_id}, {expires} (Unix
    #: seconds) and {signature} (hex HMAC-SHA256 of "<order_id>.<expires>" with the tenant's launch secret).
    launch_url_template: str = (
        "https://tests.example.com/start?order={order_id}&package={package_id}&expires={expires}&signature={signature}"
    )
    #: The tenant secret that signs launch URLs (set with PUT /v1/tenants/{id}/secrets/{name}).
    launch_secret_name: str = "launch_signing_secret"  # noqa: S105 - a secret's name, not a secret
    #: Seconds the vendor should accept a launch URL after the candidate was sent on.
    launch_valid_s: Annotated[int, Meta(ge=30, le=86_400)] = 600
    #: Hours until the invitation expires; an order without a final result then is written back CANCELLED.
    expire_after_hours: Annotated[int, Meta(ge=1, le=24 * 90)] = 168
    #: Hours after the invitation at which a reminder goes out (while the order is open).
    reminder_after_hours: tuple[int, ...] = (48, 120)
    send_invitation: bool = True
    branding: Branding = Branding()


class InlineAssessmentConfig(AssessmentConfig, frozen=True, kw_only=True, forbid_unknown_fields=True):
    send_invitation: bool = False


def launch_signature(secret: str, order_id: str, expires: int) -> str:
    return hmac.new(secret.encode(), f"{order_id}.{expires}".encode(), hashlib.sha256).hexdigest()


class AssessmentAdapter:
    def __init__(self, config: AssessmentConfig) -> None:
        self.config = config

    def requirements(self) -> list[Requirement]:
        return [Requirement(secret=self.config.launch_secret_name, why="signs the candidate's launch URL")]

    async def decide(self, order: OrderView, ctx: AdapterContext) -> Decision:
        if order.inline:
            return Inline(assessment_url=ctx.candidate_link(LAUNCH, self.config.expire_after_hours * HOUR_S))
        return Accept()

    async def start(self, order: OrderView, ctx: AdapterContext) -> None:
        expires_at = ctx.now_s() + self.config.expire_after_hours * HOUR_S
        if self.config.send_invitation:
            link = ctx.candidate_link(LAUNCH, self.config.expire_after_hours * HOUR_S)
            await send(ctx, "invitation", self.config.branding, order, link=link, expires_at_s=expires_at)
            await ctx.timeline("candidate.invited", {"expires_at": int(expires_at)})
        for number, hours in enumerate(self.config.reminder_after_hours, start=1):
            if hours < self.config.expire_after_hours:
                at = ctx.now_s() + hours * HOUR_S
                await ctx.schedule(f"reminder-{number}", at, {"expires_at": int(expires_at)})
        await ctx.schedule(EXPIRE, expires_at, {"expires_at": int(expires_at)})

    async def handle(self, order: OrderView, event: AdapterEvent, ctx: AdapterContext) -> Redirect | None:
        if isinstance(event, LinkOpened) and event.purpose == LAUNCH:
            return Redirect(url=await self.launch_url(order, ctx))
        if isinstance(event, Timer) and order.state == "accepted":
            if event.name == EXPIRE:
                await self.expire(order, ctx, int(event.payload.get("expires_at", ctx.now_s())))
            elif event.name.startswith("reminder-"):
                await remind(ctx, self.config.branding, order, event, purpose=LAUNCH)
        return None

    async def launch_url(self, order: OrderView, ctx: AdapterContext) -> str:
        expires = int(ctx.now_s()) + self.config.launch_valid_s
        signature = ""
        if "{signature}" in self.config.launch_url_template:
            secret = await ctx.secret(self.config.launch_secret_name)
            if not secret:
                raise AssessgateError(
                    f"the tenant has no secret {self.config.launch_secret_name!r} to sign the launch URL with"
                )
            signature = launch_signature(secret, str(order.id), expires)
        return self.config.launch_url_template.format(
            order_id=order.id,
            kombo_order_id=order.kombo_order_id,
            package_id=order.package_id,
            expires=expires,
            signature=signature,
        )

    async def expire(self, order: OrderView, ctx: AdapterContext, expires_at: int) -> None:
        when = format_timestamp(datetime.fromtimestamp(expires_at, tz=UTC))
        reason = f"The candidate did not complete the assessment before the invitation expired ({when})."
        await ctx.submit_result(
            ResultBody(
                status=ResultStatus.CANCELLED,
                result_url=f"{ctx.public_url}/orders/{order.id}",
                completed_at=format_timestamp(datetime.fromtimestamp(ctx.now_s(), tz=UTC)),
                attributes=(TextAttribute(label="Reason", value=reason),),
            )
        )
        await ctx.timeline("candidate.expired", {"expired_at": when})


plugin = AdapterPlugin(
    name="assessment", api_version=API_VERSION, config_type=AssessmentConfig, create=AssessmentAdapter
)
inline_plugin = AdapterPlugin(
    name="inline_assessment", api_version=API_VERSION, config_type=InlineAssessmentConfig, create=AssessmentAdapter
)
