"""The vendor's package catalog, which tenants select from (``/v1/tenants/{id}/packages`` picks and overrides)."""

from __future__ import annotations

from typing import Annotated

import msgspec
from litestar import Controller, get, put
from litestar.di import NamedDependency, Provide
from litestar.params import JSONBody

from api.auth import SECURITY, Principal, actor_of, authorize, provide_principal
from api.problems import problem_responses
from core.catalog import CatalogPackage
from core.clock import wall_clock_ms
from core.permissions import Admin, Scope
from core.settings import Settings
from storage.database import Database
from tenants.audit import AuditLog
from tenants.catalogs import Catalogs, VendorCatalogView


class VendorPackagesIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    packages: Annotated[list[CatalogPackage], msgspec.Meta(max_length=1000)]


class VendorPackagesController(Controller):
    path = "/v1/packages"
    tags = ["packages"]  # noqa: RUF012 - Litestar's own attribute
    security = SECURITY
    dependencies = {"principal": Provide(provide_principal)}  # noqa: RUF012
    guards = [authorize]  # noqa: RUF012 - every handler declares opt={"access": ...} (core/permissions.py)

    @get(
        "/",
        summary="The vendor's package catalog",
        responses=problem_responses(401, 403),
        opt={"access": Scope.TENANT_READ},
    )
    async def get_vendor_packages(
        self, db: NamedDependency[Database], settings: NamedDependency[Settings]
    ) -> VendorCatalogView:
        return await Catalogs(db, max_deletion_share=settings.catalog_max_deletion_share).vendor()

    @put(
        "/",
        summary="Replace the vendor's catalog (admin); tenants offering from it are pushed again",
        responses=problem_responses(401, 403, 409, 422),
        opt={"access": Admin.ONLY},
    )
    async def set_vendor_packages(
        self,
        principal: NamedDependency[Principal],
        db: NamedDependency[Database],
        settings: NamedDependency[Settings],
        data: JSONBody[VendorPackagesIn],
    ) -> VendorCatalogView:
        catalogs = Catalogs(db, max_deletion_share=settings.catalog_max_deletion_share)
        async with db.tx():
            view = await catalogs.set_vendor(data.packages, now_ms=wall_clock_ms())
            await AuditLog(db).record(
                None, actor_of(principal), "vendor_catalog.set", f"{len(data.packages)} package(s)"
            )
        return view
