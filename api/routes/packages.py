"""The vendor's package catalog, which tenants select from (``/v1/tenants/{id}/packages`` picks and overrides)."""

from __future__ import annotations

from typing import Annotated

import msgspec
from litestar import Controller, get, put
from litestar.di import NamedDependency
from litestar.params import JSONBody

from api.auth import SECURITY, authorize
from api.composition import Gateway
from api.problems import problem_responses
from api.tenant_scope import TENANT_DEPENDENCIES
from core.catalog import PackageIn, vendor_packages
from core.permissions import Admin, Scope
from tenants.catalogs import VendorCatalogView


class VendorPackagesIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    packages: Annotated[list[PackageIn], msgspec.Meta(max_length=1000)]


class VendorPackagesController(Controller):
    path = "/v1/packages"
    tags = ["packages"]  # noqa: RUF012 - Litestar's own attribute
    security = SECURITY
    dependencies = TENANT_DEPENDENCIES
    guards = [authorize]  # noqa: RUF012 - every handler declares opt={"access": ...} (core/permissions.py)

    @get(
        "/",
        summary="The vendor's package catalog",
        responses=problem_responses(401, 403),
        opt={"access": Scope.TENANT_READ},
    )
    async def get_vendor_packages(self, gateway: NamedDependency[Gateway]) -> VendorCatalogView:
        return await gateway.catalog_administration.vendor()

    @put(
        "/",
        summary="Replace the vendor's catalog (admin); tenants offering from it are pushed again",
        responses=problem_responses(401, 403, 409, 422),
        opt={"access": Admin.ONLY},
    )
    async def set_vendor_packages(
        self,
        actor: NamedDependency[str],
        gateway: NamedDependency[Gateway],
        data: JSONBody[VendorPackagesIn],
    ) -> VendorCatalogView:
        return await gateway.catalog_administration.set_vendor(vendor_packages(data.packages), actor=actor)
