"""The ``accept`` adapter: takes every order; inline orders get a URL from a template.

Useful on day one when the vendor's own platform picks orders up through the API (or the ``forward``
adapter, later) and as the simplest example of the contract.
"""

from __future__ import annotations

import msgspec

from core.adapters import (
    API_VERSION,
    Accept,
    AdapterContext,
    AdapterPlugin,
    Decision,
    Inline,
    OrderView,
)


class AcceptConfig(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    #: Where inline candidates go; ``{public_url}``, ``{order_id}`` and ``{kombo_order_id}`` are filled in.
    inline_url_template: str = "{public_url}/assessments/{order_id}"


class AcceptAdapter:
    def __init__(self, config: AcceptConfig) -> None:
        self.config = config

    async def decide(self, order: OrderView, ctx: AdapterContext) -> Decision:
        if order.inline:
            url = self.config.inline_url_template.format(
                public_url=ctx.public_url, order_id=order.id, kombo_order_id=order.kombo_order_id
            )
            return Inline(assessment_url=url)
        return Accept()

    async def start(self, order: OrderView, ctx: AdapterContext) -> None:
        await ctx.timeline("adapter.started", {"adapter": "accept", "package_type": order.package_type})


plugin = AdapterPlugin(name="accept", api_version=API_VERSION, config_type=AcceptConfig, create=AcceptAdapter)
