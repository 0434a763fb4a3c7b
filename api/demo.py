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
from api.composition import Gateway
from core.catalog import CatalogPackage, TenantPackage
from core.kombo import PackageType
from core.permissions import DEFAULT_SCOPES
from core.settings import Settings
from core.tenants import Tenant
from sandbox.demo_platform import PATH, DemoPlatform
from sandbox.service import Sandbox
from tenants.audit import ADMIN

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


async def seed_demo(sandbox: Sandbox, gateway: Gateway) -> DemoSeed:
    """Add what the demo needs and is missing (see the module doc); returns the tenant and its integration."""
    created: list[str] = []
    provisioning = gateway.provisioning
    tenant, new = await provisioning.tenant(external_id=DEMO_EXTERNAL_ID, name="Demo Customer Inc.")
    if new:
        created.append("the demo tenant")
    integration = next((i for i in sandbox.state.integrations.values() if i.origin_id == str(tenant.id)), None)
    if integration is None:
        integration = await sandbox.create_integration(organization_name=tenant.name, origin_id=str(tenant.id))
        created.append("its sandbox integration")
    if tenant.integration_id is None:
        tenant = await gateway.binding.record(tenant.id, integration.id, "ACTIVE", actor=ADMIN)
    added_packages = await provisioning.vendor_packages(DEMO_PACKAGES)  # appended: the vendor's own stay
    if added_packages:
        created.append(f"{added_packages} demo package(s)")
    if await provisioning.catalog(tenant.id, [TenantPackage(id=p.id) for p in DEMO_PACKAGES]):
        created.append("the demo tenant's catalog")  # a catalog someone set stays as it is
    return DemoSeed(tenant=tenant, integration_id=integration.id, created=created)


async def equip_demo(sandbox: Sandbox, gateway: Gateway, tenant: Tenant) -> list[str]:
    """Route the demo tenant to the real adapters and give them what they need, unless someone set its routes,
    settings or secrets already; then start the demo platform with a fresh key. Returns what it added."""
    settings, provisioning = gateway.settings, gateway.provisioning
    secrets_now = {
        "launch_signing_secret": secrets.token_urlsafe(32),
        "forward_signing_secret": "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode(),
    }
    created = [f"the secret {name}" for name in await provisioning.secrets(tenant.id, secrets_now)]
    launch = f"{platform_url(settings)}/start?order={{order_id}}&expires={{expires}}&signature={{signature}}"
    wanted = {
        "assessment": {"launch_url_template": launch},
        "inline_assessment": {"launch_url_template": launch},
        "background_check": {"forward_url": f"{platform_url(settings)}/cases"},
    }
    created += [f"{adapter} settings" for adapter in await provisioning.adapter_settings(tenant.id, wanted)]
    if await provisioning.routes(tenant.id, DEMO_ROUTES):
        created.append("the demo routes")
    # Last start's platform key is revoked: this process holds a new one.
    api_key = await provisioning.fresh_key(tenant.id, PLATFORM_KEY_NAME, DEFAULT_SCOPES)
    sandbox.demo_platform = DemoPlatform(
        gateway_url=settings.base_url,
        tenant_id=str(tenant.id),
        api_key=api_key,
        launch_secret=await provisioning.secret(tenant.id, "launch_signing_secret") or "",
        forward_secret=await provisioning.secret(tenant.id, "forward_signing_secret") or "",
    )
    # What the seed changed, in the tenant's event log like any operator's change.
    await provisioning.record(tenant.id, ADMIN, "demo.seeded", created)
    return created
