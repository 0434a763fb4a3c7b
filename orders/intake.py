"""Order intake: one path for every order, whether a webhook brought it, reconciliation found it, or it was
held until its integration was bound.

1. A Kombo order id we know answers as it did the first time and changes nothing.
2. Route by integration to the tenant. No tenant: hold it (200; processed once the integration is bound)
   or reject it, as ``ASSESSGATE_UNROUTED_ORDERS`` says.
3. Look the package up in the tenant's catalog: unknown package, or a candidate without an email, is a
   rejection with a message the recruiter can act on.
4. The adapter ``plugins.toml`` routes the package type to decides, under a deadline (overrun: accepted).
5. The order, its timeline and the follow-up job (the adapter's ``start``, or for a rejection nobody was
   waiting for, a CANCELLED write-back: Kombo has no reject endpoint) commit in one transaction, before
   the answer leaves.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Final

import msgspec
import structlog

from core.adapters import Accept, Decision, Inline, Reject
from core.clock import as_datetime
from core.kombo import OrderReceivedData
from core.metrics import Counter
from core.settings import Settings
from jobs.outbox import NewJob, Outbox
from jobs.trace_context import current_trace_parent, span
from orders.adapter_runtime import AdapterRuntime, order_view
from orders.follow_up import CANCEL_KIND, START_KIND, OrderJob
from orders.store import OrderRecord, Orders
from storage.database import Database
from tenants.catalogs import Catalogs
from tenants.repository import TenantRepository

log = structlog.get_logger()
RECEIVED: Final = {"received": True}
NOT_CONNECTED: Final = (
    "This assessment provider account is not connected to your ATS yet. Ask your administrator to finish "
    "connecting it, then send the assessment again."
)


@dataclass(frozen=True)
class Answer:
    status: int
    body: dict[str, Any]
    #: The tenant the order was routed to, if any (the webhook's own record names it without a second look-up).
    tenant_id: uuid.UUID | None = None


class IntakeCounters:
    def __init__(self) -> None:
        self.orders = Counter("assessgate_orders_received_total", "Orders received, by source and outcome.")
        # Present at 0 from the start, so an alert on its increase sees the first unrouted order too.
        self.orders.inc(0, source="webhook", outcome="unrouted")


class OrderIntake:
    def __init__(
        self,
        db: Database,
        settings: Settings,
        runtime: AdapterRuntime,
        counters: IntakeCounters,
        clock_ms: Callable[[], int],
    ) -> None:
        self.db = db
        self.settings = settings
        self.runtime = runtime
        self.counters = counters
        self.clock_ms = clock_ms
        self.orders = Orders(db, clock_ms=clock_ms)
        self.tenants = TenantRepository(db)
        self.outbox = Outbox(db)
        self.catalogs = Catalogs(db, max_deletion_share=settings.catalog_max_deletion_share)

    def answer_for(self, record: OrderRecord) -> Answer:
        if record.state == "rejected":
            return Answer(422, self.reject_body(record.rejection_message or "rejected"), record.tenant_id)
        if record.inline and record.assessment_url:
            return Answer(200, {"assessment_url": record.assessment_url}, record.tenant_id)
        return Answer(200, RECEIVED, record.tenant_id)

    def reject_body(self, message: str) -> dict[str, Any]:
        if self.settings.reject_body == "error_envelope":
            return {"status": "error", "error": {"message": message}}
        return {"message": message}

    async def ingest(self, data: OrderReceivedData, *, inline: bool, source: str) -> Answer:
        attributes: dict[str, str | bool] = {"kombo.order_id": data.id, "order.source": source, "order.inline": inline}
        with span("order.intake", attributes=attributes) as traced:
            answer = await self._ingest(data, inline=inline, source=source)
            traced.set_attribute("order.answer_status", answer.status)
            return answer

    async def _ingest(self, data: OrderReceivedData, *, inline: bool, source: str) -> Answer:
        # One read transaction: one connection for these lookups (on SQLite, piccolo otherwise opens one per query).
        async with self.db.tx(write=False):
            existing = await self.orders.by_kombo_id(data.id)
            tenant = await self.tenants.by_integration(data.integration_id)
        if existing is not None and not (existing.state == "unrouted" and source == "held"):
            self.counters.orders.inc(source=source, outcome="duplicate")
            return self.answer_for(existing)
        record = OrderRecord(
            id=existing.id if existing else uuid.uuid4(),
            kombo_order_id=data.id,
            tenant_id=tenant.id if tenant else None,
            integration_id=data.integration_id,
            package_id=data.package_id,
            package_type=None,
            inline=inline,
            state="unrouted",
            adapter=None,
            rejection_message=None,
            assessment_url=None,
            source=source,
            order_json=msgspec.json.encode(data).decode(),
            created_at=existing.created_at if existing else as_datetime(self.clock_ms()),
            updated_at=as_datetime(self.clock_ms()),
            trace_parent=existing.trace_parent if existing else current_trace_parent(),
        )
        if tenant is None:
            if self.settings.unrouted_orders == "reject":
                record.state, record.rejection_message = "rejected", NOT_CONNECTED
            return await self._commit(record, existing=existing, job=None, note="no tenant holds this integration")
        entries: list[tuple[str, dict[str, Any]]] = []  # what the adapter noted while deciding
        decision, job, note = await self._decide(record, data, entries, tenant_name=tenant.name)
        if decision is None:  # the adapter is missing: an operator's fix, not the recruiter's problem
            self.counters.orders.inc(source=source, outcome="deferred")
            return Answer(503, {"message": note})
        if isinstance(decision, Reject):
            record.state, record.rejection_message = "rejected", decision.message
            if source != "webhook":
                job = CANCEL_KIND  # nobody was waiting for an answer: tell the ATS through a CANCELLED result
        else:
            record.state = "accepted"
            if isinstance(decision, Inline):
                record.assessment_url = decision.assessment_url
        return await self._commit(record, existing=existing, job=job, note=note, entries=entries)

    async def _decide(
        self,
        record: OrderRecord,
        data: OrderReceivedData,
        entries: list[tuple[str, dict[str, Any]]],
        *,
        tenant_name: str,
    ) -> tuple[Decision | None, str | None, str]:
        assert record.tenant_id is not None
        name, adapter = "", None
        async with self.db.tx(write=False):
            current = await self.catalogs.desired(record.tenant_id)
            package = next((p for p in (current[1] if current else []) if p.id == data.package_id), None)
            if package is not None:
                overrides = await self.tenants.routes(record.tenant_id)
                name = self.runtime.directory.route(package.type.value, inline=record.inline, overrides=overrides)
                adapter = await self.runtime.adapter(record.tenant_id, name)
        if package is None:
            message = (
                f"The package '{data.package_id}' is not offered to {tenant_name or 'this customer'}. "
                "Pick another package, or ask the assessment provider to enable it."
            )
            return Reject(message=message), None, "package not in the tenant's catalog"
        record.package_type = package.type.value
        if not data.candidate.email.strip():
            return (
                Reject(message="The candidate has no email address in the ATS. Add one and send it again."),
                None,
                "no email",
            )
        record.adapter = name
        if adapter is None:
            log.error("adapter_missing", adapter=name, package_type=package.type.value)
            return None, None, f"adapter {name!r} is not loaded; the order stays OPEN at Kombo and is retried"
        unmet = await self.runtime.unmet(record.tenant_id, name, adapter)
        if unmet:  # a candidate must never meet a half-configured adapter: wait, as for a missing one
            log.error("adapter_unconfigured", tenant_id=str(record.tenant_id), adapter=name, unmet=unmet)
            return None, None, f"{'; '.join(unmet)}; the order stays OPEN at Kombo and is retried"
        view = order_view(record, data)
        # The tenant is known here already: the context needs no second look-up on the webhook's path.
        context = await self.runtime.context(
            record, f"decide:{record.id}", timeline_buffer=entries, tenant_name=tenant_name
        )
        deadline = self.settings.decide_deadline_s
        with span("adapter.decide", attributes={"adapter": name}) as traced:
            try:
                decision = await asyncio.wait_for(adapter.decide(view, context), timeout=deadline)
            except TimeoutError:
                traced.set_attribute("adapter.decision", "overran")
                return Accept(), START_KIND, f"{name}.decide overran {deadline}s; accepted"
            traced.set_attribute("adapter.decision", type(decision).__name__.lower())
        return decision, (None if isinstance(decision, Reject) else START_KIND), f"decided by {name}"

    def _start_job(self, job: str, record: OrderRecord) -> NewJob:
        return NewJob(
            kind=job,
            payload=OrderJob(order_id=str(record.id)),
            now_ms=self.clock_ms(),
            tenant_id=record.tenant_id,
            dedupe_key=f"{job}:{record.id}",
        )

    async def _commit(
        self,
        record: OrderRecord,
        *,
        existing: OrderRecord | None,
        job: str | None,
        note: str,
        entries: Sequence[tuple[str, dict[str, Any]]] = (),
    ) -> Answer:
        # Stamped here, in the write, not when the order arrived: the decision may have taken seconds, and the
        # order feed lists changes by this time (a poller's cursor must not have passed it already).
        record.updated_at = as_datetime(self.clock_ms())
        received = [("received", {"source": record.source})] if existing is None else []
        decided = [(record.state, {"note": note, "adapter": record.adapter})]
        timeline = [(record.id, kind, detail) for kind, detail in [*received, *entries, *decided]]
        start = None if job is None else self._start_job(job, record)
        if existing is None and not self.db.is_sqlite:  # one statement, one round trip
            job_sql = None if start is None else self.outbox.insert_statement(start, for_each_row_of="fresh")
            stored = await self.orders.insert_at_once(record, timeline, job_sql)
        else:
            async with self.db.tx():
                stored = True if existing is not None else await self.orders.insert(record)
                if existing is not None:
                    await self.orders.route(record)
                if stored and start is not None:  # the entries and the job: one hop to SQLite's writer
                    await self.outbox.add(start, after=[self.orders.timelines_write(timeline)])
                elif stored:
                    await self.orders.add_timelines(timeline)
        if not stored:  # a concurrent duplicate won the race
            winner = await self.orders.by_kombo_id(record.kombo_order_id)
            assert winner is not None
            return self.answer_for(winner)
        self.counters.orders.inc(source=record.source, outcome=record.state)
        return self.answer_for(record)
