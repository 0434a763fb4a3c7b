"""Order intake end to end over real HTTP: the sandbox places orders, the gateway answers and stores them."""

from __future__ import annotations

import httpx
import pytest

from agtest.stack import ADMIN, Stack, ports, run_jobs, running, stack, stack_settings
from core.settings import Settings
from storage.database import Database

pytestmark = pytest.mark.anyio
__all__ = ["ports", "stack"]


async def timeline_kinds(stack: Stack, tenant: str, order_id: str) -> list[str]:
    detail = (await stack.http.get(f"{stack.gateway}/v1/tenants/{tenant}/orders/{order_id}", headers=ADMIN)).json()
    return [entry["kind"] for entry in detail["timeline"]]


async def test_an_order_reaches_its_tenant_once_and_its_adapter_starts(stack: Stack, db: Database) -> None:
    tenant, integration = await stack.tenant_with_integration()
    placed = await stack.place(integration)
    assert placed["status"] == "OPEN"
    assert placed["webhook_outcome"] == "accepted"
    [order] = await stack.gateway_orders(tenant)
    assert (order["kombo_order_id"], order["status"], order["adapter"]) == (placed["id"], "accepted", "accept")
    assert order["package_type"] == "SKILLS_TEST"
    await run_jobs(db, stack.settings)
    await run_jobs(db, stack.settings)  # a second worker pass changes nothing
    kinds = await timeline_kinds(stack, tenant, order["id"])
    assert kinds == ["received", "accepted", "adapter.started", "start.done"]


async def test_an_unknown_package_comes_back_rejected_with_our_message(stack: Stack) -> None:
    _, integration = await stack.tenant_with_integration()
    placed = await stack.place(integration, "pkg-nobody-sells")
    assert placed["status"] == "REJECTED"
    assert "pkg-nobody-sells" in placed["rejection_message"]
    assert "not offered to Acme" in placed["rejection_message"]


async def test_an_inline_order_shows_our_assessment_url(stack: Stack) -> None:
    tenant, integration = await stack.tenant_with_integration()
    placed = await stack.place(integration, inline=True)
    [order] = await stack.gateway_orders(tenant)
    assert placed["assessment_url"] == f"{stack.settings.base_url}/assessments/{order['id']}"
    assert order["assessment_url"] == placed["assessment_url"]


async def test_an_order_held_for_an_unbound_integration_is_processed_once_bound(stack: Stack, db: Database) -> None:
    tenant, integration = await stack.tenant_with_integration(bind=False)
    placed = await stack.place(integration)
    assert placed["status"] == "OPEN"
    held = (await stack.http.get(f"{stack.gateway}/v1/orders/unrouted", headers=ADMIN)).json()["items"]
    assert [o["kombo_order_id"] for o in held] == [placed["id"]]
    bound = await stack.http.put(
        f"{stack.gateway}/v1/tenants/{tenant}/integration", json={"integration_id": integration}, headers=ADMIN
    )
    assert bound.status_code == 200
    await run_jobs(db, stack.settings)
    [order] = await stack.gateway_orders(tenant)
    assert order["status"] == "accepted"
    assert order["source"] == "held"
    assert "start.done" in await timeline_kinds(stack, tenant, order["id"])
    assert (await stack.http.get(f"{stack.gateway}/v1/orders/unrouted", headers=ADMIN)).json()["items"] == []


async def test_with_the_reject_setting_an_unbound_order_is_rejected(
    db: Database, test_settings: Settings, ports: tuple[int, int]
) -> None:
    settings = stack_settings(test_settings, *ports, unrouted_orders="reject")
    with running(settings, ports[1]) as (_gateway_url, sandbox_url):
        async with httpx.AsyncClient(timeout=30) as http:
            integration = (await http.post(f"{sandbox_url}/_sandbox/integrations", json={})).json()["id"]
            placed = (
                await http.post(
                    f"{sandbox_url}/_sandbox/integrations/{integration}/orders",
                    json={"package_id": "pkg-java", "candidate": {"email": "a@example.org"}},
                )
            ).json()
    assert placed["status"] == "REJECTED"
    assert "not connected to your ATS yet" in placed["rejection_message"]


async def test_lost_and_duplicated_webhooks_are_made_whole_by_one_reconciliation(stack: Stack, db: Database) -> None:
    tenant, integration = await stack.tenant_with_integration()
    for action in ("drop", "duplicate"):
        await stack.http.post(
            f"{stack.sandbox}/_sandbox/faults",
            json={
                "target": "webhook:assessment:order-received",
                "action": action,
                "probability": 0.3,
                "times": None,
            },
        )
    placed = [(await stack.place(integration))["id"] for _ in range(200)]
    deliveries = (await stack.http.get(f"{stack.sandbox}/_sandbox/state")).json()["deliveries"]
    dropped = sum(1 for d in deliveries if d["outcome"] == "dropped")
    assert 20 < dropped < 110  # the faults really happened
    before = {o["kombo_order_id"] for o in await stack.gateway_orders(tenant)}
    assert len(before) == 200 - dropped
    from core.clock import wall_clock_ms
    from jobs.outbox import Outbox
    from orders.reconciliation import RECONCILE_KIND, ReconcileTenant

    await Outbox(db).enqueue(RECONCILE_KIND, ReconcileTenant(tenant_id=tenant), now_ms=wall_clock_ms())
    await run_jobs(db, stack.settings)
    orders = await stack.gateway_orders(tenant)
    assert sorted(o["kombo_order_id"] for o in orders) == sorted(placed)  # every order, exactly once
    rows = await db.fetch("SELECT kind, COUNT(*) AS n FROM order_timeline WHERE kind = 'start.done' GROUP BY kind")
    assert int(rows[0]["n"]) == 200  # every adapter start ran exactly once
    sources = {o["source"] for o in orders}
    assert sources == {"webhook", "reconciliation"}
