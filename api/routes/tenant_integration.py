"""A tenant's Kombo integration: a Connect link, binding the integration it made (by token or by id), and a
link that repairs its credentials (``integrations/binding.py`` holds who may bind what)."""

from __future__ import annotations

from typing import Annotated

import msgspec
from litestar import post, put
from litestar.di import NamedDependency
from litestar.params import JSONBody

from api.auth import Principal, only_tenant
from api.composition import Gateway
from api.problems import problem_responses
from api.routes.tenants import TenantOut, tenant_out
from api.tenant_scope import TenantController
from core.kombo.vocabulary import Language
from core.permissions import Scope
from core.tenants import Tenant


class ConnectLinkIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    end_user_email: Annotated[str, msgspec.Meta(min_length=3, max_length=320, pattern="@")]
    language: Language | None = None
    integration_tool: Annotated[str, msgspec.Meta(min_length=1, max_length=100)] | None = None


class LinkOut(msgspec.Struct, kw_only=True):
    link: str


class ExchangeIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    token: Annotated[str, msgspec.Meta(min_length=1, max_length=4096)]


class BindIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    integration_id: Annotated[str, msgspec.Meta(min_length=1, max_length=200)]


class TenantIntegrationController(TenantController):
    tags = ["tenants"]  # noqa: RUF012 - Litestar's own attribute

    @post(
        "/{tenant_id:uuid}/connect-link",
        status_code=200,
        summary="A Kombo Connect link for this tenant",
        responses=problem_responses(401, 403, 404, 422, 502, 503),
        opt={"access": Scope.INTEGRATION_MANAGE},
    )
    async def connect_link(
        self, gateway: NamedDependency[Gateway], tenant: NamedDependency[Tenant], data: JSONBody[ConnectLinkIn]
    ) -> LinkOut:
        link = await gateway.binding.connect_link(
            tenant,
            end_user_email=data.end_user_email,
            language=data.language,
            integration_tool=data.integration_tool,
        )
        return LinkOut(link=link)

    @post(
        "/{tenant_id:uuid}/integration/exchange",
        status_code=200,
        summary="Bind the integration a Kombo Connect token names (a tenant key: only one connected for its tenant)",
        responses=problem_responses(401, 403, 404, 409, 422, 502, 503),
        opt={"access": Scope.INTEGRATION_MANAGE},
    )
    async def exchange(
        self,
        principal: NamedDependency[Principal],
        actor: NamedDependency[str],
        gateway: NamedDependency[Gateway],
        tenant: NamedDependency[Tenant],
        data: JSONBody[ExchangeIn],
    ) -> TenantOut:
        owner_only = only_tenant(principal) is not None
        return tenant_out(await gateway.binding.exchange(tenant.id, data.token, actor=actor, owner_only=owner_only))

    @put(
        "/{tenant_id:uuid}/integration",
        summary="Bind an existing integration (a tenant key: only one connected for its tenant)",
        responses=problem_responses(401, 403, 404, 409, 422, 502, 503),
        opt={"access": Scope.INTEGRATION_MANAGE},
    )
    async def bind(
        self,
        principal: NamedDependency[Principal],
        actor: NamedDependency[str],
        gateway: NamedDependency[Gateway],
        tenant: NamedDependency[Tenant],
        data: JSONBody[BindIn],
    ) -> TenantOut:
        owner_only = only_tenant(principal) is not None
        bound = await gateway.binding.bind(tenant.id, data.integration_id, actor=actor, owner_only=owner_only)
        return tenant_out(bound)

    @post(
        "/{tenant_id:uuid}/relink-link",
        status_code=200,
        summary="A link that repairs the integration's credentials",
        responses=problem_responses(401, 403, 404, 409, 422, 502, 503),
        opt={"access": Scope.INTEGRATION_MANAGE},
    )
    async def relink(
        self, actor: NamedDependency[str], gateway: NamedDependency[Gateway], tenant: NamedDependency[Tenant]
    ) -> LinkOut:
        return LinkOut(link=await gateway.binding.relink(tenant, actor=actor))
