"""Kombo's webhook events, once verified and parsed: de-duplicated, routed to a tenant, acted on, logged.

Every event is recorded in ``webhook_event`` (by Kombo's event id) with the answer we gave, in the same
transaction as its effects; a redelivered event gets exactly that answer again and changes nothing.
Integration events bind, unbind and update the tenant their ``end_user.origin_id`` (our tenant id) or
integration id names. Order events go to the order intake (``orders/intake.py``), which
de-duplicates on Kombo's order id as well; an answer of 503 (nothing decided) is not recorded, so a
redelivery is processed afresh.
"""

from __future__ import annotations

import hashlib
import time
import uuid
from collections.abc import Callable
from datetime import datetime
from typing import Any, Final

import msgspec
import structlog

from core.clock import stamp
from core.cursors import Position, decode_cursor, page_of
from core.errors import Conflict
from core.kombo import (
    AssessmentOrderReceived,
    ConnectionFlowFailed,
    InlineAssessmentOrderReceived,
    IntegrationCreated,
    IntegrationDeleted,
    IntegrationStateChanged,
    UnknownEvent,
    WebhookEvent,
)
from core.kombo.vocabulary import IntegrationState
from core.metrics import Counter, Histogram
from core.tenants import Tenant
from integrations.binding import record_binding
from jobs.outbox import Outbox
from orders.intake import RECEIVED, Answer, IntakeCounters, OrderIntake
from orders.reconciliation import ReconcileCounters
from storage.database import Database
from tenants.repository import TenantRepository

log = structlog.get_logger()
_NO_ID: Final = uuid.UUID(int=0)


class IntakeMetrics:
    def __init__(self, orders: IntakeCounters, reconcile: ReconcileCounters) -> None:
        self.webhooks = Counter("assessgate_webhooks_total", "Kombo webhooks by outcome and event type.")
        #: Kombo's ATSs give up on an order after 15-30 s (contract 3.9): the upper buckets say how close we came.
        self.answer_seconds = Histogram(
            "assessgate_webhook_answer_seconds",
            "Time from a verified, parsed Kombo webhook to our answer (the order's decision included).",
            (0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 15, 30),
        )
        # Present at 0 from the start, so an alert on its increase sees the first bad signature too.
        self.webhooks.inc(0, outcome="bad_signature", type="unknown")
        self.orders = orders
        self.reconcile = reconcile

    def families(self) -> list[Counter | Histogram]:
        return [self.webhooks, self.answer_seconds, self.orders.orders, self.reconcile.found]


class Delivery(msgspec.Struct, frozen=True, kw_only=True):
    """One webhook Kombo delivered, and what we answered (the operator console's webhooks page)."""

    event_id: str
    type: str
    tenant_id: uuid.UUID | None
    integration_id: str | None
    received_at: datetime
    response_status: int
    note: str | None


class WebhookEvents:
    def __init__(
        self, db: Database, metrics: IntakeMetrics, clock_ms: Callable[[], int], *, orders: OrderIntake
    ) -> None:
        self.orders = orders
        self.db = db
        self.tenants = TenantRepository(db)
        self.outbox = Outbox(db)
        self.metrics = metrics
        self.clock_ms = clock_ms

    async def recent(self, *, cursor: str | None, limit: int) -> tuple[list[Delivery], str | None]:
        """Every tenant's webhooks, newest first, after the cursor. Events are stamped uniquely as they are
        recorded (``core.clock.stamp``), so the time alone is the position (the cursor's id is unused)."""
        after = decode_cursor(cursor) if cursor else None
        clause, args = ("", []) if after is None else (" WHERE received_at < {}", [after.at])
        rows = await self.db.fetch(
            "SELECT event_id, type, tenant_id, integration_id, received_at, response_status, note FROM webhook_event"
            f"{clause} ORDER BY received_at DESC, event_id DESC LIMIT {{}}",
            *args,
            limit + 1,
        )
        found = [msgspec.convert(row, Delivery) for row in rows]
        return page_of(found, limit, lambda d: Position(d.received_at, _NO_ID))

    async def handle(self, event: WebhookEvent, raw: bytes) -> Answer:
        started = time.perf_counter()
        try:
            return await self._handle(event, raw)
        finally:
            self.metrics.answer_seconds.observe(time.perf_counter() - started)

    async def _handle(self, event: WebhookEvent, raw: bytes) -> Answer:
        event_type = event.type if isinstance(event, UnknownEvent) else type(event).__struct_config__.tag
        if isinstance(event, AssessmentOrderReceived | InlineAssessmentOrderReceived):
            return await self._order(event, raw, str(event_type))
        async with self.db.tx():
            replayed = await self._replay(event.id, str(event_type))
            if replayed is not None:
                return replayed
            tenant_id, integration_id, note, data = await self._apply(event)
            answer = Answer(200, RECEIVED)
            await self._record(event.id, str(event_type), raw, answer, tenant_id, integration_id, note, data)
        self.metrics.webhooks.inc(outcome="processed", type=str(event_type))
        log.info("webhook_processed", event_type=event_type, tenant_id=str(tenant_id) if tenant_id else None, note=note)
        return answer

    async def _order(
        self, event: AssessmentOrderReceived | InlineAssessmentOrderReceived, raw: bytes, event_type: str
    ) -> Answer:
        replayed = await self._replay(event.id, event_type)
        if replayed is not None:
            return replayed
        inline = isinstance(event, InlineAssessmentOrderReceived)
        answer = await self.orders.ingest(event.data, inline=inline, source="webhook")
        if answer.status < 500:  # noqa: PLR2004 - a 503 decided nothing: let a redelivery try again
            await self._record(
                event.id,
                event_type,
                raw,
                answer,
                answer.tenant_id,
                event.data.integration_id,
                f"order {event.data.id}",
                None,
            )
        self.metrics.webhooks.inc(outcome=f"answered_{answer.status}", type=event_type)
        return answer

    async def _replay(self, event_id: str, event_type: str) -> Answer | None:
        """The answer given the first time this event arrived, if it did."""
        stored = await self.db.fetch(
            "SELECT response_status, response_body FROM webhook_event WHERE event_id = {}", event_id
        )
        if not stored:
            return None
        self.metrics.webhooks.inc(outcome="duplicate", type=event_type)
        return Answer(int(stored[0]["response_status"]), msgspec.json.decode(stored[0]["response_body"]))

    async def _record(  # noqa: PLR0917 - one column each
        self,
        event_id: str,
        event_type: str,
        raw: bytes,
        answer: Answer,
        tenant_id: uuid.UUID | None,
        integration_id: str | None,
        note: str | None,
        data: str | None,
    ) -> None:
        """Keep the event and our answer, so a redelivery gets the same one (the first record wins)."""
        await self.db.write(
            "INSERT INTO webhook_event (event_id, type, tenant_id, integration_id, received_at, body_sha256,"
            " response_status, response_body, note, data) VALUES ({}, {}, {}, {}, {}, {}, {}, {}, {}, {})"
            " ON CONFLICT (event_id) DO NOTHING",
            event_id,
            event_type,
            tenant_id,
            integration_id,
            stamp(self.clock_ms()),
            hashlib.sha256(raw).hexdigest(),
            answer.status,
            msgspec.json.encode(answer.body).decode(),
            note,
            data,
        )

    async def _apply(self, event: WebhookEvent) -> tuple[uuid.UUID | None, str | None, str | None, str | None]:
        """The event's effect: (tenant, integration, a note for the event log, raw data worth keeping)."""
        if isinstance(event, IntegrationCreated):
            return await self._created(event)
        if isinstance(event, IntegrationDeleted):
            tenant = await self.tenants.unbind_integration(event.data.id)
            note = "integration unbound" if tenant else "no tenant held this integration"
            return (tenant.id if tenant else None), event.data.id, note, None
        if isinstance(event, IntegrationStateChanged):
            return await self._state_changed(event)
        if isinstance(event, ConnectionFlowFailed):
            origin = await self._origin_tenant(event.data.end_user)
            data = msgspec.json.encode(event.data).decode()
            return (origin.id if origin else None), None, "the customer's connection flow failed", data
        if isinstance(event, UnknownEvent):
            return None, None, f"event type {event.type!r} is not handled", bytes(event.data).decode("utf-8", "replace")
        return None, None, None, None

    async def _created(self, event: IntegrationCreated) -> tuple[uuid.UUID | None, str | None, str | None, str | None]:
        integration_id = event.data.id
        tenant = await self._origin_tenant(event.data.end_user)
        if tenant is None:
            return None, integration_id, "no tenant matches end_user.origin_id; bind it with the tenant API", None
        if tenant.integration_id not in (None, integration_id):
            return tenant.id, integration_id, "the tenant is bound to another integration; left as it was", None
        try:  # record_binding refuses an integration another tenant holds, before it writes anything
            await record_binding(
                self.db, tenant.id, integration_id, IntegrationState.ACTIVE, actor=None, now_ms=self.clock_ms()
            )
        except Conflict:
            return tenant.id, integration_id, "the integration is bound to another tenant; left as it was", None
        return tenant.id, integration_id, "integration bound", None

    async def _state_changed(
        self, event: IntegrationStateChanged
    ) -> tuple[uuid.UUID | None, str | None, str | None, str | None]:
        integration_id = event.data.integration_id
        tenant = await self.tenants.set_integration_state(integration_id, event.data.state)
        if tenant is None:
            return None, integration_id, "no tenant holds this integration", None
        note = f"integration {event.data.state}"
        if event.data.state == IntegrationState.ACTIVE:
            released = await self.outbox.release_parked(tenant_id=tenant.id, now_ms=self.clock_ms())
            note += f"; {released} parked job(s) released"
        return tenant.id, integration_id, note, None

    async def _origin_tenant(self, end_user: Any) -> Tenant | None:
        origin = getattr(end_user, "origin_id", None)
        if not isinstance(origin, str):
            return None
        try:
            tenant_id = uuid.UUID(origin)
        except ValueError:
            return None
        return await self.tenants.get(tenant_id)
