"""The demo's seed survives restarts: it adds what is missing and never deletes or changes what it did not create."""

from __future__ import annotations

import pytest

from api.composition import open_gateway
from api.demo import DEMO_PACKAGES, DemoSeed, seed_demo
from core.catalog import CatalogPackage, TenantPackage
from core.kombo import PackageType
from core.settings import Settings
from sandbox.service import Sandbox
from sandbox.settings import SandboxSettings
from storage.database import Database
from tenants.catalogs import Catalogs

pytestmark = pytest.mark.anyio
OWN = CatalogPackage(id="vendor-own", type=PackageType.BEHAVIORAL, name="Culture fit", description="added by hand")


def sandbox() -> Sandbox:
    # Webhooks go to a closed port: the seed must not depend on them (the gateway does not listen yet at start).
    settings = SandboxSettings(
        api_key="k", webhook_url="http://127.0.0.1:9/kombo/webhooks", webhook_secret="s", public_url="http://x"
    )
    return Sandbox(settings)


async def seed(kombo: Sandbox, db: Database, settings: Settings) -> DemoSeed:
    """The seed as ``assessgate demo`` runs it, through a gateway over the test's database."""
    async with open_gateway(settings, db=db) as gateway:
        return await seed_demo(kombo, gateway)


async def test_the_seed_is_idempotent_and_keeps_what_others_added(db: Database, test_settings: Settings) -> None:
    kombo = sandbox()
    first = await seed(kombo, db, test_settings)
    assert first.created == [
        "the demo tenant",
        "its sandbox integration",
        "3 demo package(s)",
        "the demo tenant's catalog",
    ]
    assert first.tenant.integration_id == first.integration_id
    catalogs = Catalogs(db, max_deletion_share=0.5)
    # The vendor adds a package of its own and the demo tenant offers it, renamed.
    vendor = (await catalogs.vendor()).packages
    await catalogs.set_vendor([*vendor, OWN], now_ms=0)
    selection = [TenantPackage(id="demo-java"), TenantPackage(id=OWN.id, name="Culture (demo)")]
    await catalogs.set_desired(first.tenant.id, selection, confirm_deletions=True, now_ms=0)

    again = await seed(kombo, db, test_settings)  # a restart
    assert again.created == []
    assert (again.tenant.id, again.integration_id) == (first.tenant.id, first.integration_id)
    assert [p.id for p in (await catalogs.vendor()).packages] == [*(p.id for p in DEMO_PACKAGES), OWN.id]
    desired = await catalogs.desired(first.tenant.id)
    assert desired is not None
    assert [(p.id, p.name) for p in desired[1]] == [("demo-java", "Java (Senior)"), (OWN.id, "Culture (demo)")]


async def test_a_vendor_catalog_without_the_demo_packages_gets_them_added(
    db: Database, test_settings: Settings
) -> None:
    catalogs = Catalogs(db, max_deletion_share=0.5)
    await catalogs.set_vendor([OWN], now_ms=0)
    seeded = await seed(sandbox(), db, test_settings)
    assert "3 demo package(s)" in seeded.created
    assert [p.id for p in (await catalogs.vendor()).packages] == [OWN.id, *(p.id for p in DEMO_PACKAGES)]
