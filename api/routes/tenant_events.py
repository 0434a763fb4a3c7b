"""A tenant's event log: Kombo's events about it and what operators and API keys changed."""

from __future__ import annotations

from typing import Annotated

from litestar import get
from litestar.di import NamedDependency
from litestar.params import QueryParameter

from api.composition import Gateway
from api.problems import problem_responses
from api.tenant_scope import TenantController
from core.permissions import Scope
from core.tenants import Tenant
from tenants.administration import TenantEvent


class TenantEventsController(TenantController):
    tags = ["tenants"]  # noqa: RUF012 - Litestar's own attribute

    @get(
        "/{tenant_id:uuid}/events",
        summary="The tenant's event log: Kombo's events and what operators and API keys changed, newest first",
        responses=problem_responses(401, 403, 404),
        opt={"access": Scope.TENANT_READ},
    )
    async def events(
        self,
        gateway: NamedDependency[Gateway],
        tenant: NamedDependency[Tenant],
        limit: Annotated[int, QueryParameter(ge=1, le=500)] = 100,
    ) -> list[TenantEvent]:
        return await gateway.administration.events(tenant.id, limit=limit)
