"""Orders held for an integration no tenant had bound yet (``ASSESSGATE_UNROUTED_ORDERS=hold``): once a binding
is recorded (``integrations/binding.py``), a job takes each one through the intake again."""

from __future__ import annotations

import uuid
from typing import Final

import msgspec

from core.kombo import OrderReceivedData
from jobs.kinds import JobContext, JobKind
from jobs.outbox import Outbox
from orders.intake import OrderIntake
from orders.store import Orders
from storage.database import Database

RELEASE_KIND: Final = "orders.release_held"
_ORDER = msgspec.json.Decoder(OrderReceivedData)


class ReleaseHeld(msgspec.Struct, frozen=True):
    integration_id: str


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


class HeldOrders:
    def __init__(self, db: Database, *, intake: OrderIntake) -> None:
        self.orders = Orders(db)
        self.intake = intake

    def kind(self) -> JobKind[ReleaseHeld]:
        return JobKind(RELEASE_KIND, ReleaseHeld, self.release)

    async def release(self, payload: ReleaseHeld, ctx: JobContext) -> None:
        del ctx
        for record in await self.orders.unrouted(payload.integration_id):
            await self.intake.ingest(_ORDER.decode(record.order_json), inline=record.inline, source="held")
