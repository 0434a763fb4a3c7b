"""The hourly ``outbox.purge`` job: finished jobs older than ``ASSESSGATE_JOB_RETENTION_DAYS`` are deleted
(dead jobs stay until an operator retries or discards them)."""

from __future__ import annotations

from typing import Final

import msgspec

from core.clock import Clock
from jobs.kinds import JobContext, JobKind, PeriodicJob, hourly
from jobs.outbox import Outbox
from storage.database import Database

PURGE_KIND: Final = "outbox.purge"


class PurgePayload(msgspec.Struct, frozen=True):
    """Empty: the retention comes from the settings at run time."""


class DonePurge:
    def __init__(self, db: Database, *, retention_days: int, clock_ms: Clock) -> None:
        self.outbox = Outbox(db)
        self.retention_ms = retention_days * 86_400_000
        self.clock_ms = clock_ms

    def kinds(self) -> tuple[JobKind[PurgePayload], PeriodicJob]:
        return hourly(PURGE_KIND, PurgePayload, self.run)

    async def run(self, _payload: PurgePayload, _ctx: JobContext) -> None:
        await self.outbox.purge_done(before_ms=self.clock_ms() - self.retention_ms)
