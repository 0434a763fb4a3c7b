"""The tenant API: onboarding (tenants, connect links, integration binding), API keys, secrets, catalogs.

The admin token may act on every tenant; a tenant API key only on its own (404 for any other id).
"""

from __future__ import annotations

import base64
import binascii
import uuid
from datetime import datetime
from typing import Annotated

import msgspec
from litestar import Controller, delete, get, patch, post, put
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath, JSONBody, QueryParameter

from api.auth import SECURITY as SECURITY_REQUIREMENT
from api.auth import Principal, TenantKey, provide_principal, require_admin, visible_tenant
from api.plugins import Adapters
from api.problems import problem_responses
from core.catalog import TenantPackage
from core.errors import Conflict, FieldError, NotFound, PayloadInvalid, ValidationFailed
from core.kombo import CreateLinkRequest
from core.kombo.vocabulary import IntegrationState, Language
from core.plugins_file import ROUTE_KEYS
from core.ports import KomboApi
from core.settings import Settings
from core.tenants import ApiKey, Tenant
from tenants.catalogs import Catalogs, CatalogView
from tenants.db import Database
from tenants.order_jobs import after_binding
from tenants.orders import OrderRecord, Orders
from tenants.outbox import Outbox
from tenants.repository import TenantRepository
from tenants.vault import Vault
from tenants.worker import wall_clock_ms

Name = Annotated[str, msgspec.Meta(min_length=1, max_length=200, pattern=r"\S")]
SecretName = Annotated[str, msgspec.Meta(pattern=r"^[a-z0-9_.-]{1,100}$")]


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


class ApiKeyIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    name: Name = "default"


class ApiKeyOut(msgspec.Struct, kw_only=True):
    id: uuid.UUID
    name: str
    created_at: datetime
    revoked_at: datetime | None


class ApiKeyCreated(msgspec.Struct, kw_only=True):
    id: uuid.UUID
    name: str
    created_at: datetime
    #: Shown once: only its hash is stored.
    key: str


class SecretIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    value: Annotated[str, msgspec.Meta(min_length=1, max_length=10_000)]


class SecretNames(msgspec.Struct, kw_only=True):
    names: list[str]


class TenantEvent(msgspec.Struct, kw_only=True):
    event_id: str
    type: str
    received_at: datetime
    note: str | None


class RoutesIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    #: Route key (a package type, ``inline`` or ``default``) -> adapter name; replaces the tenant's overrides.
    routes: dict[str, Annotated[str, msgspec.Meta(min_length=1, max_length=100)]]


class RoutesOut(msgspec.Struct, kw_only=True):
    routes: dict[str, str]


class PackagesIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    #: Vendor package ids (with optional ``name``/``description`` overrides) or full packages of the tenant's own.
    packages: Annotated[list[TenantPackage], msgspec.Meta(max_length=1000)]
    confirm_deletions: bool = False


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


def key_out(key: ApiKey) -> ApiKeyOut:
    return ApiKeyOut(id=key.id, name=key.name, created_at=key.created_at, revoked_at=key.revoked_at)


def encode_cursor(row: Tenant | OrderRecord) -> str:
    """An opaque position in a list ordered by (created_at, id)."""
    raw = f"{row.created_at.isoformat()}|{row.id}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, uuid.UUID]:
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        created, _, tenant_id = text.partition("|")
        return datetime.fromisoformat(created), uuid.UUID(tenant_id)
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise PayloadInvalid("cursor is not one this API issued", path="$.cursor") from None


class TenantsController(Controller):
    path = "/v1/tenants"
    tags = ["tenants"]  # noqa: RUF012 - Litestar's own attribute
    security = SECURITY_REQUIREMENT
    dependencies = {"principal": Provide(provide_principal)}  # noqa: RUF012

    @post("/", summary="Create a tenant (admin)", responses=problem_responses(401, 403, 409))
    async def create_tenant(
        self, principal: NamedDependency[Principal], db: NamedDependency[Database], data: JSONBody[TenantIn]
    ) -> TenantOut:
        require_admin(principal)
        return tenant_out(await TenantRepository(db).create(name=data.name, external_id=data.external_id))

    @get("/", summary="List tenants (a tenant key sees only its own)", responses=problem_responses(401))
    async def list_tenants(
        self,
        principal: NamedDependency[Principal],
        db: NamedDependency[Database],
        cursor: Annotated[str | None, QueryParameter(max_length=200)] = None,
        limit: Annotated[int, QueryParameter(ge=1, le=500)] = 100,
    ) -> TenantPage:
        only = principal.tenant_id if isinstance(principal, TenantKey) else None
        after = decode_cursor(cursor) if cursor else None
        found = await TenantRepository(db).list_tenants(after=after, limit=limit + 1, only=only)
        page = found[:limit]
        next_cursor = encode_cursor(page[-1]) if len(found) > limit else None
        return TenantPage(items=[tenant_out(t) for t in page], next_cursor=next_cursor)

    @get("/{tenant_id:uuid}", summary="One tenant", responses=problem_responses(401, 404))
    async def get_tenant(
        self, principal: NamedDependency[Principal], db: NamedDependency[Database], tenant_id: FromPath[uuid.UUID]
    ) -> TenantOut:
        return tenant_out(await TenantRepository(db).require(visible_tenant(principal, tenant_id)))

    @patch(
        "/{tenant_id:uuid}",
        summary="Rename a tenant or change its external id",
        responses=problem_responses(401, 404, 409),
    )
    async def update_tenant(
        self,
        principal: NamedDependency[Principal],
        db: NamedDependency[Database],
        tenant_id: FromPath[uuid.UUID],
        data: JSONBody[TenantPatch],
    ) -> TenantOut:
        tenant = await TenantRepository(db).update(
            visible_tenant(principal, tenant_id), name=data.name, external_id=data.external_id
        )
        return tenant_out(tenant)

    @delete(
        "/{tenant_id:uuid}",
        summary="Delete a tenant (admin; kept as deleted, never dropped)",
        responses=problem_responses(401, 403, 404, 409),
    )
    async def delete_tenant(
        self,
        principal: NamedDependency[Principal],
        db: NamedDependency[Database],
        tenant_id: FromPath[uuid.UUID],
        force: Annotated[bool, QueryParameter()] = False,
    ) -> None:
        visible_tenant(principal, tenant_id)  # another tenant's id is a 404 before anything else
        require_admin(principal)
        open_orders = await Orders(db).open_count(tenant_id)
        if open_orders and not force:
            raise Conflict(f"the tenant has {open_orders} open order(s); pass force=true to delete it anyway")
        await TenantRepository(db).soft_delete(tenant_id)

    @post(
        "/{tenant_id:uuid}/connect-link",
        status_code=200,
        summary="A Kombo Connect link for this tenant",
        responses=problem_responses(401, 404, 422, 502, 503),
    )
    async def connect_link(
        self,
        principal: NamedDependency[Principal],
        db: NamedDependency[Database],
        kombo: NamedDependency[KomboApi],
        tenant_id: FromPath[uuid.UUID],
        data: JSONBody[ConnectLinkIn],
    ) -> LinkOut:
        tenant = await TenantRepository(db).require(visible_tenant(principal, tenant_id))
        request = CreateLinkRequest(
            end_user_email=data.end_user_email,
            end_user_organization_name=tenant.name,
            end_user_origin_id=str(tenant.id),
            language=data.language if data.language is not None else msgspec.UNSET,
            integration_tool=data.integration_tool if data.integration_tool is not None else msgspec.UNSET,
        )
        return LinkOut(link=await kombo.create_link(request))

    @post(
        "/{tenant_id:uuid}/integration/exchange",
        status_code=200,
        summary="Bind the integration a Kombo Connect token names",
        responses=problem_responses(401, 404, 409, 422, 502, 503),
    )
    async def exchange(
        self,
        principal: NamedDependency[Principal],
        db: NamedDependency[Database],
        kombo: NamedDependency[KomboApi],
        tenant_id: FromPath[uuid.UUID],
        data: JSONBody[ExchangeIn],
    ) -> TenantOut:
        tenant = await TenantRepository(db).require(visible_tenant(principal, tenant_id))
        found = await kombo.integration_by_token(data.token)
        origin = found.end_user_origin_id if isinstance(found.end_user_origin_id, str) else None
        if origin is not None and origin != str(tenant.id):
            raise Conflict("that connection was made for another tenant")
        return await self._bind(db, tenant.id, found.id, "ACTIVE")

    @put(
        "/{tenant_id:uuid}/integration",
        summary="Bind an existing integration",
        responses=problem_responses(401, 404, 409, 422, 502, 503),
    )
    async def bind(
        self,
        principal: NamedDependency[Principal],
        db: NamedDependency[Database],
        kombo: NamedDependency[KomboApi],
        tenant_id: FromPath[uuid.UUID],
        data: JSONBody[BindIn],
    ) -> TenantOut:
        visible_tenant(principal, tenant_id)
        integration = await kombo.get_integration(data.integration_id)
        return await self._bind(db, tenant_id, integration.id, integration.status)

    @post(
        "/{tenant_id:uuid}/relink-link",
        status_code=200,
        summary="A link that repairs the integration's credentials",
        responses=problem_responses(401, 404, 409, 422, 502, 503),
    )
    async def relink(
        self,
        principal: NamedDependency[Principal],
        db: NamedDependency[Database],
        kombo: NamedDependency[KomboApi],
        tenant_id: FromPath[uuid.UUID],
    ) -> LinkOut:
        tenant = await TenantRepository(db).require(visible_tenant(principal, tenant_id))
        if tenant.integration_id is None:
            raise Conflict("the tenant has no integration to relink; create a connect link instead")
        return LinkOut(link=await kombo.relink(tenant.integration_id))

    @post("/{tenant_id:uuid}/api-keys", summary="Create an API key (shown once)", responses=problem_responses(401, 404))
    async def create_api_key(
        self,
        principal: NamedDependency[Principal],
        db: NamedDependency[Database],
        tenant_id: FromPath[uuid.UUID],
        data: JSONBody[ApiKeyIn],
    ) -> ApiKeyCreated:
        key, plaintext = await TenantRepository(db).create_api_key(visible_tenant(principal, tenant_id), data.name)
        return ApiKeyCreated(id=key.id, name=key.name, created_at=key.created_at, key=plaintext)

    @get(
        "/{tenant_id:uuid}/api-keys",
        summary="List API keys (never their values)",
        responses=problem_responses(401, 404),
    )
    async def list_api_keys(
        self, principal: NamedDependency[Principal], db: NamedDependency[Database], tenant_id: FromPath[uuid.UUID]
    ) -> list[ApiKeyOut]:
        repo = TenantRepository(db)
        await repo.require(visible_tenant(principal, tenant_id))
        return [key_out(k) for k in await repo.api_keys(tenant_id)]

    @delete(
        "/{tenant_id:uuid}/api-keys/{key_id:uuid}", summary="Revoke an API key", responses=problem_responses(401, 404)
    )
    async def revoke_api_key(
        self,
        principal: NamedDependency[Principal],
        db: NamedDependency[Database],
        tenant_id: FromPath[uuid.UUID],
        key_id: FromPath[uuid.UUID],
    ) -> None:
        if not await TenantRepository(db).revoke_api_key(visible_tenant(principal, tenant_id), key_id):
            raise NotFound(f"no live API key {key_id}")

    @put(
        "/{tenant_id:uuid}/secrets/{name:str}",
        status_code=204,
        summary="Store a secret (write-only)",
        responses=problem_responses(401, 404),
    )
    async def put_secret(
        self,
        *,
        principal: NamedDependency[Principal],
        db: NamedDependency[Database],
        settings: NamedDependency[Settings],
        tenant_id: FromPath[uuid.UUID],
        name: FromPath[SecretName],
        data: JSONBody[SecretIn],
    ) -> None:
        await TenantRepository(db).require(visible_tenant(principal, tenant_id))
        await Vault(db, settings.secret_keys).put(tenant_id, name, data.value)

    @get(
        "/{tenant_id:uuid}/secrets",
        summary="Names of the stored secrets (values are never returned)",
        responses=problem_responses(401, 404),
    )
    async def secret_names(
        self,
        principal: NamedDependency[Principal],
        db: NamedDependency[Database],
        settings: NamedDependency[Settings],
        tenant_id: FromPath[uuid.UUID],
    ) -> SecretNames:
        await TenantRepository(db).require(visible_tenant(principal, tenant_id))
        return SecretNames(names=await Vault(db, settings.secret_keys).names(tenant_id))

    @delete("/{tenant_id:uuid}/secrets/{name:str}", summary="Delete a secret", responses=problem_responses(401, 404))
    async def delete_secret(
        self,
        principal: NamedDependency[Principal],
        db: NamedDependency[Database],
        settings: NamedDependency[Settings],
        tenant_id: FromPath[uuid.UUID],
        name: FromPath[SecretName],
    ) -> None:
        await TenantRepository(db).require(visible_tenant(principal, tenant_id))
        if not await Vault(db, settings.secret_keys).delete(tenant_id, name):
            raise NotFound(f"no secret {name!r}")

    @put(
        "/{tenant_id:uuid}/packages",
        summary="Set the tenant's catalog; it is pushed to Kombo in the background",
        responses=problem_responses(401, 404, 409, 422),
    )
    async def set_packages(
        self,
        principal: NamedDependency[Principal],
        db: NamedDependency[Database],
        settings: NamedDependency[Settings],
        tenant_id: FromPath[uuid.UUID],
        data: JSONBody[PackagesIn],
    ) -> CatalogView:
        await TenantRepository(db).require(visible_tenant(principal, tenant_id))
        catalogs = Catalogs(db, max_deletion_share=settings.catalog_max_deletion_share)
        return await catalogs.set_desired(
            tenant_id, data.packages, confirm_deletions=data.confirm_deletions, now_ms=wall_clock_ms()
        )

    @get(
        "/{tenant_id:uuid}/packages",
        summary="The catalog, its diff against Kombo and the sync state",
        responses=problem_responses(401, 404),
    )
    async def get_packages(
        self,
        principal: NamedDependency[Principal],
        db: NamedDependency[Database],
        settings: NamedDependency[Settings],
        tenant_id: FromPath[uuid.UUID],
    ) -> CatalogView:
        await TenantRepository(db).require(visible_tenant(principal, tenant_id))
        return await Catalogs(db, max_deletion_share=settings.catalog_max_deletion_share).view(tenant_id)

    @get(
        "/{tenant_id:uuid}/events",
        summary="The tenant's event log (Kombo's integration events)",
        responses=problem_responses(401, 404),
    )
    async def events(
        self,
        principal: NamedDependency[Principal],
        db: NamedDependency[Database],
        tenant_id: FromPath[uuid.UUID],
        limit: Annotated[int, QueryParameter(ge=1, le=500)] = 100,
    ) -> list[TenantEvent]:
        repo = TenantRepository(db)
        await repo.require(visible_tenant(principal, tenant_id))
        return [msgspec.convert(row, TenantEvent) for row in await repo.events(tenant_id, limit=limit)]

    @get(
        "/{tenant_id:uuid}/routes",
        summary="The tenant's adapter routing overrides",
        responses=problem_responses(401, 404),
    )
    async def get_routes(
        self, principal: NamedDependency[Principal], db: NamedDependency[Database], tenant_id: FromPath[uuid.UUID]
    ) -> RoutesOut:
        repo = TenantRepository(db)
        await repo.require(visible_tenant(principal, tenant_id))
        return RoutesOut(routes=await repo.routes(tenant_id))

    @put(
        "/{tenant_id:uuid}/routes",
        summary="Send this tenant's package types to other adapters (admin)",
        responses=problem_responses(401, 403, 404, 422),
    )
    async def set_routes(
        self,
        principal: NamedDependency[Principal],
        db: NamedDependency[Database],
        adapters: NamedDependency[Adapters],
        tenant_id: FromPath[uuid.UUID],
        data: JSONBody[RoutesIn],
    ) -> RoutesOut:
        visible_tenant(principal, tenant_id)
        require_admin(principal)
        errors = [
            FieldError(path=f"$.routes.{key}", message=f"not a route key; use one of {', '.join(sorted(ROUTE_KEYS))}")
            for key in data.routes
            if key not in ROUTE_KEYS
        ] + [
            FieldError(path=f"$.routes.{key}", message=f"no adapter named {name!r} is loaded")
            for key, name in data.routes.items()
            if name not in adapters.loaded
        ]
        if errors:
            raise ValidationFailed(errors)
        return RoutesOut(routes=await TenantRepository(db).set_routes(tenant_id, data.routes))

    @staticmethod
    async def _bind(db: Database, tenant_id: uuid.UUID, integration_id: str, state: str) -> TenantOut:
        async with db.tx():
            tenant = await TenantRepository(db).bind_integration(tenant_id, integration_id, state=state)
            # Catalog pushes that waited for an integration run now; orders held for it are processed.
            await after_binding(Outbox(db), tenant_id, integration_id, wall_clock_ms())
        return tenant_out(tenant)
