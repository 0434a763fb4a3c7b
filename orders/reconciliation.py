"""Reconciliation with Kombo's order list: webhooks are the fast path, not the source of truth.

Every ``ASSESSGATE_RECONCILE_INTERVAL_S`` a job fans out one ``orders.reconcile`` per bound tenant, which pages
through the tenant's OPEN orders at Kombo and takes any we never saw through the intake (``source`` =
``reconciliation``); ``assessgate orders reconcile`` runs the same code now.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import timedelta
from typing import Any, Final

import msgspec
import structlog

from core.clock import as_datetime
from core.errors import KomboError
from core.kombo import OrderReceivedData, format_timestamp
from core.kombo.ids import is_storable_id
from core.metrics import Counter
from core.ports import KomboApi
from jobs.kinds import JobContext, JobKind, PeriodicJob
from jobs.outbox import Outbox
from jobs.retry_policy import job_failure
from orders.intake import OrderIntake
from orders.store import Orders
from storage.database import Database
from tenants.repository import TenantRepository

log = structlog.get_logger()
RECONCILE_KIND: Final = "orders.reconcile"
RECONCILE_ALL_KIND: Final = "orders.reconcile_all"


class ReconcileTenant(msgspec.Struct, frozen=True):
    tenant_id: str


class ReconcileAll(msgspec.Struct, frozen=True):
    """Empty: every bound tenant."""


class ReconcileCounters:
    def __init__(self) -> None:
        self.found = Counter("assessgate_reconciled_orders_total", "Orders reconciliation found missing, by tenant.")


class Reconciliation:
    def __init__(
        self,
        db: Database,
        *,
        intake: OrderIntake,
        kombo: KomboApi,
        counters: ReconcileCounters,
        lookback_days: int,
        clock_ms: Callable[[], int],
    ) -> None:
        self.intake = intake
        self.kombo = kombo
        self.counters = counters
        self.lookback_days = lookback_days
        self.clock_ms = clock_ms
        self.orders = Orders(db)
        self.tenants = TenantRepository(db)
        self.outbox = Outbox(db)

    def kinds(self, *, every_ms: int) -> tuple[list[JobKind[Any]], list[PeriodicJob]]:
        kinds: list[JobKind[Any]] = [
            JobKind(RECONCILE_KIND, ReconcileTenant, self.reconcile_job),
            JobKind(RECONCILE_ALL_KIND, ReconcileAll, self.reconcile_all),
        ]
        return kinds, [PeriodicJob(kind=RECONCILE_ALL_KIND, every_ms=every_ms, payload=ReconcileAll())]

    async def bound_tenants(self) -> list[uuid.UUID]:
        return [t.id for t in await self.tenants.list_tenants(limit=100_000) if t.integration_id]

    async def reconcile_job(self, payload: ReconcileTenant, ctx: JobContext) -> None:
        del ctx
        await self.reconcile(uuid.UUID(payload.tenant_id))

    async def reconcile(self, tenant_id: uuid.UUID) -> int:
        """Ingest every OPEN order Kombo has for the tenant and we do not; returns how many."""
        tenant = await self.tenants.get(tenant_id)
        if tenant is None or tenant.integration_id is None:
            return 0
        since = as_datetime(self.clock_ms()) - timedelta(days=self.lookback_days)
        created_after = format_timestamp(since)
        found = 0
        cursor: str | None = None
        while True:
            try:
                page = await self.kombo.list_orders(
                    tenant.integration_id, statuses="OPEN", created_after=created_after, cursor=cursor, page_size=250
                )
            except KomboError as exc:
                raise job_failure(exc, now_ms=self.clock_ms()) from None
            known = await self.orders.known_kombo_ids([o.id for o in page.results])
            for order in page.results:
                if order.id in known:
                    continue
                if not (is_storable_id(order.id) and is_storable_id(order.package_id)):
                    # The webhook refuses such an order at decode time; here one must not stop the others.
                    log.warning("order_id_not_storable", tenant_id=str(tenant_id), id_length=len(order.id))
                    continue
                data = OrderReceivedData(
                    id=order.id,
                    package_id=order.package_id,
                    status=order.status if isinstance(order.status, str) else "OPEN",
                    integration_id=tenant.integration_id,
                    candidate=order.candidate,
                    application=order.application,
                    job=order.job,
                )
                await self.intake.ingest(data, inline=False, source="reconciliation")
                found += 1
            if not page.next:
                break
            cursor = page.next
        if found:
            self.counters.found.inc(found, tenant=str(tenant_id))
            log.info("orders_reconciled", tenant_id=str(tenant_id), found=found)
        return found

    async def reconcile_all(self, payload: ReconcileAll, ctx: JobContext) -> None:
        del payload
        for tenant in await self.tenants.list_tenants(limit=100_000):
            if tenant.integration_id is not None:
                await self.outbox.enqueue(
                    RECONCILE_KIND,
                    ReconcileTenant(tenant_id=str(tenant.id)),
                    now_ms=self.clock_ms(),
                    tenant_id=tenant.id,
                    dedupe_key=f"{RECONCILE_KIND}:{tenant.id}:{ctx.idempotency_key}",
                )
