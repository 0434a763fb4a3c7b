"""An example third-party adapter: refuse candidates whose email domain is blocked, accept the rest, and pass
on the score the vendor's platform reports as the order's result.

Install it next to assessgate (``pip install -e examples/assessgate-example-adapter``), route a package
type to it in plugins.toml (``SKILLS_TEST = "domain_guard"``) and configure it under
``[adapters.domain_guard]``. It imports only assessgate's public surface, :mod:`assessgate.plugin`.
"""

from __future__ import annotations

from datetime import UTC, datetime

import msgspec

from assessgate.plugin import (
    API_VERSION,
    Accept,
    AdapterContext,
    AdapterEvent,
    AdapterPlugin,
    Callback,
    Decision,
    FieldError,
    Inline,
    OrderView,
    Redirect,
    Reject,
    ResultBody,
    ResultStatus,
    TextAttribute,
    ValidationFailed,
    format_timestamp,
)

#: The callback the vendor's platform posts (``POST /v1/tenants/{tenant}/orders/{order}/events``) when the
#: candidate finished: ``{"type": "example.scored", "score": 87, "max_score": 100, "report_url": "https://..."}``.
SCORED = "example.scored"


class DomainGuardConfig(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    blocked_domains: tuple[str, ...] = ()
    inline_url_template: str = "{public_url}/example/{order_id}"


class Scored(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    type: str
    score: float
    max_score: float
    report_url: str


class DomainGuard:
    def __init__(self, config: DomainGuardConfig) -> None:
        self.config = config

    async def decide(self, order: OrderView, ctx: AdapterContext) -> Decision:
        domain = order.candidate.email.rsplit("@", 1)[-1].lower()
        if domain in self.config.blocked_domains:
            return Reject(message=f"Candidates with {domain} addresses cannot take this assessment.")
        if order.inline:
            url = self.config.inline_url_template.format(public_url=ctx.public_url, order_id=order.id)
            return Inline(assessment_url=url)
        return Accept()

    async def start(self, order: OrderView, ctx: AdapterContext) -> None:
        await ctx.timeline("example.invited", {"email_domain": order.candidate.email.rsplit("@", 1)[-1]})

    async def handle(self, order: OrderView, event: AdapterEvent, ctx: AdapterContext) -> Redirect | None:
        if not (isinstance(event, Callback) and event.payload.get("type") == SCORED):
            return None
        try:
            scored = msgspec.convert(event.payload, Scored)
        except msgspec.ValidationError as exc:
            raise ValidationFailed([FieldError.of(exc)]) from None
        await ctx.submit_result(
            ResultBody(
                status=ResultStatus.COMPLETED,
                result_url=scored.report_url,
                completed_at=format_timestamp(datetime.fromtimestamp(ctx.now_s(), tz=UTC)),
                score=scored.score,
                max_score=scored.max_score,
                attributes=(TextAttribute(label="Scored by", value="the example platform"),),
            )
        )
        return None


plugin = AdapterPlugin(name="domain_guard", api_version=API_VERSION, config_type=DomainGuardConfig, create=DomainGuard)
