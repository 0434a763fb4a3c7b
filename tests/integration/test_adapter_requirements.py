"""An adapter's requirements (a tenant secret, a setting) are checked where they are set, at start and when an
order arrives, so a candidate never meets a half-configured adapter (a "Start now" that fails)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from litestar.testing import AsyncTestClient

from adapters.http import tls_context
from adapters.http_exchange import AiohttpExchange
from adapters.kombo_client import KomboClient
from agtest.stack import ADMIN, Stack, ports, running, stack_settings
from api.app import create_app
from api.composition import open_gateway
from core.settings import Settings
from storage.database import Database

pytestmark = pytest.mark.anyio
__all__ = ["ports"]

PLUGINS = """
[routes]
default = "accept"
SKILLS_TEST = "assessment"

[adapters.assessment]
launch_url_template = "https://tests.vendor.example/start?order={order_id}&expires={expires}&signature={signature}"
"""
SECRET = {"value": "launch-secret-of-32-characters!!"}


@pytest.fixture
def settings(test_settings: Settings, ports: tuple[int, int], tmp_path: Path) -> Settings:
    plugins = tmp_path / "plugins.toml"
    plugins.write_text(PLUGINS)
    return stack_settings(test_settings, *ports, plugins_file=str(plugins))


@pytest.fixture
async def stack(db: Database, settings: Settings, ports: tuple[int, int]) -> AsyncIterator[Stack]:
    del db
    with running(settings, ports[1]) as (gateway_url, sandbox_url):
        async with httpx.AsyncClient(timeout=30) as http:
            yield Stack(gateway=gateway_url, sandbox=sandbox_url, settings=settings, http=http)


async def test_an_order_waits_until_the_tenant_has_the_secret_its_adapter_needs(stack: Stack, db: Database) -> None:
    tenant, integration = await stack.tenant_with_integration()
    placed = await stack.place(integration)  # SKILLS_TEST -> assessment, but no launch_signing_secret yet
    assert await stack.gateway_orders(tenant) == []  # deferred: nothing a candidate could meet
    deliveries = (await stack.http.get(f"{stack.sandbox}/_sandbox/state")).json()["deliveries"]
    answered = next(d for d in deliveries if d["order_id"] == placed["id"])
    assert answered["status"] == 503, answered
    ready = (await stack.http.get(f"{stack.gateway}/ready")).json()
    assert ready["status"] == "ready"  # one tenant's missing secret is not the process's fault
    secret = await stack.http.put(
        f"{stack.gateway}/v1/tenants/{tenant}/secrets/launch_signing_secret", json=SECRET, headers=ADMIN
    )
    assert secret.status_code == 204
    # Kombo retries the webhook; reconciliation stands in for that here, as it would for a webhook given up on.
    async with AiohttpExchange(tls=tls_context()) as http:
        kombo = KomboClient(http, base_url=stack.settings.kombo.api_url, api_key=stack.settings.kombo.api_key)
        async with open_gateway(stack.settings, db=db, kombo=kombo) as gateway:
            assert await gateway.reconciliation.reconcile(uuid.UUID(tenant)) == 1
    [order] = await stack.gateway_orders(tenant)
    assert (order["kombo_order_id"], order["status"], order["adapter"]) == (placed["id"], "accepted", "assessment")


async def test_routes_and_settings_that_leave_a_requirement_unmet_are_refused(stack: Stack) -> None:
    tenant, _ = await stack.tenant_with_integration()
    base = f"{stack.gateway}/v1/tenants/{tenant}"
    routed = await stack.http.put(f"{base}/routes", json={"routes": {"VIDEO_INTERVIEW": "forward"}}, headers=ADMIN)
    assert routed.status_code == 422, routed.text
    messages = [e["message"] for e in routed.json()["errors"]]
    assert any("forward_signing_secret" in m for m in messages), messages
    assert any("'url'" in m for m in messages), messages
    settings = await stack.http.put(
        f"{base}/adapters/background_check/settings", json={"retention_days": 30}, headers=ADMIN
    )
    assert settings.status_code == 422
    assert settings.json()["errors"][0]["path"] == "$.forward_url"
    cleared = await stack.http.put(f"{base}/adapters/background_check/settings", json={}, headers=ADMIN)
    assert cleared.status_code == 200  # {} removes the tenant's overrides: always possible
    fixed = await stack.http.put(
        f"{base}/adapters/forward/settings", json={"url": "https://platform.vendor.example/hook"}, headers=ADMIN
    )
    assert fixed.status_code == 200, fixed.text
    await stack.http.put(f"{base}/secrets/forward_signing_secret", json=SECRET, headers=ADMIN)
    again = await stack.http.put(f"{base}/routes", json={"routes": {"VIDEO_INTERVIEW": "forward"}}, headers=ADMIN)
    assert again.status_code == 200, again.text


async def test_misconfigured_tenants_are_named_at_start(db: Database, settings: Settings) -> None:
    async with AsyncTestClient(create_app(settings)) as client:
        tenant = (await client.post("/v1/tenants", json={"name": "T"}, headers=ADMIN)).json()["id"]
        packages = [{"id": "p", "type": "SKILLS_TEST", "name": "P", "description": ""}]
        assert (
            await client.put(f"/v1/tenants/{tenant}/packages", json={"packages": packages}, headers=ADMIN)
        ).is_success
    async with AsyncTestClient(create_app(settings)) as client:  # the next start checks every tenant
        ready = (await client.get("/ready")).json()
    assert ready["misconfigured_tenants"] == 1  # a count: the probe is public and names no tenant
    assert tenant not in str(ready)
    assert ready["adapters_checked_at"] is not None
    del db
