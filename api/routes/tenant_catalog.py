"""A tenant's catalog: the packages it offers (picked from the vendor's, or its own), pushed to Kombo in the
background, and how far that push got."""

from __future__ import annotations

from typing import Annotated

import msgspec
from litestar import get, put
from litestar.di import NamedDependency
from litestar.params import JSONBody

from api.composition import Gateway
from api.problems import problem_responses
from api.tenant_scope import TenantController
from core.catalog import PackageIn
from core.permissions import Scope
from core.tenants import Tenant
from tenants.catalogs import CatalogView


class PackagesIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    #: Vendor package ids (with optional ``name``/``description`` overrides) or full packages of the tenant's own.
    packages: Annotated[list[PackageIn], msgspec.Meta(max_length=1000)]
    confirm_deletions: bool = False


class TenantCatalogController(TenantController):
    tags = ["tenants"]  # noqa: RUF012 - Litestar's own attribute

    @put(
        "/{tenant_id:uuid}/packages",
        summary="Set the tenant's catalog; it is pushed to Kombo in the background",
        responses=problem_responses(401, 403, 404, 409, 422),
        opt={"access": Scope.CATALOG_WRITE},
    )
    async def set_packages(
        self,
        actor: NamedDependency[str],
        gateway: NamedDependency[Gateway],
        tenant: NamedDependency[Tenant],
        data: JSONBody[PackagesIn],
    ) -> CatalogView:
        return await gateway.catalog_administration.set_for_tenant(
            tenant.id, data.packages, confirm_deletions=data.confirm_deletions, actor=actor
        )

    @get(
        "/{tenant_id:uuid}/packages",
        summary="The catalog, its diff against Kombo and the sync state",
        responses=problem_responses(401, 403, 404),
        opt={"access": Scope.TENANT_READ},
    )
    async def get_packages(self, gateway: NamedDependency[Gateway], tenant: NamedDependency[Tenant]) -> CatalogView:
        return await gateway.catalog_administration.of_tenant(tenant.id)
