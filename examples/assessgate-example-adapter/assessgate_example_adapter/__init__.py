"""An example third-party adapter: refuse candidates whose email domain is blocked, accept the rest.

Install it next to assessgate (``pip install -e examples/assessgate-example-adapter``), route a package
type to it in plugins.toml (``SKILLS_TEST = "domain_guard"``) and configure it under
``[adapters.domain_guard]``.
"""

from __future__ import annotations

import msgspec

from core.adapters import API_VERSION, Accept, AdapterContext, AdapterPlugin, Decision, Inline, OrderView, Reject


class DomainGuardConfig(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    blocked_domains: tuple[str, ...] = ()
    inline_url_template: str = "{public_url}/example/{order_id}"


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


plugin = AdapterPlugin(name="domain_guard", api_version=API_VERSION, config_type=DomainGuardConfig, create=DomainGuard)
