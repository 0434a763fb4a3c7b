"""The tenant API: tenants themselves (create, list, read, change, delete).

A tenant's sub-resources each have their module: ``tenant_integration`` (connect links, binding),
``tenant_keys``, ``tenant_secrets``, ``tenant_catalog``, ``tenant_routing``, ``tenant_events``,
``tenant_adapters`` and ``tenant_orders``. The admin token may act on every tenant; a tenant API key only on
its own (404 for any other id): :func:`api.auth.authorize` and :mod:`api.tenant_scope`.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

import msgspec
from litestar import delete, get, patch, post
from litestar.di import NamedDependency
from litestar.params import JSONBody, QueryParameter

from api.auth import Principal, only_tenant
from api.composition import Gateway
from api.problems import problem_responses
from api.tenant_scope import TenantController
from core.kombo.vocabulary import IntegrationState
from core.permissions import Admin, Scope
from core.tenants import Tenant

Name = Annotated[str, msgspec.Meta(min_length=1, max_length=200, pattern=r"\S")]


class TenantIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    name: Name
    external_id: Annotated[str, msgspec.Meta(min_length=1, max_length=200)] | None = None


class TenantPatch(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    name: Name | None = None
    external_id: Annotated[str, msgspec.Meta(min_length=1, max_length=200)] | None = None


class IntegrationOut(msgspec.Struct, kw_only=True):
    id: str
    state: str | None


class TenantOut(msgspec.Struct, kw_only=True):
    id: uuid.UUID
    name: str
    external_id: str | None
    integration: IntegrationOut | None
    #: What an operator should do next, e.g. ``relink`` when the integration's credentials are INVALID.
    actions: list[str]
    created_at: datetime
    updated_at: datetime


class TenantPage(msgspec.Struct, kw_only=True):
    items: list[TenantOut]
    next_cursor: str | None


def tenant_out(tenant: Tenant) -> TenantOut:
    integration = (
        IntegrationOut(id=tenant.integration_id, state=tenant.integration_state) if tenant.integration_id else None
    )
    actions = ["relink"] if tenant.integration_state == IntegrationState.INVALID else []
    if tenant.integration_id is None:
        actions.append("connect")
    return TenantOut(
        id=tenant.id,
        name=tenant.name,
        external_id=tenant.external_id,
        integration=integration,
        actions=actions,
        created_at=tenant.created_at,
        updated_at=tenant.updated_at,
    )


class TenantsController(TenantController):
    tags = ["tenants"]  # noqa: RUF012 - Litestar's own attribute

    @post(
        "/", summary="Create a tenant (admin)", responses=problem_responses(401, 403, 409), opt={"access": Admin.ONLY}
    )
    async def create_tenant(
        self, actor: NamedDependency[str], gateway: NamedDependency[Gateway], data: JSONBody[TenantIn]
    ) -> TenantOut:
        return tenant_out(
            await gateway.administration.create(name=data.name, external_id=data.external_id, actor=actor)
        )

    @get(
        "/",
        summary="List tenants (a tenant key sees only its own)",
        responses=problem_responses(401, 403),
        opt={"access": Scope.TENANT_READ},
    )
    async def list_tenants(
        self,
        principal: NamedDependency[Principal],
        gateway: NamedDependency[Gateway],
        cursor: Annotated[str | None, QueryParameter(max_length=200)] = None,
        limit: Annotated[int, QueryParameter(ge=1, le=500)] = 100,
    ) -> TenantPage:
        page, next_cursor = await gateway.administration.page(cursor=cursor, limit=limit, only=only_tenant(principal))
        return TenantPage(items=[tenant_out(t) for t in page], next_cursor=next_cursor)

    @get(
        "/{tenant_id:uuid}",
        summary="One tenant",
        responses=problem_responses(401, 403, 404),
        opt={"access": Scope.TENANT_READ},
    )
    async def get_tenant(self, tenant: NamedDependency[Tenant]) -> TenantOut:
        return tenant_out(tenant)

    @patch(
        "/{tenant_id:uuid}",
        summary="Rename a tenant or change its external id (admin)",
        responses=problem_responses(401, 403, 404, 409),
        opt={"access": Admin.ONLY},
    )
    async def update_tenant(
        self,
        actor: NamedDependency[str],
        gateway: NamedDependency[Gateway],
        tenant: NamedDependency[Tenant],
        data: JSONBody[TenantPatch],
    ) -> TenantOut:
        changed = await gateway.administration.update(
            tenant.id, name=data.name, external_id=data.external_id, actor=actor
        )
        return tenant_out(changed)

    @delete(
        "/{tenant_id:uuid}",
        summary="Delete a tenant (admin; kept as deleted, never dropped)",
        responses=problem_responses(401, 403, 404, 409),
        opt={"access": Admin.ONLY},
    )
    async def delete_tenant(
        self,
        actor: NamedDependency[str],
        gateway: NamedDependency[Gateway],
        tenant: NamedDependency[Tenant],
        force: Annotated[bool, QueryParameter()] = False,
    ) -> None:
        await gateway.administration.delete(tenant.id, force=force, actor=actor)
