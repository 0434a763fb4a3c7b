"""The order API as a vendor's platform uses it: the order whole, a feed of changes polled with a cursor the
platform keeps, either id, every status filterable, and a failed write-back shown as needing attention."""

from __future__ import annotations

import asyncio
import time
import uuid
from typing import Any

import pytest

from agtest.stack import ADMIN, Stack, ports, run_jobs, stack
from core.order_status import OrderStatus
from storage.database import Database

pytestmark = pytest.mark.anyio
__all__ = ["ports", "stack"]

RESULT = {"status": "COMPLETED", "result_url": "https://vendor.example/r/1", "completed_at": "2026-07-23T15:42:10.000Z"}


class Platform:
    """The vendor's platform: a tenant key with the default scopes, and the cursor it keeps between polls."""

    def __init__(self, stack: Stack, tenant: str, key: str) -> None:
        self.stack, self.tenant = stack, tenant
        self.headers = {"authorization": f"Bearer {key}"}
        self.cursor: str | None = None

    async def poll(self) -> list[dict[str, Any]]:
        params = {"cursor": self.cursor} if self.cursor else {}
        url = f"{self.stack.gateway}/v1/tenants/{self.tenant}/orders/changes"
        page = (await self.stack.http.get(url, params=params, headers=self.headers)).json()
        self.cursor = page["next_cursor"]
        items: list[dict[str, Any]] = page["items"]
        return items

    async def poll_until(self, count: int) -> list[dict[str, Any]]:
        """Poll as a platform would, every 100 ms, until ``count`` changes arrived (a change is listed once it is
        a second old); give up after 30 s."""
        seen: list[dict[str, Any]] = []
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            seen += await self.poll()
            if len(seen) >= count:
                return seen
            await asyncio.sleep(0.1)  # the platform's poll interval
        raise AssertionError(f"expected {count} changes, got {seen}")


async def test_a_platform_follows_its_orders_through_the_feed(stack: Stack, db: Database) -> None:
    tenant, integration = await stack.tenant_with_integration()
    created = await stack.http.post(f"{stack.gateway}/v1/tenants/{tenant}/api-keys", json={}, headers=ADMIN)
    platform = Platform(stack, tenant, created.json()["key"])
    assert await platform.poll() == []
    placed = await stack.place(
        integration,
        candidate={"email": "ada@example.org", "first_name": "Ada", "last_name": "Lovelace", "phone": "+44 20 1"},
    )
    [new] = await platform.poll_until(1)
    # The order whole, as Kombo sent it: the platform needs the candidate, the job and the application.
    assert new["kombo_order_id"] == placed["id"]
    assert new["status"] == "accepted"
    assert new["order"]["candidate"]["first_name"] == "Ada"
    assert new["order"]["candidate"]["last_name"] == "Lovelace"
    assert new["order"]["candidate"]["phone"] == "+44 20 1"
    assert {"job", "application"} <= set(new["order"])
    assert new["personal_data_erased_at"] is None
    assert await platform.poll() == []  # nothing new since

    # The platform answers with Kombo's id, the one its recruiter sees: both ids name the order.
    put = await stack.http.put(
        f"{stack.gateway}/v1/tenants/{tenant}/orders/{placed['id']}/result", json=RESULT, headers=platform.headers
    )
    assert put.status_code == 202, put.text
    await run_jobs(db, stack.settings)
    [changed] = await platform.poll_until(1)
    assert (changed["id"], changed["status"]) == (new["id"], "completed")
    by_kombo = await stack.http.get(
        f"{stack.gateway}/v1/tenants/{tenant}/orders/{placed['id']}", headers=platform.headers
    )
    by_ours = await stack.http.get(f"{stack.gateway}/v1/tenants/{tenant}/orders/{new['id']}", headers=platform.headers)
    assert by_kombo.json() == by_ours.json()
    unknown = await stack.http.get(f"{stack.gateway}/v1/tenants/{tenant}/orders/nope", headers=platform.headers)
    assert unknown.status_code == 404
    assert "Kombo's order id" in unknown.json()["detail"]


async def test_every_status_filters_and_a_dead_write_back_needs_attention(stack: Stack, db: Database) -> None:
    tenant, integration = await stack.tenant_with_integration()
    placed = [await stack.place(integration) for _ in range(2)]
    orders = {o["kombo_order_id"]: o["id"] for o in await stack.gateway_orders(tenant)}
    await stack.http.post(
        f"{stack.sandbox}/_sandbox/faults",
        json={"target": "PUT /assessment/orders/{id}/result", "status": 400, "code": "PLATFORM.INPUT_INVALID"},
    )
    failing = orders[placed[0]["id"]]
    put = await stack.http.put(
        f"{stack.gateway}/v1/tenants/{tenant}/orders/{failing}/result", json=RESULT, headers=ADMIN
    )
    assert put.status_code == 202
    await run_jobs(db, stack.settings)

    async def listed(status: str) -> list[str]:
        page = await stack.http.get(
            f"{stack.gateway}/v1/tenants/{tenant}/orders", params={"status": status}, headers=ADMIN
        )
        assert page.status_code == 200, (status, page.text)
        return [o["id"] for o in page.json()["items"]]

    assert await listed("needs_attention") == [failing]
    assert await listed("accepted") == [orders[placed[1]["id"]]]
    for status in OrderStatus:  # every status the API can return is a filter
        await listed(status.value)
    detail = (await stack.http.get(f"{stack.gateway}/v1/tenants/{tenant}/orders/{failing}", headers=ADMIN)).json()
    assert detail["status"] == "needs_attention"
    assert any(e["kind"] == "write_back.failed" for e in detail["timeline"])
    schema = (await stack.http.get(f"{stack.gateway}/schema/openapi.json")).json()
    listing = schema["paths"]["/v1/tenants/{tenant_id}/orders"]["get"]["parameters"]
    status_param = next(p for p in listing if p["name"] == "status")
    assert {"$ref": "#/components/schemas/OrderStatus"} in status_param["schema"]["oneOf"]
    assert set(schema["components"]["schemas"]["OrderStatus"]["enum"]) == {s.value for s in OrderStatus}

    # The cause is fixed, the operator retries the dead job: the order is completed.
    await stack.http.delete(f"{stack.sandbox}/_sandbox/faults")
    jobs = await stack.http.get(f"{stack.gateway}/v1/jobs", params={"state": "dead"}, headers=ADMIN)
    [job] = jobs.json()["items"]
    assert (await stack.http.post(f"{stack.gateway}/v1/jobs/{job['id']}/retry", headers=ADMIN)).status_code == 200
    await run_jobs(db, stack.settings)
    assert await listed("completed") == [failing]


async def test_an_order_is_found_only_under_its_own_live_tenant(stack: Stack, db: Database) -> None:
    """The order routes check the tenant in the order's own read (no ``tenant`` dependency): under another tenant,
    an unknown one or a deleted one, either id is a 404 naming only what was asked for, and a result is refused
    without a trace; the admin token passes every guard, so only that read stands in the way."""
    tenant, integration = await stack.tenant_with_integration()
    placed = await stack.place(integration)
    [order] = await stack.gateway_orders(tenant)
    other = (await stack.http.post(f"{stack.gateway}/v1/tenants", json={"name": "Other"}, headers=ADMIN)).json()["id"]
    unknown = str(uuid.uuid4())

    async def answer(method: str, under: str, ref: str) -> tuple[int, str]:
        url = f"{stack.gateway}/v1/tenants/{under}/orders/{ref}" + ("/result" if method == "PUT" else "")
        response = await stack.http.request(method, url, headers=ADMIN, json=RESULT if method == "PUT" else None)
        return response.status_code, response.json().get("detail", "")

    for method in ("GET", "PUT"):
        for ref in (order["id"], placed["id"]):
            assert (await answer(method, other, ref))[0] == 404
            assert await answer(method, unknown, ref) == (404, f"no tenant {unknown}")
    assert (await answer("GET", tenant, placed["id"]))[0] == 200
    assert await db.fetch("SELECT id FROM order_result") == []

    deleted = await stack.http.delete(f"{stack.gateway}/v1/tenants/{tenant}", params={"force": "true"}, headers=ADMIN)
    assert deleted.status_code == 204
    for method in ("GET", "PUT"):
        for ref in (order["id"], placed["id"]):
            assert await answer(method, tenant, ref) == (404, f"no tenant {tenant}")
    assert await db.fetch("SELECT id FROM order_result") == []
