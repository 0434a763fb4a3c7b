"""A tenant's adapter routing: which adapter serves which of its package types (overrides of plugins.toml)."""

from __future__ import annotations

from typing import Annotated

import msgspec
from litestar import get, put
from litestar.di import NamedDependency
from litestar.params import JSONBody

from api.composition import Gateway
from api.problems import problem_responses
from api.tenant_scope import TenantController
from core.permissions import Admin, Scope
from core.tenants import Tenant


class RoutesIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    #: Route key (a package type, ``inline`` or ``default``) -> adapter name; replaces the tenant's overrides.
    routes: dict[str, Annotated[str, msgspec.Meta(min_length=1, max_length=100)]]


class RoutesOut(msgspec.Struct, kw_only=True):
    routes: dict[str, str]


class TenantRoutingController(TenantController):
    tags = ["tenants"]  # noqa: RUF012 - Litestar's own attribute

    @get(
        "/{tenant_id:uuid}/routes",
        summary="The tenant's adapter routing overrides",
        responses=problem_responses(401, 403, 404),
        opt={"access": Scope.TENANT_READ},
    )
    async def get_routes(self, gateway: NamedDependency[Gateway], tenant: NamedDependency[Tenant]) -> RoutesOut:
        return RoutesOut(routes=await gateway.administration.routes(tenant.id))

    @put(
        "/{tenant_id:uuid}/routes",
        summary="Send this tenant's package types to other adapters (admin)",
        responses=problem_responses(401, 403, 404, 422),
        opt={"access": Admin.ONLY},
    )
    async def set_routes(
        self,
        actor: NamedDependency[str],
        gateway: NamedDependency[Gateway],
        tenant: NamedDependency[Tenant],
        data: JSONBody[RoutesIn],
    ) -> RoutesOut:
        return RoutesOut(routes=await gateway.adapter_setup.set_routes(tenant.id, data.routes, actor=actor))
