"""The ``catalog.push`` job: send a tenant's current catalog to Kombo (``PUT /assessment/packages``)."""

from __future__ import annotations

import uuid
from collections.abc import Callable

import structlog

from core.errors import KomboError
from core.kombo import PutPackagesRequest
from core.ports import KomboApi
from jobs.kinds import JobContext, JobKind
from jobs.lifecycle import ParkJob
from jobs.retry_policy import Outcome, classify, describe, job_failure
from storage.database import Database
from tenants.catalogs import PUSH_KIND, Catalogs, PushCatalog
from tenants.repository import TenantRepository

log = structlog.get_logger()


def catalog_push_kind(
    db: Database, kombo: KomboApi, catalogs: Catalogs, clock_ms: Callable[[], int]
) -> JobKind[PushCatalog]:
    tenants = TenantRepository(db)

    async def push(payload: PushCatalog, ctx: JobContext) -> None:
        tenant_id = uuid.UUID(payload.tenant_id)
        tenant = await tenants.get(tenant_id)
        if tenant is None:
            return  # deleted meanwhile: nothing to push
        current = await catalogs.desired(tenant_id)
        if current is None:
            return
        version, packages = current
        if tenant.integration_id is None:
            raise ParkJob("the tenant has no Kombo integration yet; the push runs once one is bound")
        request = PutPackagesRequest(packages=tuple(p.to_kombo() for p in packages))
        try:
            warnings = await kombo.put_packages(tenant.integration_id, request)
        except KomboError as exc:
            await catalogs.record_failure(tenant_id, describe(exc), final=classify(exc) == Outcome.DEAD)
            raise job_failure(exc, now_ms=clock_ms()) from None
        await catalogs.record_pushed(tenant_id, version, packages, warnings)
        log.info("catalog_pushed", version=version, packages=len(packages), warnings=[w.message for w in warnings])

    return JobKind(PUSH_KIND, PushCatalog, push)
