"""The ``catalog.push`` job: send a tenant's current catalog to Kombo (``PUT /assessment/packages``)."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Final

import msgspec
import structlog

from core.clock import Clock
from core.errors import KomboError
from core.kombo import PutPackagesRequest
from core.ports import KomboApi
from jobs.kinds import JobContext, JobKind
from jobs.outbox import Outbox
from jobs.retry_policy import Outcome, ParkJob, classify, describe, job_failure
from storage.database import Database
from tenants.repository import TenantRepository

if TYPE_CHECKING:
    from tenants.catalogs import Catalogs

log = structlog.get_logger()
PUSH_KIND: Final = "catalog.push"


class PushCatalog(msgspec.Struct, frozen=True, kw_only=True):
    tenant_id: str
    version: int


async def enqueue_push(outbox: Outbox, tenant_id: uuid.UUID, version: int, dedupe_key: str, now_ms: int) -> None:
    """Queue the push of a tenant's catalog version (in the caller's transaction)."""
    await outbox.enqueue(
        PUSH_KIND,
        PushCatalog(tenant_id=str(tenant_id), version=version),
        now_ms=now_ms,
        tenant_id=tenant_id,
        dedupe_key=dedupe_key,
    )


class CatalogPush:
    def __init__(self, db: Database, *, kombo: KomboApi, catalogs: Catalogs, clock_ms: Clock) -> None:
        self.tenants = TenantRepository(db)
        self.kombo = kombo
        self.catalogs = catalogs
        self.clock_ms = clock_ms

    def kind(self) -> JobKind[PushCatalog]:
        return JobKind(PUSH_KIND, PushCatalog, self.run)

    async def run(self, payload: PushCatalog, ctx: JobContext) -> None:
        del ctx
        await self.push(uuid.UUID(payload.tenant_id))

    async def push(self, tenant_id: uuid.UUID) -> None:
        """Push the tenant's current catalog (the job's work; ``assessgate tenants sync-packages`` calls it at once).
        A deleted tenant, or one without a catalog, has nothing to push."""
        tenant = await self.tenants.get(tenant_id)
        if tenant is None:
            return  # deleted meanwhile: nothing to push
        current = await self.catalogs.desired(tenant_id)
        if current is None:
            return
        version, packages = current
        if tenant.integration_id is None:
            raise ParkJob("the tenant has no Kombo integration yet; the push runs once one is bound")
        request = PutPackagesRequest(packages=tuple(p.to_kombo() for p in packages))
        try:
            warnings = await self.kombo.put_packages(tenant.integration_id, request)
        except KomboError as exc:
            await self.catalogs.record_failure(tenant_id, describe(exc), final=classify(exc) == Outcome.DEAD)
            raise job_failure(exc, now_ms=self.clock_ms()) from None
        await self.catalogs.record_pushed(tenant_id, version, packages, warnings)
        log.info("catalog_pushed", version=version, packages=len(packages), warnings=[w.message for w in warnings])
