"""The ``forward`` adapter over real HTTP: orders delivered to the vendor's platform as signed Standard
Webhooks (retried through the outbox with one ``webhook-id``), the synchronous mode where the platform decides,
and a tenant's own platform URL set through the tenant's adapter settings."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from agtest.platform import PLATFORM_SECRET, Platform, platform
from agtest.stack import ADMIN, Clock, Stack, ports, run_jobs, running, stack_settings
from core.settings import Settings
from storage.database import Database

pytestmark = pytest.mark.anyio
__all__ = ["platform", "ports"]


async def forward_stack(
    test_settings: Settings, ports: tuple[int, int], tmp_path: Path, adapter_settings: str
) -> AsyncIterator[Stack]:
    plugins = tmp_path / "plugins.toml"
    plugins.write_text(f'[routes]\ndefault = "forward"\n\n[adapters.forward]\n{adapter_settings}\n')
    # The platform runs on loopback, which the outbound policy refuses unless the operator allows it.
    settings = stack_settings(test_settings, *ports, plugins_file=str(plugins), outbound_allow=("127.0.0.1/32",))
    with running(settings, ports[1]) as (gateway_url, sandbox_url):
        async with httpx.AsyncClient(timeout=30) as http:
            yield Stack(gateway=gateway_url, sandbox=sandbox_url, settings=settings, http=http)


async def tenant_for(stack: Stack) -> tuple[str, str]:
    tenant, integration = await stack.tenant_with_integration()
    url = f"{stack.gateway}/v1/tenants/{tenant}/secrets/forward_signing_secret"
    assert (await stack.http.put(url, json={"value": PLATFORM_SECRET}, headers=ADMIN)).status_code == 204
    return tenant, integration


@pytest.fixture
async def async_stack(
    db: Database, test_settings: Settings, ports: tuple[int, int], tmp_path: Path, platform: Platform
) -> AsyncIterator[Stack]:
    del db
    async for stack in forward_stack(test_settings, ports, tmp_path, f'url = "{platform.url}"'):
        yield stack


@pytest.fixture
async def sync_stack(
    db: Database, test_settings: Settings, ports: tuple[int, int], tmp_path: Path, platform: Platform
) -> AsyncIterator[Stack]:
    del db
    async for stack in forward_stack(test_settings, ports, tmp_path, f'url = "{platform.url}"\nsync = true'):
        yield stack


async def test_orders_are_delivered_signed_and_retried_with_one_webhook_id(
    db: Database, async_stack: Stack, platform: Platform
) -> None:
    stack, clock = async_stack, Clock()
    _tenant, integration = await tenant_for(stack)
    platform.replies["order.received"] = (503, {"error": "maintenance"})
    await stack.place(integration)
    clock.catch_up()
    await run_jobs(db, stack.settings, clock)
    assert [status for _, _, status in platform.attempts] == [503]
    platform.replies.clear()
    clock.now += 3_600_000
    await run_jobs(db, stack.settings, clock)
    [event] = platform.wait_for(1)
    assert event["type"] == "order.received"
    assert event["order"]["candidate"]["email"] == "ada@example.org"
    job = (await db.fetch("SELECT attempts, state FROM outbox_job WHERE kind = 'order.start'"))[0]
    assert (job["attempts"], job["state"]) == (2, "done")
    [first, second] = platform.attempts
    assert first[1] == second[1] == f"order.{event['order']['id']}"  # one webhook-id: the platform can dedupe
    assert second[2] == 200
    assert platform.refused_signatures == 0


async def test_a_wrong_secret_is_refused_by_the_platform(db: Database, async_stack: Stack, platform: Platform) -> None:
    stack = async_stack
    tenant, integration = await tenant_for(stack)
    other = {"value": "whsec_" + "b3RoZXItc2VjcmV0LW90aGVyLXNlY3JldA=="}
    await stack.http.put(
        f"{stack.gateway}/v1/tenants/{tenant}/secrets/forward_signing_secret", json=other, headers=ADMIN
    )
    await stack.place(integration)
    await run_jobs(db, stack.settings)
    assert platform.refused_signatures == 1
    assert platform.deliveries == []
    [job] = await db.fetch("SELECT state, last_error FROM outbox_job WHERE kind = 'order.start'")
    assert job["state"] == "dead"  # a 401 is final: an operator fixes the secret and retries the job
    assert "401" in job["last_error"]


async def test_in_sync_mode_the_platform_decides_while_the_recruiter_waits(
    db: Database, sync_stack: Stack, platform: Platform
) -> None:
    stack = sync_stack
    tenant, integration = await tenant_for(stack)
    platform.replies["order.received"] = (200, {"decision": "reject", "message": "Seat limit reached for Acme."})
    refused = await stack.place(integration)
    platform.replies["order.received"] = (200, {"decision": "inline", "assessment_url": "https://p.example/t/1"})
    inline = await stack.place(integration, inline=True)
    platform.replies["order.received"] = (500, {})
    fallback = await stack.place(integration)
    orders = {o["kombo_order_id"]: o for o in await stack.gateway_orders(tenant)}
    assert (orders[refused["id"]]["status"], orders[refused["id"]]["rejection_message"]) == (
        "rejected",
        "Seat limit reached for Acme.",
    )
    assert orders[inline["id"]]["assessment_url"] == "https://p.example/t/1"
    assert orders[fallback["id"]]["status"] == "accepted"  # on_sync_failure = accept: start delivers again
    detail = await stack.http.get(
        f"{stack.gateway}/v1/tenants/{tenant}/orders/{orders[fallback['id']]['id']}", headers=ADMIN
    )
    assert [e["kind"] for e in detail.json()["timeline"]][:3] == ["received", "forward.sync_failed", "accepted"]
    sandbox_refused = (await stack.http.get(f"{stack.sandbox}/_sandbox/orders/{refused['id']}")).json()
    assert sandbox_refused["status"] == "REJECTED"


async def test_a_tenant_sets_its_own_platform_url(
    db: Database, test_settings: Settings, ports: tuple[int, int], tmp_path: Path, platform: Platform
) -> None:
    async for stack in forward_stack(test_settings, ports, tmp_path, ""):  # no global url
        tenant, integration = await tenant_for(stack)
        settings_url = f"{stack.gateway}/v1/tenants/{tenant}/adapters/forward/settings"
        bad = await stack.http.put(settings_url, json={"url": 5}, headers=ADMIN)
        assert bad.status_code == 422
        assert bad.json()["errors"][0]["path"] == "$.url"
        unknown = await stack.http.put(settings_url, json={"colour": "red"}, headers=ADMIN)
        assert unknown.status_code == 422
        assert "colour" in unknown.json()["errors"][0]["message"]
        good = await stack.http.put(settings_url, json={"url": platform.url}, headers=ADMIN)
        assert good.json() == {"adapters": {"forward": {"url": platform.url}}}
        await stack.place(integration)
        await run_jobs(db, stack.settings)
        [event] = platform.wait_for(1)
        assert event["order"]["tenant_id"] == tenant
