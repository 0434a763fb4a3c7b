"""Retention of candidate data in orders: a finished order's candidate name, email and phone are erased once
``ASSESSGATE_ORDER_PII_RETENTION_DAYS`` have passed since it finished (hourly job ``orders.purge_pii``)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Final

import msgspec
import structlog

from core.clock import as_datetime
from core.kombo import OrderReceivedData
from core.kombo.orders import without_personal_data
from jobs.kinds import JobContext, JobKind, PeriodicJob, hourly
from orders.store import Orders
from storage.database import Database

log = structlog.get_logger()
PURGE_PII_KIND: Final = "orders.purge_pii"
FINISHED: Final = ("completed", "cancelled", "rejected")
_ORDER = msgspec.json.Decoder(OrderReceivedData)


class PurgeOrderPii(msgspec.Struct, frozen=True):
    """Empty: the retention comes from the settings."""


class OrderRetention:
    def __init__(self, db: Database, *, retention_days: int, clock_ms: Callable[[], int]) -> None:
        self.db = db
        self.retention = timedelta(days=retention_days)
        self.clock_ms = clock_ms
        self.orders = Orders(db)

    def kinds(self) -> tuple[JobKind[PurgeOrderPii], PeriodicJob]:
        return hourly(PURGE_PII_KIND, PurgeOrderPii, self.run)

    async def run(self, payload: PurgeOrderPii, ctx: JobContext) -> None:
        del payload, ctx
        erased = await self.purge()
        if erased:
            log.info("order_pii_purged", orders=erased)

    async def purge(self, *, batch: int = 500) -> int:
        """Erase the candidate details of every order finished before the retention period; returns how many."""
        cutoff = as_datetime(self.clock_ms()) - self.retention
        done = 0
        while True:
            async with self.db.tx():
                rows = await self.db.fetch(
                    "SELECT id, order_json FROM assessment_order WHERE state IN ({}, {}, {}) AND updated_at < {}"
                    " AND pii_purged_at IS NULL LIMIT {}",
                    *FINISHED,
                    cutoff,
                    batch,
                )
                for row in rows:
                    order = _ORDER.decode(row["order_json"])
                    erased = msgspec.structs.replace(order, candidate=without_personal_data(order.candidate))
                    await self.db.fetch(
                        # updated_at too: the order feed hands the erasure to platforms that copied the details
                        "UPDATE assessment_order SET order_json = {}, pii_purged_at = {}, updated_at = {}"
                        " WHERE id = {}",
                        msgspec.json.encode(erased).decode(),
                        purged_at := as_datetime(self.clock_ms()),
                        purged_at,
                        row["id"],
                    )
                    await self.orders.add_timeline(row["id"], "pii.purged", {"fields": ["email", "name", "phone"]})
            done += len(rows)
            if len(rows) < batch:
                if done:
                    await self.db.scrub()  # no erased detail left behind in SQLite's write-ahead log
                return done
