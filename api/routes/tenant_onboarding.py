"""A tenant's onboarding link: the operator (admin token) issues it and sends it to the customer's admin, who opens
the onboarding page (``api/routes/onboarding_page.py``) to connect the ATS. A new link revokes the previous one."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import msgspec
from litestar import post
from litestar.di import NamedDependency
from litestar.params import JSONBody

from api.composition import Gateway
from api.problems import problem_responses
from api.tenant_scope import TenantController
from core.permissions import Admin
from core.tenants import Tenant


class OnboardingLinkIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    #: The customer's admin who will connect the ATS (Kombo names them as the connection's creator).
    end_user_email: Annotated[str, msgspec.Meta(min_length=3, max_length=320, pattern="@")]


class OnboardingLinkOut(msgspec.Struct, kw_only=True):
    #: The page to send to the customer's admin; it works until ``expires_at`` and once.
    url: str
    expires_at: datetime


class TenantOnboardingController(TenantController):
    tags = ["tenants"]  # noqa: RUF012 - Litestar's own attribute

    @post(
        "/{tenant_id:uuid}/onboarding-link",
        status_code=200,
        summary="A signed link to the onboarding page where the customer's admin connects the ATS",
        responses=problem_responses(401, 403, 404),
        opt={"access": Admin.ONLY},
    )
    async def onboarding_link(
        self,
        actor: NamedDependency[str],
        gateway: NamedDependency[Gateway],
        tenant: NamedDependency[Tenant],
        data: JSONBody[OnboardingLinkIn],
    ) -> OnboardingLinkOut:
        issued = await gateway.onboarding.links.issue(tenant.id, end_user_email=data.end_user_email, actor=actor)
        return OnboardingLinkOut(url=issued.url, expires_at=issued.expires_at)
