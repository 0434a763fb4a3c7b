"""The demo's seed (``assessgate demo``): a tenant bound to a sandbox integration, offering a demo catalog.

It runs at every start and only adds what is missing: it never deletes or changes a package, a tenant or a
catalog it did not create, so a demo that was changed by hand survives a restart as it was left.
"""

from __future__ import annotations

from typing import Final

import msgspec

from core.catalog import CatalogPackage, TenantPackage
from core.kombo import PackageType
from core.tenants import Tenant
from sandbox.service import Sandbox
from tenants.audit import ADMIN
from tenants.catalogs import Catalogs
from tenants.db import Database
from tenants.integrations import record_binding
from tenants.repository import TenantRepository
from tenants.worker import wall_clock_ms

DEMO_EXTERNAL_ID: Final = "demo"
DEMO_PACKAGES: Final = (
    CatalogPackage(id="demo-java", type=PackageType.SKILLS_TEST, name="Java (Senior)", description="90 minutes"),
    CatalogPackage(id="demo-video", type=PackageType.VIDEO_INTERVIEW, name="Video interview", description="15 min"),
    CatalogPackage(id="demo-bg", type=PackageType.BACKGROUND_CHECK, name="Background check", description="EU"),
)


class DemoSeed(msgspec.Struct, frozen=True, kw_only=True):
    tenant: Tenant
    integration_id: str
    created: list[str]  # what this start added, for the banner


async def seed_demo(sandbox: Sandbox, db: Database, *, max_deletion_share: float) -> DemoSeed:
    """Add what the demo needs and is missing (see the module doc); returns the tenant and its integration."""
    created: list[str] = []
    repo = TenantRepository(db)
    tenant = next((t for t in await repo.list_tenants(limit=1000) if t.external_id == DEMO_EXTERNAL_ID), None)
    if tenant is None:
        tenant = await repo.create(name="Demo Customer Inc.", external_id=DEMO_EXTERNAL_ID)
        created.append("the demo tenant")
    integration = next((i for i in sandbox.state.integrations.values() if i.origin_id == str(tenant.id)), None)
    if integration is None:
        integration = await sandbox.create_integration(organization_name=tenant.name, origin_id=str(tenant.id))
        created.append("its sandbox integration")
    if tenant.integration_id is None:
        tenant = await record_binding(db, tenant.id, integration.id, "ACTIVE", actor=ADMIN, now_ms=wall_clock_ms())
    catalogs = Catalogs(db, max_deletion_share=max_deletion_share)
    vendor = (await catalogs.vendor()).packages
    missing = [p for p in DEMO_PACKAGES if p.id not in {v.id for v in vendor}]
    if missing:  # appended: the vendor's own packages stay as they are
        await catalogs.set_vendor([*vendor, *missing], now_ms=wall_clock_ms())
        created.append(f"{len(missing)} demo package(s)")
    if await catalogs.desired(tenant.id) is None:  # a catalog someone set stays as it is
        selection = [TenantPackage(id=p.id) for p in DEMO_PACKAGES]
        await catalogs.set_desired(tenant.id, selection, confirm_deletions=False, now_ms=wall_clock_ms())
        created.append("the demo tenant's catalog")
    return DemoSeed(tenant=tenant, integration_id=integration.id, created=created)
