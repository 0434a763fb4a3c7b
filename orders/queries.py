"""The order API's reads: a tenant's orders page by page, its changes feed, one order with its timeline, and
the orders no tenant holds yet. Paging is by the one cursor codec (``core/cursors.py``)."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Final

import msgspec

from core.clock import Clock, as_datetime
from core.cursors import Position, decode_cursor, encode_cursor, page_of
from core.errors import NotFound
from jobs.lifecycle import Job
from jobs.outbox import Outbox
from orders.store import OrderRecord, Orders, ResultRecord, TimelineEntry
from orders.write_back import WRITE_BACK_KIND
from storage.database import Database

#: A change is listed once it is this old, so a transaction still committing an earlier change is not skipped
#: (changes are stamped inside their write transaction, which holds no slow work: a second is ample).
CHANGES_SETTLE: Final = timedelta(seconds=1)


class OrderFilter(msgspec.Struct, frozen=True, kw_only=True):
    """What a tenant's order list is narrowed to (``None``: any)."""

    status: str | None = None
    package_id: str | None = None
    created_from: datetime | None = None
    created_to: datetime | None = None


class OrderWithTimeline(msgspec.Struct, frozen=True, kw_only=True):
    record: OrderRecord
    timeline: list[TimelineEntry]


def created_position(record: OrderRecord) -> Position:
    return Position(record.created_at, record.id)


class OrderQueries:
    def __init__(self, db: Database, clock_ms: Clock) -> None:
        self.orders = Orders(db)
        self.outbox = Outbox(db)
        self.clock_ms = clock_ms

    async def page(
        self, tenant_id: uuid.UUID | None, narrowed: OrderFilter, *, cursor: str | None, limit: int
    ) -> tuple[list[OrderRecord], str | None]:
        """The tenant's orders (``None``: every tenant's, for the operator console), newest first, after the cursor;
        the next page's cursor if more follow."""
        after = decode_cursor(cursor) if cursor else None
        found = await self.orders.list_orders(
            tenant_id,
            state=narrowed.status,
            package_id=narrowed.package_id,
            created_from=narrowed.created_from,
            created_to=narrowed.created_to,
            after=(after.at, after.id) if after else None,
            limit=limit + 1,
        )
        return page_of(found, limit, created_position)

    async def changes(self, tenant_id: uuid.UUID, *, cursor: str | None, limit: int) -> tuple[list[OrderRecord], str]:
        """Orders changed since the cursor, oldest change first, and the cursor to poll with next (always set:
        with nothing new it is the one given back, so a client keeps its place)."""
        after = decode_cursor(cursor) if cursor else None
        until = as_datetime(self.clock_ms()) - CHANGES_SETTLE
        found = await self.orders.changes(
            tenant_id, after=(after.at, after.id) if after else None, until=until, limit=limit
        )
        next_cursor = encode_cursor(Position(found[-1].updated_at, found[-1].id)) if found else (cursor or "")
        return found, next_cursor

    async def detail(self, tenant_id: uuid.UUID, ref: str) -> OrderWithTimeline:
        """One of the tenant's orders (the gateway's id or Kombo's order id) with its timeline."""
        record = await self.orders.resolve(tenant_id, ref)
        return OrderWithTimeline(record=record, timeline=await self.orders.timeline(record.id))

    async def resolve(self, tenant_id: uuid.UUID, ref: str) -> OrderRecord:
        return await self.orders.resolve(tenant_id, ref)

    async def unrouted(self, *, cursor: str | None, limit: int) -> tuple[list[OrderRecord], str | None]:
        """Orders held until their integration is bound, oldest first."""
        after = decode_cursor(cursor) if cursor else None
        found = await self.orders.all_unrouted(after=(after.at, after.id) if after else None, limit=limit + 1)
        return page_of(found, limit, created_position)

    async def open_count(self, tenant_id: uuid.UUID) -> int:
        """How many of the tenant's orders still wait for their result."""
        return await self.orders.open_count(tenant_id)

    async def write_back_job(self, order_id: uuid.UUID) -> Job | None:
        """The write-back job of the order's latest result, if it has one (the console retries it from the order)."""
        return (await self.latest_result_and_job(order_id))[1]

    async def latest_result_and_job(self, order_id: uuid.UUID) -> tuple[ResultRecord | None, Job | None]:
        """The order's latest submitted result (its body as submitted, its write-back's state) and that
        write-back's job."""
        result = await self.orders.latest_result(order_id)
        if result is None:
            return None, None
        return result, await self.outbox.by_dedupe_key(f"{WRITE_BACK_KIND}:{result.id}")

    async def arrived_within(self, window: timedelta) -> dict[str, int]:
        """Orders that arrived in the last ``window``, by status (the console's overview)."""
        return await self.orders.states_since(as_datetime(self.clock_ms()) - window)

    async def count_with_status(self, status: str) -> int:
        """How many orders of every tenant have this status (the console's overview: those needing attention)."""
        return await self.orders.count_in_state(status)

    async def detail_of_any(self, order_id: uuid.UUID) -> OrderWithTimeline:
        """Any tenant's order (or an unrouted one) with its timeline: the operator console's order page."""
        record = await self.orders.get(order_id, tenant_id=None)
        if record is None:
            raise NotFound(f"no order {order_id}")
        return OrderWithTimeline(record=record, timeline=await self.orders.timeline(record.id))
