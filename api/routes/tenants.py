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
from api.auth import Principal, TenantKey, actor_of, authorize, only_tenant, provide_principal
from api.plugins import Adapters
from api.problems import problem_responses
from core.catalog import TenantPackage
from core.clock import wall_clock_ms
from core.errors import Conflict, FieldError, Forbidden, NotFound, PayloadInvalid, ValidationFailed
from core.kombo import CreateLinkRequest
from core.kombo.vocabulary import IntegrationState, Language
from core.permissions import DEFAULT_SCOPES, Admin, Scope, encode_scopes
from core.plugins_file import ROUTE_KEYS
from core.ports import KomboApi
from core.settings import Settings
from core.tenants import ApiKey, Tenant
from integrations.binding import IntegrationBinding
from orders.adapter_runtime import AdapterRuntime
from orders.store import OrderRecord, Orders
from storage.database import Database
from tenants.audit import KOMBO, AuditLog
from tenants.catalogs import Catalogs, CatalogView
from tenants.repository import TenantRepository
from tenants.vault import Vault

Name = Annotated[str, msgspec.Meta(min_length=1, max_length=200, pattern=r"\S")]
#: An order as routes name it: the gateway's id (a UUID) or Kombo's order id.
OrderRef = Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
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
    #: What the key may do (docs/security.md); absent: tenant:read, orders:read and results:write.
    scopes: Annotated[list[Scope], msgspec.Meta(min_length=1)] | None = None


class ApiKeyOut(msgspec.Struct, kw_only=True):
    id: uuid.UUID
    name: str
    scopes: list[Scope]
    created_at: datetime
    revoked_at: datetime | None
    #: The key that created this one (``null``: the admin token).
    created_by: uuid.UUID | None


class ApiKeyCreated(ApiKeyOut, kw_only=True):
    #: Shown once: only its hash is stored.
    key: str


class SecretIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    value: Annotated[str, msgspec.Meta(min_length=1, max_length=10_000)]


class SecretNames(msgspec.Struct, kw_only=True):
    names: list[str]


class TenantEvent(msgspec.Struct, kw_only=True):
    event_id: str
    #: Kombo's event type (``integration-created``, ...) or our change (``integration.bound``, ...).
    type: str
    received_at: datetime
    note: str | None
    #: Who: ``kombo``, ``admin`` or ``api_key:<key id>``.
    actor: str


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
    return ApiKeyOut(
        id=key.id,
        name=key.name,
        scopes=sorted(key.scopes),
        created_at=key.created_at,
        revoked_at=key.revoked_at,
        created_by=key.created_by,
    )


def encode_cursor(row: Tenant | OrderRecord) -> str:
    """An opaque position in a list ordered by (created_at, id)."""
    return position_cursor(row.created_at, row.id)


def position_cursor(at: datetime, row_id: uuid.UUID) -> str:
    """An opaque position in a list ordered by a timestamp and then the id."""
    raw = f"{at.isoformat()}|{row_id}".encode()
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
    guards = [authorize]  # noqa: RUF012 - every handler declares opt={"access": ...} (core/permissions.py)

    @post(
        "/", summary="Create a tenant (admin)", responses=problem_responses(401, 403, 409), opt={"access": Admin.ONLY}
    )
    async def create_tenant(
        self, principal: NamedDependency[Principal], db: NamedDependency[Database], data: JSONBody[TenantIn]
    ) -> TenantOut:
        async with db.tx():
            tenant = await TenantRepository(db).create(name=data.name, external_id=data.external_id)
            await AuditLog(db).record(tenant.id, actor_of(principal), "tenant.created", tenant.name)
        return tenant_out(tenant)

    @get(
        "/",
        summary="List tenants (a tenant key sees only its own)",
        responses=problem_responses(401, 403),
        opt={"access": Scope.TENANT_READ},
    )
    async def list_tenants(
        self,
        principal: NamedDependency[Principal],
        db: NamedDependency[Database],
        cursor: Annotated[str | None, QueryParameter(max_length=200)] = None,
        limit: Annotated[int, QueryParameter(ge=1, le=500)] = 100,
    ) -> TenantPage:
        only = only_tenant(principal)
        after = decode_cursor(cursor) if cursor else None
        found = await TenantRepository(db).list_tenants(after=after, limit=limit + 1, only=only)
        page = found[:limit]
        next_cursor = encode_cursor(page[-1]) if len(found) > limit else None
        return TenantPage(items=[tenant_out(t) for t in page], next_cursor=next_cursor)

    @get(
        "/{tenant_id:uuid}",
        summary="One tenant",
        responses=problem_responses(401, 403, 404),
        opt={"access": Scope.TENANT_READ},
    )
    async def get_tenant(self, db: NamedDependency[Database], tenant_id: FromPath[uuid.UUID]) -> TenantOut:
        return tenant_out(await TenantRepository(db).require(tenant_id))

    @patch(
        "/{tenant_id:uuid}",
        summary="Rename a tenant or change its external id (admin)",
        responses=problem_responses(401, 403, 404, 409),
        opt={"access": Admin.ONLY},
    )
    async def update_tenant(
        self,
        principal: NamedDependency[Principal],
        db: NamedDependency[Database],
        tenant_id: FromPath[uuid.UUID],
        data: JSONBody[TenantPatch],
    ) -> TenantOut:
        async with db.tx():
            tenant = await TenantRepository(db).update(tenant_id, name=data.name, external_id=data.external_id)
            await AuditLog(db).record(
                tenant_id, actor_of(principal), "tenant.updated", msgspec.json.encode(data).decode()
            )
        return tenant_out(tenant)

    @delete(
        "/{tenant_id:uuid}",
        summary="Delete a tenant (admin; kept as deleted, never dropped)",
        responses=problem_responses(401, 403, 404, 409),
        opt={"access": Admin.ONLY},
    )
    async def delete_tenant(
        self,
        principal: NamedDependency[Principal],
        db: NamedDependency[Database],
        tenant_id: FromPath[uuid.UUID],
        force: Annotated[bool, QueryParameter()] = False,
    ) -> None:
        open_orders = await Orders(db).open_count(tenant_id)
        if open_orders and not force:
            raise Conflict(f"the tenant has {open_orders} open order(s); pass force=true to delete it anyway")
        async with db.tx():
            await TenantRepository(db).soft_delete(tenant_id)
            await AuditLog(db).record(tenant_id, actor_of(principal), "tenant.deleted", f"force={force}")

    @post(
        "/{tenant_id:uuid}/connect-link",
        status_code=200,
        summary="A Kombo Connect link for this tenant",
        responses=problem_responses(401, 403, 404, 422, 502, 503),
        opt={"access": Scope.INTEGRATION_MANAGE},
    )
    async def connect_link(
        self,
        db: NamedDependency[Database],
        kombo: NamedDependency[KomboApi],
        tenant_id: FromPath[uuid.UUID],
        data: JSONBody[ConnectLinkIn],
    ) -> LinkOut:
        tenant = await TenantRepository(db).require(tenant_id)
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
        summary="Bind the integration a Kombo Connect token names (a tenant key: only one connected for its tenant)",
        responses=problem_responses(401, 403, 404, 409, 422, 502, 503),
        opt={"access": Scope.INTEGRATION_MANAGE},
    )
    async def exchange(
        self,
        principal: NamedDependency[Principal],
        db: NamedDependency[Database],
        kombo: NamedDependency[KomboApi],
        tenant_id: FromPath[uuid.UUID],
        data: JSONBody[ExchangeIn],
    ) -> TenantOut:
        binding = IntegrationBinding(db, kombo, wall_clock_ms)
        owner_only = only_tenant(principal) is not None
        return tenant_out(
            await binding.exchange(tenant_id, data.token, actor=actor_of(principal), owner_only=owner_only)
        )

    @put(
        "/{tenant_id:uuid}/integration",
        summary="Bind an existing integration (a tenant key: only one connected for its tenant)",
        responses=problem_responses(401, 403, 404, 409, 422, 502, 503),
        opt={"access": Scope.INTEGRATION_MANAGE},
    )
    async def bind(
        self,
        principal: NamedDependency[Principal],
        db: NamedDependency[Database],
        kombo: NamedDependency[KomboApi],
        tenant_id: FromPath[uuid.UUID],
        data: JSONBody[BindIn],
    ) -> TenantOut:
        binding = IntegrationBinding(db, kombo, wall_clock_ms)
        owner_only = only_tenant(principal) is not None
        tenant = await binding.bind(tenant_id, data.integration_id, actor=actor_of(principal), owner_only=owner_only)
        return tenant_out(tenant)

    @post(
        "/{tenant_id:uuid}/relink-link",
        status_code=200,
        summary="A link that repairs the integration's credentials",
        responses=problem_responses(401, 403, 404, 409, 422, 502, 503),
        opt={"access": Scope.INTEGRATION_MANAGE},
    )
    async def relink(
        self,
        principal: NamedDependency[Principal],
        db: NamedDependency[Database],
        kombo: NamedDependency[KomboApi],
        tenant_id: FromPath[uuid.UUID],
    ) -> LinkOut:
        tenant = await TenantRepository(db).require(tenant_id)
        if tenant.integration_id is None:
            raise Conflict("the tenant has no integration to relink; create a connect link instead")
        link = await kombo.relink(tenant.integration_id)
        async with db.tx():
            await AuditLog(db).record(
                tenant_id, actor_of(principal), "integration.relink_requested", tenant.integration_id
            )
        return LinkOut(link=link)

    @post(
        "/{tenant_id:uuid}/api-keys",
        summary="Create an API key (shown once). Without scopes it gets the default; a key grants only scopes it holds",
        responses=problem_responses(401, 403, 404),
        opt={"access": Scope.KEYS_MANAGE},
    )
    async def create_api_key(
        self,
        principal: NamedDependency[Principal],
        db: NamedDependency[Database],
        tenant_id: FromPath[uuid.UUID],
        data: JSONBody[ApiKeyIn],
    ) -> ApiKeyCreated:
        scopes = frozenset(data.scopes) if data.scopes is not None else DEFAULT_SCOPES
        minted_by = principal.key_id if isinstance(principal, TenantKey) else None
        if isinstance(principal, TenantKey) and not scopes <= principal.scopes:
            missing = ", ".join(sorted(scopes - principal.scopes))
            raise Forbidden(f"an API key can only grant scopes it holds itself; it lacks {missing}")
        async with db.tx():
            key, plaintext = await TenantRepository(db).create_api_key(
                tenant_id, data.name, scopes, created_by=minted_by
            )
            await AuditLog(db).record(
                tenant_id, actor_of(principal), "api_key.created", f"{key.id} {key.name!r} [{encode_scopes(scopes)}]"
            )
        return ApiKeyCreated(**msgspec.structs.asdict(key_out(key)), key=plaintext)

    @get(
        "/{tenant_id:uuid}/api-keys",
        summary="List API keys (never their values)",
        responses=problem_responses(401, 403, 404),
        opt={"access": Scope.KEYS_MANAGE},
    )
    async def list_api_keys(self, db: NamedDependency[Database], tenant_id: FromPath[uuid.UUID]) -> list[ApiKeyOut]:
        repo = TenantRepository(db)
        await repo.require(tenant_id)
        return [key_out(k) for k in await repo.api_keys(tenant_id)]

    @delete(
        "/{tenant_id:uuid}/api-keys/{key_id:uuid}",
        summary="Revoke an API key and every key it created",
        responses=problem_responses(401, 403, 404),
        opt={"access": Scope.KEYS_MANAGE},
    )
    async def revoke_api_key(
        self,
        principal: NamedDependency[Principal],
        db: NamedDependency[Database],
        tenant_id: FromPath[uuid.UUID],
        key_id: FromPath[uuid.UUID],
    ) -> None:
        async with db.tx():
            revoked = await TenantRepository(db).revoke_api_key(tenant_id, key_id)
            if not revoked:
                raise NotFound(f"no live API key {key_id}")
            await AuditLog(db).record(
                tenant_id, actor_of(principal), "api_key.revoked", " ".join(str(k) for k in revoked)
            )

    @put(
        "/{tenant_id:uuid}/secrets/{name:str}",
        status_code=204,
        summary="Store a secret (write-only)",
        responses=problem_responses(401, 403, 404),
        opt={"access": Scope.SECRETS_WRITE},
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
        await TenantRepository(db).require(tenant_id)
        async with db.tx():
            await Vault(db, settings.secret_keys).put(tenant_id, name, data.value)
            await AuditLog(db).record(tenant_id, actor_of(principal), "secret.set", name)

    @get(
        "/{tenant_id:uuid}/secrets",
        summary="Names of the stored secrets (values are never returned)",
        responses=problem_responses(401, 403, 404),
        opt={"access": Scope.TENANT_READ},
    )
    async def secret_names(
        self, db: NamedDependency[Database], settings: NamedDependency[Settings], tenant_id: FromPath[uuid.UUID]
    ) -> SecretNames:
        await TenantRepository(db).require(tenant_id)
        return SecretNames(names=await Vault(db, settings.secret_keys).names(tenant_id))

    @delete(
        "/{tenant_id:uuid}/secrets/{name:str}",
        summary="Delete a secret",
        responses=problem_responses(401, 403, 404),
        opt={"access": Scope.SECRETS_WRITE},
    )
    async def delete_secret(
        self,
        principal: NamedDependency[Principal],
        db: NamedDependency[Database],
        settings: NamedDependency[Settings],
        tenant_id: FromPath[uuid.UUID],
        name: FromPath[SecretName],
    ) -> None:
        await TenantRepository(db).require(tenant_id)
        async with db.tx():
            if not await Vault(db, settings.secret_keys).delete(tenant_id, name):
                raise NotFound(f"no secret {name!r}")
            await AuditLog(db).record(tenant_id, actor_of(principal), "secret.deleted", name)

    @put(
        "/{tenant_id:uuid}/packages",
        summary="Set the tenant's catalog; it is pushed to Kombo in the background",
        responses=problem_responses(401, 403, 404, 409, 422),
        opt={"access": Scope.CATALOG_WRITE},
    )
    async def set_packages(
        self,
        principal: NamedDependency[Principal],
        db: NamedDependency[Database],
        settings: NamedDependency[Settings],
        tenant_id: FromPath[uuid.UUID],
        data: JSONBody[PackagesIn],
    ) -> CatalogView:
        await TenantRepository(db).require(tenant_id)
        catalogs = Catalogs(db, max_deletion_share=settings.catalog_max_deletion_share)
        async with db.tx():
            view = await catalogs.set_desired(
                tenant_id, data.packages, confirm_deletions=data.confirm_deletions, now_ms=wall_clock_ms()
            )
            await AuditLog(db).record(tenant_id, actor_of(principal), "catalog.set", f"{len(data.packages)} package(s)")
        return view

    @get(
        "/{tenant_id:uuid}/packages",
        summary="The catalog, its diff against Kombo and the sync state",
        responses=problem_responses(401, 403, 404),
        opt={"access": Scope.TENANT_READ},
    )
    async def get_packages(
        self, db: NamedDependency[Database], settings: NamedDependency[Settings], tenant_id: FromPath[uuid.UUID]
    ) -> CatalogView:
        await TenantRepository(db).require(tenant_id)
        return await Catalogs(db, max_deletion_share=settings.catalog_max_deletion_share).view(tenant_id)

    @get(
        "/{tenant_id:uuid}/events",
        summary="The tenant's event log: Kombo's events and what operators and API keys changed, newest first",
        responses=problem_responses(401, 403, 404),
        opt={"access": Scope.TENANT_READ},
    )
    async def events(
        self,
        db: NamedDependency[Database],
        tenant_id: FromPath[uuid.UUID],
        limit: Annotated[int, QueryParameter(ge=1, le=500)] = 100,
    ) -> list[TenantEvent]:
        repo = TenantRepository(db)
        await repo.require(tenant_id)
        kombo_events = [TenantEvent(**{**row, "actor": KOMBO}) for row in await repo.events(tenant_id, limit=limit)]
        changes = [
            TenantEvent(event_id=str(e.id), type=e.action, received_at=e.at, note=e.detail, actor=e.actor)
            for e in await AuditLog(db).of_tenant(tenant_id, limit=limit)
        ]
        return sorted(kombo_events + changes, key=lambda e: e.received_at, reverse=True)[:limit]

    @get(
        "/{tenant_id:uuid}/routes",
        summary="The tenant's adapter routing overrides",
        responses=problem_responses(401, 403, 404),
        opt={"access": Scope.TENANT_READ},
    )
    async def get_routes(self, db: NamedDependency[Database], tenant_id: FromPath[uuid.UUID]) -> RoutesOut:
        repo = TenantRepository(db)
        await repo.require(tenant_id)
        return RoutesOut(routes=await repo.routes(tenant_id))

    @put(
        "/{tenant_id:uuid}/routes",
        summary="Send this tenant's package types to other adapters (admin)",
        responses=problem_responses(401, 403, 404, 422),
        opt={"access": Admin.ONLY},
    )
    async def set_routes(
        self,
        *,
        principal: NamedDependency[Principal],
        db: NamedDependency[Database],
        adapters: NamedDependency[Adapters],
        adapter_runtime: NamedDependency[AdapterRuntime],
        tenant_id: FromPath[uuid.UUID],
        data: JSONBody[RoutesIn],
    ) -> RoutesOut:
        errors = [
            FieldError(path=f"$.routes.{key}", message=f"not a route key; use one of {', '.join(sorted(ROUTE_KEYS))}")
            for key in data.routes
            if key not in ROUTE_KEYS
        ] + [
            FieldError(path=f"$.routes.{key}", message=f"no adapter named {name!r} is loaded")
            for key, name in data.routes.items()
            if name not in adapters.loaded
        ]
        if not errors:  # what the adapters these routes send the tenant's catalog to still need
            unmet = await adapter_runtime.misconfiguration(tenant_id, data.routes, only=set(data.routes.values()))
            errors = [FieldError(path="$.routes", message=problem) for problem in unmet]
        if errors:
            raise ValidationFailed(errors)
        async with db.tx():
            routes = await TenantRepository(db).set_routes(tenant_id, data.routes)
            await AuditLog(db).record(
                tenant_id, actor_of(principal), "routes.set", msgspec.json.encode(routes).decode()
            )
        return RoutesOut(routes=routes)
