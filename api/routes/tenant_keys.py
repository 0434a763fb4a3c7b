"""A tenant's API keys: mint one (shown once), list them (never their values), revoke one and its offspring."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

import msgspec
from litestar import delete, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody

from api.auth import Principal, TenantKey
from api.composition import Gateway
from api.problems import problem_responses
from api.routes.tenants import Name
from api.tenant_scope import TenantController
from core.permissions import Scope
from core.tenants import ApiKey, KeyHolder, Tenant


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


def key_out(key: ApiKey) -> ApiKeyOut:
    return ApiKeyOut(
        id=key.id,
        name=key.name,
        scopes=sorted(key.scopes),
        created_at=key.created_at,
        revoked_at=key.revoked_at,
        created_by=key.created_by,
    )


def minting_key(principal: Principal) -> KeyHolder | None:
    """The key asking for a new key (``None``: the admin token, which may grant any scope)."""
    if not isinstance(principal, TenantKey):
        return None
    return KeyHolder(key_id=principal.key_id, tenant_id=principal.tenant_id, scopes=principal.scopes)


class TenantKeysController(TenantController):
    tags = ["tenants"]  # noqa: RUF012 - Litestar's own attribute

    @post(
        "/{tenant_id:uuid}/api-keys",
        summary="Create an API key (shown once). Without scopes it gets the default; a key grants only scopes it holds",
        responses=problem_responses(401, 403, 404),
        opt={"access": Scope.KEYS_MANAGE},
    )
    async def create_api_key(
        self,
        principal: NamedDependency[Principal],
        actor: NamedDependency[str],
        gateway: NamedDependency[Gateway],
        tenant: NamedDependency[Tenant],
        data: JSONBody[ApiKeyIn],
    ) -> ApiKeyCreated:
        minted = await gateway.api_keys.mint(
            tenant.id,
            data.name,
            frozenset(data.scopes) if data.scopes is not None else None,
            actor=actor,
            minted_by=minting_key(principal),
        )
        return ApiKeyCreated(**msgspec.structs.asdict(key_out(minted.key)), key=minted.plaintext)

    @get(
        "/{tenant_id:uuid}/api-keys",
        summary="List API keys (never their values)",
        responses=problem_responses(401, 403, 404),
        opt={"access": Scope.KEYS_MANAGE},
    )
    async def list_api_keys(
        self, gateway: NamedDependency[Gateway], tenant: NamedDependency[Tenant]
    ) -> list[ApiKeyOut]:
        return [key_out(k) for k in await gateway.api_keys.of_tenant(tenant.id)]

    @delete(
        "/{tenant_id:uuid}/api-keys/{key_id:uuid}",
        summary="Revoke an API key and every key it created",
        responses=problem_responses(401, 403, 404),
        opt={"access": Scope.KEYS_MANAGE},
    )
    async def revoke_api_key(
        self,
        actor: NamedDependency[str],
        gateway: NamedDependency[Gateway],
        tenant: NamedDependency[Tenant],
        key_id: FromPath[uuid.UUID],
    ) -> None:
        await gateway.api_keys.revoke(tenant.id, key_id, actor=actor)
