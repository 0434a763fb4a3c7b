"""Setting catalogs through the API: the vendor's, and each tenant's selection from it. Each change is written
with its audit entry in one transaction; the push to Kombo follows in the background (``tenants/catalog_push.py``)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from core.catalog import CatalogPackage, PackageIn, tenant_entries
from storage.database import Database
from tenants.audit import AuditLog
from tenants.catalogs import CatalogPreview, Catalogs, CatalogView, VendorCatalogView


class CatalogAdministration:
    def __init__(self, db: Database, catalogs: Catalogs) -> None:
        self.db = db
        self.catalogs = catalogs
        self.audit = AuditLog(db)

    async def vendor(self) -> VendorCatalogView:
        return await self.catalogs.vendor()

    async def set_vendor(self, packages: list[CatalogPackage], *, actor: str) -> VendorCatalogView:
        """Replace the vendor's catalog; tenants offering from it are pushed again."""
        async with self.db.tx():
            view = await self.catalogs.set_vendor(packages, now_ms=self.catalogs.clock_ms())
            await self.audit.record(None, actor, "vendor_catalog.set", f"{len(packages)} package(s)")
        return view

    async def of_tenant(self, tenant_id: uuid.UUID) -> CatalogView:
        """The tenant's catalog, its diff against what Kombo accepted, and the sync state."""
        return await self.catalogs.view(tenant_id)

    async def set_for_tenant(
        self, tenant_id: uuid.UUID, raw: Sequence[PackageIn], *, confirm_deletions: bool, actor: str
    ) -> CatalogView:
        """Check every entry at once (one 422 names each bad one), then set the catalog and queue its push."""
        vendor_ids = {package.id for package in await self.catalogs.vendor_packages()}
        packages = tenant_entries(raw, vendor_ids)
        async with self.db.tx():
            view = await self.catalogs.set_desired(
                tenant_id, packages, confirm_deletions=confirm_deletions, now_ms=self.catalogs.clock_ms()
            )
            await self.audit.record(tenant_id, actor, "catalog.set", f"{len(packages)} package(s)")
        return view

    async def preview_for_tenant(self, tenant_id: uuid.UUID, raw: Sequence[PackageIn]) -> CatalogPreview:
        """What :meth:`set_for_tenant` would change (checked the same way; nothing is written)."""
        vendor_ids = {package.id for package in await self.catalogs.vendor_packages()}
        return await self.catalogs.preview(tenant_id, tenant_entries(raw, vendor_ids))
