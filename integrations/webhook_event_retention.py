"""Retention of Kombo's webhook events: ``webhook_event`` rows older than ``ASSESSGATE_WEBHOOK_EVENT_RETENTION_DAYS``
are deleted (hourly job ``webhook_events.purge``).

A row exists to answer a redelivery as the first time, and to show in a tenant's event log; Kombo redelivers
within hours, and orders stay de-duplicated on Kombo's order id after their event is gone.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Final

import msgspec
import structlog

from core.clock import as_datetime
from jobs.kinds import JobContext, JobKind, PeriodicJob, hourly
from storage.database import Database

log = structlog.get_logger()
PURGE_EVENTS_KIND: Final = "webhook_events.purge"


class PurgeWebhookEvents(msgspec.Struct, frozen=True):
    """Empty: the retention comes from the settings."""


class WebhookEventRetention:
    def __init__(self, db: Database, *, retention_days: int, clock_ms: Callable[[], int]) -> None:
        self.db = db
        self.retention = timedelta(days=retention_days)
        self.clock_ms = clock_ms

    def kinds(self) -> tuple[JobKind[PurgeWebhookEvents], PeriodicJob]:
        return hourly(PURGE_EVENTS_KIND, PurgeWebhookEvents, self.run)

    async def run(self, payload: PurgeWebhookEvents, ctx: JobContext) -> None:
        del payload, ctx
        deleted = await self.purge()
        if deleted:
            log.info("webhook_events_purged", events=deleted)

    async def purge(self, *, batch: int = 1000) -> int:
        """Delete the events received before the retention period, a batch per transaction; returns how many."""
        cutoff = as_datetime(self.clock_ms()) - self.retention
        deleted = 0
        while True:
            async with self.db.tx():
                rows = await self.db.fetch(
                    "DELETE FROM webhook_event WHERE event_id IN"
                    " (SELECT event_id FROM webhook_event WHERE received_at < {} LIMIT {}) RETURNING event_id",
                    cutoff,
                    batch,
                )
            deleted += len(rows)
            if len(rows) < batch:
                if deleted:
                    await self.db.scrub()  # no deleted payload left behind in SQLite's write-ahead log
                return deleted
