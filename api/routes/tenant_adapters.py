"""A tenant's adapter settings (its overrides of plugins.toml's, e.g. branding or the platform URL) and the
callbacks the vendor's platform posts about an order for its adapter."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

import msgspec
from litestar import get, post, put
from litestar.di import NamedDependency
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromPath

from api.bodies import ADAPTER_SETTINGS_BODY, CALLBACK_BODY
from api.composition import Gateway
from api.problems import problem_responses
from api.routes.tenant_orders import OrderRef
from api.tenant_scope import TenantController
from core.permissions import Admin, Scope
from core.tenants import Tenant

AdapterName = Annotated[str, msgspec.Meta(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9_.-]+$")]


class AdapterSettingsOut(msgspec.Struct, kw_only=True):
    #: The tenant's overrides, by adapter name.
    adapters: dict[str, dict[str, Any]]


class CallbackAccepted(msgspec.Struct, kw_only=True):
    handled: bool


class TenantAdaptersController(TenantController):
    tags = ["adapters"]  # noqa: RUF012 - Litestar's own attribute

    @get(
        "/{tenant_id:uuid}/adapters",
        summary="The tenant's adapter settings",
        responses=problem_responses(401, 403, 404),
        opt={"access": Scope.TENANT_READ},
    )
    async def get_settings(
        self, gateway: NamedDependency[Gateway], tenant: NamedDependency[Tenant]
    ) -> AdapterSettingsOut:
        return AdapterSettingsOut(adapters=await gateway.administration.adapter_settings(tenant.id))

    @put(
        "/{tenant_id:uuid}/adapters/{name:str}/settings",
        summary="Override an adapter's settings for this tenant (admin). The body is merged over [adapters.<name>] of "
        "plugins.toml (tables key by key) and validated against the adapter's config; {} removes the overrides",
        responses=problem_responses(401, 403, 404, 422),
        opt={"access": Admin.ONLY},
    )
    async def set_settings(
        self,
        *,
        actor: NamedDependency[str],
        gateway: NamedDependency[Gateway],
        tenant: NamedDependency[Tenant],
        name: FromPath[AdapterName],
        data: Annotated[dict[str, Any], Body(media_type=RequestEncodingType.JSON, schema_extra=ADAPTER_SETTINGS_BODY)],
    ) -> AdapterSettingsOut:
        return AdapterSettingsOut(adapters=await gateway.adapter_setup.set_settings(tenant.id, name, data, actor=actor))

    @post(
        "/{tenant_id:uuid}/orders/{order_id:str}/events",
        status_code=202,
        summary="Report an event about an order to its adapter (e.g. a background check's progress)",
        responses=problem_responses(401, 403, 404, 409, 422, 502),
        opt={"access": Scope.RESULTS_WRITE},
    )
    async def callback(
        self,
        gateway: NamedDependency[Gateway],
        tenant_id: FromPath[uuid.UUID],  # the order's read checks the tenant (Orders.resolve): no ``tenant`` here
        order_id: FromPath[OrderRef],
        data: Annotated[dict[str, Any], Body(media_type=RequestEncodingType.JSON, schema_extra=CALLBACK_BODY)],
    ) -> CallbackAccepted:
        await gateway.runtime.callback(tenant_id, order_id, data)
        return CallbackAccepted(handled=True)
