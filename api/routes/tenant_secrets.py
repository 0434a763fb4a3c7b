"""A tenant's secrets (what its adapters need, e.g. a signing secret): write-only, encrypted at rest."""

from __future__ import annotations

from typing import Annotated

import msgspec
from litestar import delete, get, put
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody

from api.composition import Gateway
from api.problems import problem_responses
from api.tenant_scope import TenantController
from core.permissions import Scope
from core.tenants import Tenant

SecretName = Annotated[str, msgspec.Meta(pattern=r"^[a-z0-9_.-]{1,100}$")]


class SecretIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    value: Annotated[str, msgspec.Meta(min_length=1, max_length=10_000)]


class SecretNames(msgspec.Struct, kw_only=True):
    names: list[str]


class TenantSecretsController(TenantController):
    tags = ["tenants"]  # noqa: RUF012 - Litestar's own attribute

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
        actor: NamedDependency[str],
        gateway: NamedDependency[Gateway],
        tenant: NamedDependency[Tenant],
        name: FromPath[SecretName],
        data: JSONBody[SecretIn],
    ) -> None:
        await gateway.administration.put_secret(tenant.id, name, data.value, actor=actor)

    @get(
        "/{tenant_id:uuid}/secrets",
        summary="Names of the stored secrets (values are never returned)",
        responses=problem_responses(401, 403, 404),
        opt={"access": Scope.TENANT_READ},
    )
    async def secret_names(self, gateway: NamedDependency[Gateway], tenant: NamedDependency[Tenant]) -> SecretNames:
        return SecretNames(names=await gateway.administration.secret_names(tenant.id))

    @delete(
        "/{tenant_id:uuid}/secrets/{name:str}",
        summary="Delete a secret",
        responses=problem_responses(401, 403, 404),
        opt={"access": Scope.SECRETS_WRITE},
    )
    async def delete_secret(
        self,
        actor: NamedDependency[str],
        gateway: NamedDependency[Gateway],
        tenant: NamedDependency[Tenant],
        name: FromPath[SecretName],
    ) -> None:
        await gateway.administration.delete_secret(tenant.id, name, actor=actor)
