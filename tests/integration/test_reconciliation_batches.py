"""Reconciliation at scale: the periodic job fans out batches of tenants, and a tenant whose Kombo call fails
is retried alone while the rest of its batch is reconciled (real sandbox, real HTTP, both engines)."""

from __future__ import annotations

import random
from typing import Any

import pytest

from adapters.http import tls_context
from adapters.http_exchange import AiohttpExchange
from adapters.kombo_client import KomboClient
from agtest.runtime import gateway_for
from agtest.stack import Stack, ports, stack
from core.clock import wall_clock_ms
from core.errors import AssessgateError, DatabaseUnavailable, KomboError
from jobs.outbox import Outbox
from jobs.worker import Worker
from orders.reconciliation import RECONCILE_ALL_KIND, RECONCILE_BATCH_KIND, RECONCILE_KIND, ReconcileAll
from storage.database import Database

pytestmark = pytest.mark.anyio
__all__ = ["ports", "stack"]


class FailingFor:
    """The real Kombo client, except that listing one integration's orders fails as a Kombo outage would."""

    def __init__(self, kombo: KomboClient, integration: str, error: AssessgateError) -> None:
        self.kombo = kombo
        self.integration = integration
        self.error = error

    def __getattr__(self, name: str) -> Any:
        return getattr(self.kombo, name)

    async def list_orders(self, integration_id: str, **kwargs: Any) -> Any:
        if integration_id == self.integration:
            raise self.error
        return await self.kombo.list_orders(integration_id, **kwargs)


async def jobs_of(db: Database) -> dict[str, list[str]]:
    rows = await db.fetch("SELECT kind, state FROM outbox_job WHERE kind LIKE 'orders.reconcile%' ORDER BY kind")
    found: dict[str, list[str]] = {}
    for row in rows:
        found.setdefault(str(row["kind"]), []).append(str(row["state"]))
    return found


@pytest.mark.parametrize(
    "error",
    [
        KomboError("Kombo is unavailable", http_status=503, retryable=True),
        # Not Kombo's: what ingesting that tenant's orders met (here raised where Kombo is asked; same path).
        DatabaseUnavailable("database unavailable: connection reset"),
    ],
    ids=["kombo", "other"],
)
async def test_batches_reconcile_every_tenant_and_a_failing_one_retries_alone(
    stack: Stack, db: Database, error: AssessgateError
) -> None:
    await stack.http.post(
        f"{stack.sandbox}/_sandbox/faults",
        json={"target": "webhook:assessment:order-received", "action": "drop", "probability": 1.0, "times": None},
    )
    tenants = [await stack.tenant_with_integration() for _ in range(5)]
    placed = {tenant: (await stack.place(integration))["id"] for tenant, integration in tenants}
    assert [await stack.gateway_orders(tenant) for tenant in placed] == [[]] * 5  # every webhook was dropped
    failing_tenant, failing_integration = tenants[2]
    settings = stack.settings
    async with AiohttpExchange(tls=tls_context()) as http:
        real = KomboClient(http, base_url=settings.kombo.api_url, api_key=settings.kombo.api_key)
        async with gateway_for(db, settings, kombo=FailingFor(real, failing_integration, error)) as gateway:
            gateway.reconciliation.batch_size = 2  # 5 tenants: three batches
            await Outbox(db).enqueue(RECONCILE_ALL_KIND, ReconcileAll(), now_ms=wall_clock_ms())
            await Worker(db, gateway.registry, rng=random.Random(1)).drain()
    kinds = await jobs_of(db)
    assert kinds[RECONCILE_BATCH_KIND] == ["done"] * 3
    assert kinds[RECONCILE_KIND] == ["queued"]  # the failing tenant's own job, retried later by itself
    for tenant, kombo_id in placed.items():
        stored = [o["kombo_order_id"] for o in await stack.gateway_orders(tenant)]
        assert stored == ([] if tenant == failing_tenant else [kombo_id])
    [retry] = await db.fetch(f"SELECT tenant_id, available_at_ms FROM outbox_job WHERE kind = '{RECONCILE_KIND}'")
    assert str(retry["tenant_id"]) == failing_tenant
    assert int(retry["available_at_ms"]) > wall_clock_ms()  # not at once: Kombo just failed for it
