"""The job kinds this deployment runs: one registry, built here and shared by ``serve`` and ``worker``.

Later features (catalog pushes, adapter starts, result write-backs, reconciliation) add their kinds here.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import msgspec

from core.job_kinds import JobContext, JobKind, JobRegistry, PeriodicJob
from core.settings import Settings
from tenants.db import Database
from tenants.outbox import Outbox
from tenants.worker import wall_clock_ms

PURGE_KIND = "outbox.purge"


class PurgePayload(msgspec.Struct, frozen=True):
    """Empty: the retention comes from the settings at run time."""


def build_registry(settings: Settings, db: Database, extra_kinds: Iterable[JobKind[Any]] = ()) -> JobRegistry:
    outbox = Outbox(db)
    retention_ms = settings.job_retention_days * 86_400_000

    async def purge(_payload: PurgePayload, _ctx: JobContext) -> None:
        await outbox.purge_done(before_ms=wall_clock_ms() - retention_ms)

    registry = JobRegistry([JobKind(PURGE_KIND, PurgePayload, purge), *extra_kinds])
    registry.schedule(PeriodicJob(kind=PURGE_KIND, every_ms=3_600_000, payload=PurgePayload()))
    return registry
