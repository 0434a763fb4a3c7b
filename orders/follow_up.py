"""What an intake decision leaves behind: the adapter's ``start`` for an accepted order, or a CANCELLED
write-back for a rejection nobody was waiting for (Kombo has no reject endpoint).

Both kinds are enqueued by ``orders/intake.py`` in the order's own transaction and handled here.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any, Final

import msgspec

from core.clock import as_datetime
from core.errors import AssessgateError, KomboError
from core.kombo import ResultBody, ResultStatus, TextAttribute, format_timestamp
from core.ports import KomboApi
from jobs.kinds import JobContext, JobKind
from jobs.retry_policy import describe, job_failure
from jobs.trace_context import span
from orders.adapter_runtime import AdapterRuntime
from orders.store import Orders
from storage.database import Database

START_KIND: Final = "order.start"
CANCEL_KIND: Final = "order.cancel"


class OrderJob(msgspec.Struct, frozen=True):
    order_id: str


class FollowUp:
    def __init__(
        self,
        db: Database,
        *,
        runtime: AdapterRuntime,
        kombo: KomboApi,
        base_url: str,
        clock_ms: Callable[[], int],
    ) -> None:
        self.orders = Orders(db)
        self.runtime = runtime
        self.kombo = kombo
        self.base_url = base_url
        self.clock_ms = clock_ms

    def kinds(self) -> list[JobKind[Any]]:
        return [JobKind(START_KIND, OrderJob, self.start), JobKind(CANCEL_KIND, OrderJob, self.cancel)]

    async def start(self, payload: OrderJob, ctx: JobContext) -> None:
        record = await self.orders.get(uuid.UUID(payload.order_id), tenant_id=None)
        if record is None or record.tenant_id is None or record.state != "accepted" or record.adapter is None:
            return
        adapter = await self.runtime.adapter(record.tenant_id, record.adapter)
        if adapter is None:
            raise AssessgateError(f"adapter {record.adapter!r} is not loaded", retryable=True)
        view, context = await self.runtime.view(record), await self.runtime.context(record, ctx.idempotency_key)
        with span("adapter.start", attributes={"adapter": record.adapter}):
            await adapter.start(view, context)
        await self.orders.add_timeline(record.id, "start.done", {"adapter": record.adapter, "attempt": ctx.attempt})

    async def cancel(self, payload: OrderJob, ctx: JobContext) -> None:
        """Kombo has no reject endpoint: a rejection nobody waited for is written back as CANCELLED."""
        del ctx
        record = await self.orders.get(uuid.UUID(payload.order_id), tenant_id=None)
        if record is None or record.state != "rejected":
            return
        body = ResultBody(
            status=ResultStatus.CANCELLED,
            result_url=f"{self.base_url}/orders/{record.id}",
            completed_at=format_timestamp(as_datetime(self.clock_ms())),
            attributes=(TextAttribute(label="Reason", value=record.rejection_message or "rejected"),),
        )
        try:
            warnings = await self.kombo.put_result(record.integration_id, record.kombo_order_id, body)
        except KomboError as exc:
            await self.orders.add_timeline(record.id, "write_back.failed", {"error": describe(exc)})
            raise job_failure(exc, now_ms=self.clock_ms()) from None
        detail = {"status": "CANCELLED", "warnings": [w.message for w in warnings]}
        await self.orders.add_timeline(record.id, "written_back", detail)
