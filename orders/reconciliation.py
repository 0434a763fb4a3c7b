"""The order jobs: start the adapter, write back a CANCELLED for late rejections, process held orders, and
reconcile with Kombo's order list (webhooks are the fast path, not the source of truth)."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any, Final

import msgspec
import structlog

from core.errors import AssessgateError, KomboError
from core.kombo import OrderReceivedData, ResultBody, ResultStatus, TextAttribute, format_timestamp
from core.kombo.ids import is_storable_id
from core.metrics import Counter
from core.ports import KomboApi
from jobs.kinds import JobContext, JobKind, PeriodicJob
from jobs.outbox import Outbox
from jobs.retry_policy import describe, job_failure
from orders.intake import CANCEL_KIND, START_KIND, OrderIntake, OrderJob
from orders.store import Orders
from storage.database import Database
from tenants.repository import TenantRepository

log = structlog.get_logger()
RELEASE_KIND: Final = "orders.release_held"
RECONCILE_KIND: Final = "orders.reconcile"
RECONCILE_ALL_KIND: Final = "orders.reconcile_all"
_ORDER = msgspec.json.Decoder(OrderReceivedData)


class ReleaseHeld(msgspec.Struct, frozen=True):
    integration_id: str


class ReconcileTenant(msgspec.Struct, frozen=True):
    tenant_id: str


class ReconcileAll(msgspec.Struct, frozen=True):
    """Empty: every bound tenant."""


class ReconcileCounters:
    def __init__(self) -> None:
        self.found = Counter("assessgate_reconciled_orders_total", "Orders reconciliation found missing, by tenant.")


async def after_binding(outbox: Outbox, tenant_id: uuid.UUID, integration_id: str, now_ms: int) -> None:
    """A tenant just got its integration: release what waited for it and process orders held for it."""
    await outbox.release_parked(tenant_id=tenant_id, now_ms=now_ms)
    await outbox.enqueue(
        RELEASE_KIND,
        ReleaseHeld(integration_id=integration_id),
        now_ms=now_ms,
        tenant_id=tenant_id,
        dedupe_key=f"{RELEASE_KIND}:{integration_id}:{now_ms}",
    )


class OrderJobs:
    def __init__(
        self,
        db: Database,
        *,
        intake: OrderIntake,
        kombo: KomboApi,
        counters: ReconcileCounters,
        clock_ms: Callable[[], int],
    ) -> None:
        self.db = db
        self.intake = intake
        self.kombo = kombo
        self.counters = counters
        self.clock_ms = clock_ms
        self.orders = Orders(db)
        self.tenants = TenantRepository(db)
        self.outbox = Outbox(db)

    def kinds(self, *, reconcile_every_ms: int) -> tuple[list[JobKind[Any]], list[PeriodicJob]]:
        kinds: list[JobKind[Any]] = [
            JobKind(START_KIND, OrderJob, self.start),
            JobKind(CANCEL_KIND, OrderJob, self.cancel),
            JobKind(RELEASE_KIND, ReleaseHeld, self.release_held),
            JobKind(RECONCILE_KIND, ReconcileTenant, self.reconcile_job),
            JobKind(RECONCILE_ALL_KIND, ReconcileAll, self.reconcile_all),
        ]
        return kinds, [PeriodicJob(kind=RECONCILE_ALL_KIND, every_ms=reconcile_every_ms, payload=ReconcileAll())]

    async def start(self, payload: OrderJob, ctx: JobContext) -> None:
        record = await self.orders.get(uuid.UUID(payload.order_id), tenant_id=None)
        if record is None or record.tenant_id is None or record.state != "accepted" or record.adapter is None:
            return
        runtime = self.intake.runtime
        adapter = await runtime.adapter(record.tenant_id, record.adapter)
        if adapter is None:
            raise AssessgateError(f"adapter {record.adapter!r} is not loaded", retryable=True)
        await adapter.start(await runtime.view(record), runtime.context(record, ctx.idempotency_key))
        await self.orders.add_timeline(record.id, "start.done", {"adapter": record.adapter, "attempt": ctx.attempt})

    async def cancel(self, payload: OrderJob, ctx: JobContext) -> None:
        """Kombo has no reject endpoint: a rejection nobody waited for is written back as CANCELLED."""
        del ctx
        record = await self.orders.get(uuid.UUID(payload.order_id), tenant_id=None)
        if record is None or record.state != "rejected":
            return
        body = ResultBody(
            status=ResultStatus.CANCELLED,
            result_url=f"{self.intake.settings.base_url}/orders/{record.id}",
            completed_at=format_timestamp(datetime.now(UTC)),
            attributes=(TextAttribute(label="Reason", value=record.rejection_message or "rejected"),),
        )
        try:
            warnings = await self.kombo.put_result(record.integration_id, record.kombo_order_id, body)
        except KomboError as exc:
            await self.orders.add_timeline(record.id, "write_back.failed", {"error": describe(exc)})
            raise job_failure(exc, now_ms=self.clock_ms()) from None
        detail = {"status": "CANCELLED", "warnings": [w.message for w in warnings]}
        await self.orders.add_timeline(record.id, "written_back", detail)

    async def release_held(self, payload: ReleaseHeld, ctx: JobContext) -> None:
        del ctx
        for record in await self.orders.unrouted(payload.integration_id):
            await self.intake.ingest(_ORDER.decode(record.order_json), inline=record.inline, source="held")

    async def reconcile_job(self, payload: ReconcileTenant, ctx: JobContext) -> None:
        del ctx
        await self.reconcile(uuid.UUID(payload.tenant_id))

    async def reconcile(self, tenant_id: uuid.UUID) -> int:
        """Ingest every OPEN order Kombo has for the tenant and we do not; returns how many."""
        tenant = await self.tenants.get(tenant_id)
        if tenant is None or tenant.integration_id is None:
            return 0
        since = datetime.now(UTC) - timedelta(days=self.intake.settings.reconcile_lookback_days)
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
