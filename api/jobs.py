"""The job kinds this deployment runs: one registry, built here and shared by ``serve`` and ``worker``."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import msgspec

from api.services import OrderServices, order_services
from core.ports import KomboApi
from core.settings import Settings
from jobs.kinds import JobContext, JobKind, JobRegistry, PeriodicJob
from jobs.outbox import Outbox
from jobs.worker import wall_clock_ms
from orders.result_submission import Results
from orders.retention import OrderRetention
from storage.database import Database
from tenants.catalog_push import catalog_push_kind
from tenants.catalogs import Catalogs

PURGE_KIND = "outbox.purge"


class PurgePayload(msgspec.Struct, frozen=True):
    """Empty: the retention comes from the settings at run time."""


def build_registry(
    settings: Settings,
    db: Database,
    kombo: KomboApi,
    extra_kinds: Iterable[JobKind[Any]] = (),
    *,
    clock: Callable[[], int] = wall_clock_ms,
    services: OrderServices | None = None,
) -> JobRegistry:
    outbox = Outbox(db)
    retention_ms = settings.job_retention_days * 86_400_000

    async def purge(_payload: PurgePayload, _ctx: JobContext) -> None:
        await outbox.purge_done(before_ms=clock() - retention_ms)

    catalogs = Catalogs(db, max_deletion_share=settings.catalog_max_deletion_share)
    if services is None:
        services = order_services(settings, db, kombo, clock)
    order_kinds, order_periodic = services.jobs.kinds(reconcile_every_ms=settings.reconcile_interval_s * 1000)
    adapter_kinds, adapter_periodic = services.runtime.kinds()
    pii_kind, pii_periodic = OrderRetention(
        db, retention_days=settings.order_pii_retention_days, clock_ms=clock
    ).kinds()
    return JobRegistry(
        [
            JobKind(PURGE_KIND, PurgePayload, purge),
            catalog_push_kind(db, kombo, catalogs, clock),
            Results(db, settings, clock).kind(kombo),
            *order_kinds,
            *adapter_kinds,
            pii_kind,
            *extra_kinds,
        ],
        [
            PeriodicJob(kind=PURGE_KIND, every_ms=3_600_000, payload=PurgePayload()),
            *order_periodic,
            *adapter_periodic,
            pii_periodic,
        ],
    )
