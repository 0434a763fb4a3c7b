"""Reconciliation with Kombo's order list: webhooks are the fast path, not the source of truth.

Every ``ASSESSGATE_RECONCILE_INTERVAL_S`` a job fans out one ``orders.reconcile_batch`` per ``BATCH_SIZE`` bound
tenants; each worker that claims one pages through those tenants' OPEN orders at Kombo a few tenants at a time
and takes any we never saw through the intake (``source`` = ``reconciliation``). A tenant whose Kombo call fails
gets an ``orders.reconcile`` job of its own, which retries alone under the retry policy while the batch finishes.
Batches rather than one job per tenant: with 10,000 tenants a job per tenant made the claims, not Kombo, the
cost (docs/performance.md). ``assessgate orders reconcile`` runs the same per-tenant code now.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Callable
from datetime import timedelta
from typing import Any, Final

import msgspec
import structlog

from core.clock import as_datetime
from core.errors import AssessgateError, KomboError
from core.kombo import OrderReceivedData, format_timestamp
from core.kombo.ids import is_storable_id
from core.metrics import Counter
from core.ports import KomboApi
from core.tenants import Tenant
from jobs.kinds import JobContext, JobKind, PeriodicJob
from jobs.outbox import Outbox
from jobs.retry_policy import job_failure
from orders.intake import OrderIntake
from orders.store import Orders
from storage.database import Database
from tenants.repository import TenantRepository

log = structlog.get_logger()
RECONCILE_KIND: Final = "orders.reconcile"
RECONCILE_BATCH_KIND: Final = "orders.reconcile_batch"
RECONCILE_ALL_KIND: Final = "orders.reconcile_all"
#: Tenants per batch job: small enough that a batch ends well within a lease even when Kombo answers slowly.
BATCH_SIZE: Final = 25
#: Tenants a batch asks Kombo about at once (each has its own integration, so its own rate limit at Kombo). Not
#: more: httpx's pool checks every open connection on each request, so calls in flight cost the worker CPU (two
#: at once used a quarter less than five in the scale benchmark); 4 workers with 4 slots keep 48 calls in flight,
#: 10,000 tenants within a minute at 150 ms a call.
TENANTS_AT_ONCE: Final = 3
#: A tenant that failed within a batch is retried alone after this long (then by the retry policy).
RETRY_ALONE_AFTER_MS: Final = 30_000


class ReconcileTenant(msgspec.Struct, frozen=True):
    tenant_id: str


class ReconcileBatch(msgspec.Struct, frozen=True):
    tenant_ids: list[str]


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
        batch_size: int = BATCH_SIZE,
        tenants_at_once: int = TENANTS_AT_ONCE,
    ) -> None:
        self.db = db
        self.batch_size = batch_size
        self.tenants_at_once = tenants_at_once
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
            JobKind(RECONCILE_BATCH_KIND, ReconcileBatch, self.reconcile_batch),
            JobKind(RECONCILE_ALL_KIND, ReconcileAll, self.reconcile_all),
        ]
        return kinds, [PeriodicJob(kind=RECONCILE_ALL_KIND, every_ms=every_ms, payload=ReconcileAll())]

    async def bound_tenants(self) -> list[uuid.UUID]:
        return [tenant.id async for tenant in self._bound()]

    async def _bound(self) -> AsyncIterator[Tenant]:
        after: uuid.UUID | None = None
        while page := await self.tenants.bound(after=after, limit=1000):
            for tenant in page:
                yield tenant
            after = page[-1].id

    async def reconcile_job(self, payload: ReconcileTenant, ctx: JobContext) -> None:
        del ctx
        await self.reconcile(uuid.UUID(payload.tenant_id))

    async def reconcile(self, tenant_id: uuid.UUID) -> int:
        """Ingest every OPEN order Kombo has for the tenant and we do not; returns how many."""
        tenant = await self.tenants.get(tenant_id)
        if tenant is None:
            return 0
        try:
            return await self._reconcile(tenant)
        except KomboError as exc:
            raise job_failure(exc, now_ms=self.clock_ms()) from None

    async def reconcile_batch(self, payload: ReconcileBatch, ctx: JobContext) -> None:
        """Reconcile a batch's tenants, a few at once; one whose Kombo call fails is left to a job of its own."""
        gate = asyncio.Semaphore(self.tenants_at_once)

        async def one(tenant: Tenant) -> None:
            async with gate:
                try:
                    await self._reconcile(tenant)
                except AssessgateError as exc:  # Kombo, the database, a bad order: this tenant retries alone
                    log.warning("reconcile_tenant_failed", tenant_id=str(tenant.id), error=exc.message)
                    now = self.clock_ms()
                    await self.outbox.enqueue(
                        RECONCILE_KIND,
                        ReconcileTenant(tenant_id=str(tenant.id)),
                        now_ms=now,
                        tenant_id=tenant.id,
                        dedupe_key=f"{RECONCILE_KIND}:{tenant.id}:{ctx.idempotency_key}",
                        run_at_ms=now + RETRY_ALONE_AFTER_MS,
                    )

        tenants = await self.tenants.many([uuid.UUID(t) for t in payload.tenant_ids])
        try:
            async with asyncio.TaskGroup() as group:
                for tenant in tenants:
                    group.create_task(one(tenant))
        except ExceptionGroup as failures:  # not even its own job could be enqueued (the database is down)
            first = next((e for e in failures.exceptions if isinstance(e, AssessgateError)), None)
            if first is None:
                raise
            raise first from None  # the worker then retries the batch as that error says (unavailable: retry)

    async def _reconcile(self, tenant: Tenant) -> int:
        if tenant.integration_id is None:
            return 0
        tenant_id = tenant.id
        since = as_datetime(self.clock_ms()) - timedelta(days=self.lookback_days)
        created_after = format_timestamp(since)
        found = 0
        cursor: str | None = None
        while True:
            page = await self.kombo.list_orders(
                tenant.integration_id, statuses="OPEN", created_after=created_after, cursor=cursor, page_size=250
            )
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
        """Fan out one batch job per ``batch_size`` bound tenants (one transaction per thousand tenants)."""
        del payload
        after: uuid.UUID | None = None
        while page := await self.tenants.bound(after=after, limit=1000):
            async with self.db.tx():
                for start in range(0, len(page), self.batch_size):
                    batch = [str(t.id) for t in page[start : start + self.batch_size]]
                    await self.outbox.enqueue(
                        RECONCILE_BATCH_KIND,
                        ReconcileBatch(tenant_ids=batch),
                        now_ms=self.clock_ms(),
                        dedupe_key=f"{RECONCILE_BATCH_KIND}:{batch[0]}:{ctx.idempotency_key}",
                    )
            after = page[-1].id
