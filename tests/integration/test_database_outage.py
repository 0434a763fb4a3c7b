"""PostgreSQL unreachable mid-flight: an order webhook is answered 503 (so Kombo does not reject the order)
and nothing is half-written; once the database is back the redelivery is stored, once."""

from __future__ import annotations

import json
import time
import uuid
from urllib.parse import urlsplit, urlunsplit

import msgspec
import pytest
from litestar.testing import AsyncTestClient

from agtest import FIXTURES, only_postgres
from agtest.tcp_proxy import PluggableProxy
from api.app import create_app
from core import candidate_links
from core.catalog import TenantPackage
from core.kombo import PackageType, signature
from core.settings import DatabaseSettings, Settings
from storage.database import Database
from tenants.catalogs import Catalogs
from tenants.repository import TenantRepository

pytestmark = [pytest.mark.anyio, only_postgres]


async def test_an_order_webhook_during_an_outage_is_503_and_lands_once_afterwards(
    db: Database, test_settings: Settings
) -> None:
    tenant = await TenantRepository(db).create(name="Acme", external_id=None)
    await TenantRepository(db).bind_integration(tenant.id, "greenhouse:Fb3Gh6Jk9Mn2Pq5Rs8Tv4Wx7")
    package = TenantPackage(id="acme-java-senior-v2", type=PackageType.SKILLS_TEST, name="Java", description="")
    await Catalogs(db, max_deletion_share=0.5).set_desired(tenant.id, [package], confirm_deletions=False, now_ms=0)

    direct = urlsplit(test_settings.database.url)
    proxy = PluggableProxy(direct.hostname or "127.0.0.1", direct.port or 5432)
    port = proxy.start()
    via_proxy = urlunsplit(direct._replace(netloc=f"{direct.username}@127.0.0.1:{port}"))
    settings = msgspec.structs.replace(test_settings, database=DatabaseSettings(url=via_proxy), embedded_worker="off")
    body = (FIXTURES / "kombo" / "webhook_assessment_order_received.json").read_bytes()
    headers = {
        "content-type": "application/json",
        "x-kombo-signature": signature.sign(test_settings.kombo.webhook_secrets[0], body),
    }
    try:
        async with AsyncTestClient(create_app(settings)) as client:
            assert (await client.get("/ready")).status_code == 200
            proxy.pull()
            during = await client.post("/kombo/webhooks", content=body, headers=headers)
            ready_during = await client.get("/ready")
            proxy.plug()
            after = await client.post("/kombo/webhooks", content=body, headers=headers)
            again = await client.post("/kombo/webhooks", content=body, headers=headers)
    finally:
        proxy.stop()
    assert during.status_code == 503
    assert during.headers["content-type"] == "application/problem+json"
    assert during.headers["retry-after"]
    assert ready_during.status_code == 503
    assert (after.status_code, after.json()) == (200, {"received": True})
    assert (again.status_code, again.json()) == (200, {"received": True})
    orders = await db.fetch("SELECT kombo_order_id, tenant_id FROM assessment_order")
    assert [(o["kombo_order_id"], uuid.UUID(str(o["tenant_id"]))) for o in orders] == [
        (json.loads(body)["data"]["id"], tenant.id)
    ]
    jobs = await db.fetch("SELECT kind FROM outbox_job WHERE kind = 'order.start'")
    assert len(jobs) == 1


async def test_a_candidate_link_during_an_outage_is_a_page_to_try_again(db: Database, test_settings: Settings) -> None:
    del db  # migrated: the link's order is looked up, and the database is what fails
    direct = urlsplit(test_settings.database.url)
    proxy = PluggableProxy(direct.hostname or "127.0.0.1", direct.port or 5432)
    port = proxy.start()
    via_proxy = urlunsplit(direct._replace(netloc=f"{direct.username}@127.0.0.1:{port}"))
    settings = msgspec.structs.replace(test_settings, database=DatabaseSettings(url=via_proxy), embedded_worker="off")
    claims = candidate_links.LinkClaims(order_id=uuid.uuid4(), purpose="launch", expires_at_s=int(time.time()) + 600)
    link = f"/c/{candidate_links.mint(settings.secret_keys[0], claims)}"
    try:
        async with AsyncTestClient(create_app(settings)) as client:
            assert (await client.get("/ready")).status_code == 200
            proxy.pull()
            opened, used = await client.get(link), await client.post(link)
            proxy.plug()
    finally:
        proxy.stop()
    for answer in (opened, used):  # the app's database error is problem+json elsewhere; a candidate gets a page
        assert answer.status_code == 503
        assert answer.headers["content-type"].startswith("text/html")
        assert "try again in a few minutes" in answer.text
