"""The customer onboarding page's flow: a customer's admin opens the tenant's onboarding link and is sent to Kombo
Connect for that tenant, and only that tenant.

Starting asks Kombo for a connect link whose origin id is the link's tenant (the same request as the API's
``connect-link``, as a magic link: the admin's browser opens it directly). Kombo's ``integration-created`` webhook
then binds the new integration to that tenant under :func:`integrations.binding.record_binding`'s rule (an
integration another tenant holds is left where it is). Nothing the browser sends names a tenant or an
integration: the signed link alone decides whose connection it is.
"""

from __future__ import annotations

from core.kombo.vocabulary import LinkType
from integrations.binding import IntegrationBinding
from tenants.onboarding_links import Onboarding, OnboardingLinks, OnboardingState


class CustomerOnboarding:
    def __init__(self, links: OnboardingLinks, binding: IntegrationBinding) -> None:
        self.links = links
        self.binding = binding

    async def open(self, token: str) -> Onboarding:
        return await self.links.open(token)

    async def start(self, token: str) -> tuple[Onboarding, str | None]:
        """The link's state and, when it may start, the Kombo Connect URL to send the admin to.

        A tenant already connected gets no second connect link: Kombo does not de-duplicate, and a second
        integration would not be bound (``integration-created`` leaves a bound tenant as it is)."""
        onboarding = await self.links.open(token)
        if onboarding.state is not OnboardingState.READY:
            return onboarding, None
        assert onboarding.tenant is not None
        url = await self.binding.connect_link(
            onboarding.tenant,
            end_user_email=onboarding.end_user_email,
            language=None,
            integration_tool=None,
            link_type=LinkType.MAGIC_LINK,
        )
        await self.links.started(onboarding)
        return onboarding, url
