"""The demo's seed (``assessgate demo``): a tenant bound to a sandbox integration, offering a demo catalog,
with its package types routed to the real adapters and a stand-in vendor platform in the sandbox.

It runs at every start and only adds what is missing: it never deletes or changes a package, a tenant, a
catalog, routes, settings or secrets it did not create, so a demo changed by hand survives a restart as it was
left. The demo tenant's SKILLS_TEST orders go to ``assessment`` (an invitation; its link lands on the demo
platform, which posts a result back), inline orders to ``inline_assessment``, BACKGROUND_CHECK orders to
``background_check`` (the hosted form; the case goes to the demo platform, which reports it).
"""

from __future__ import annotations

import base64
import secrets
from typing import Final

import msgspec

from api.bootstrap import SANDBOX_PATH
from core.catalog import CatalogPackage, TenantPackage
from core.clock import wall_clock_ms
from core.kombo import PackageType
from core.permissions import DEFAULT_SCOPES
from core.settings import Settings
from core.tenants import Tenant
from integrations.binding import record_binding
from sandbox.demo_platform import PATH, DemoPlatform
from sandbox.service import Sandbox
from storage.database import Database
from tenants.audit import ADMIN, AuditLog
from tenants.catalogs import Catalogs
from tenants.repository import TenantRepository
from tenants.vault import Vault

DEMO_EXTERNAL_ID: Final = "demo"
DEMO_ROUTES: Final = {
    "SKILLS_TEST": "assessment",
    "inline": "inline_assessment",
    "BACKGROUND_CHECK": "background_check",
}
#: The demo platform's API key is minted anew at each start (it lives in this process only) under this name.
PLATFORM_KEY_NAME: Final = "demo-platform"
DEMO_PACKAGES: Final = (
    CatalogPackage(id="demo-java", type=PackageType.SKILLS_TEST, name="Java (Senior)", description="90 minutes"),
    CatalogPackage(id="demo-video", type=PackageType.VIDEO_INTERVIEW, name="Video interview", description="15 min"),
    CatalogPackage(id="demo-bg", type=PackageType.BACKGROUND_CHECK, name="Background check", description="EU"),
)


class DemoSeed(msgspec.Struct, frozen=True, kw_only=True):
    tenant: Tenant
    integration_id: str
    created: list[str]  # what this start added, for the banner


def platform_url(settings: Settings) -> str:
    """Where the demo platform answers, for the launch links and the background-check hand-off."""
    return f"{settings.base_url}{SANDBOX_PATH}{PATH}"


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


async def equip_demo(sandbox: Sandbox, db: Database, settings: Settings, tenant: Tenant) -> list[str]:
    """Route the demo tenant to the real adapters and give them what they need, unless someone set its routes,
    settings or secrets already; then start the demo platform with a fresh key. Returns what it added."""
    created: list[str] = []
    repo = TenantRepository(db)
    vault = Vault(db, settings.secret_keys)
    stored = set(await vault.names(tenant.id))
    secrets_now = {
        "launch_signing_secret": secrets.token_urlsafe(32),
        "forward_signing_secret": "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode(),
    }
    for name, value in secrets_now.items():
        if name not in stored:
            await vault.put(tenant.id, name, value)
            created.append(f"the secret {name}")
    launch = f"{platform_url(settings)}/start?order={{order_id}}&expires={{expires}}&signature={{signature}}"
    wanted = {
        "assessment": {"launch_url_template": launch},
        "inline_assessment": {"launch_url_template": launch},
        "background_check": {"forward_url": f"{platform_url(settings)}/cases"},
    }
    configured = await repo.all_adapter_settings(tenant.id)
    for adapter, values in wanted.items():
        if adapter not in configured:
            await repo.set_adapter_settings(tenant.id, adapter, values)
            created.append(f"{adapter} settings")
    if not await repo.routes(tenant.id):
        await repo.set_routes(tenant.id, DEMO_ROUTES)
        created.append("the demo routes")
    for key in await repo.api_keys(tenant.id):  # last start's platform key: this process holds a new one
        if key.name == PLATFORM_KEY_NAME and key.revoked_at is None:
            await repo.revoke_api_key(tenant.id, key.id)
    _, api_key = await repo.create_api_key(tenant.id, PLATFORM_KEY_NAME, DEFAULT_SCOPES)
    sandbox.demo_platform = DemoPlatform(
        gateway_url=settings.base_url,
        tenant_id=str(tenant.id),
        api_key=api_key,
        launch_secret=await vault.get(tenant.id, "launch_signing_secret") or "",
        forward_secret=await vault.get(tenant.id, "forward_signing_secret") or "",
    )
    async with db.tx():  # what the seed changed, in the tenant's event log like any operator's change
        for change in created:
            await AuditLog(db).record(tenant.id, ADMIN, "demo.seeded", change)
    return created
