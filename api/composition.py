"""The composition root: every long-lived object of a process, built once from its settings.

``serve`` (``api/app.py``), ``worker``, every CLI command and the tests build a :class:`Gateway` here and
nowhere else: the database, the Kombo client, the adapters and their runtime, the services routes and
commands call (intake, binding, results, catalogs, tenant administration, API keys, order queries, job
operations, ...) and the registry of job kinds. Settings are passed in; the clock is injected (a test's clock
moves time for every part at once). Nothing else under ``api/`` runs SQL or builds a repository
(``tests/unit/test_api_layer.py`` scans for it).
"""

from __future__ import annotations

import os
import socket
from collections.abc import AsyncIterator, Callable, Iterable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import msgspec

from adapters.http import HttpxClient, tls_context
from adapters.http_exchange import AiohttpExchange
from adapters.kombo_client import KomboClient
from adapters.mail import mailer_for
from api.adapter_check import AdapterCheck
from api.plugins import Adapters, load_adapters, load_plugins_file
from core.clock import Clock, wall_clock_ms
from core.metrics import WorkerMetrics
from core.ports import KomboApi
from core.settings import Settings
from integrations.binding import IntegrationBinding
from integrations.customer_onboarding import CustomerOnboarding
from integrations.webhook_event_retention import WebhookEventRetention
from integrations.webhook_events import IntakeMetrics, WebhookEvents
from jobs.kinds import JobKind, JobRegistry
from jobs.operations import JobOperations
from jobs.purge import DonePurge
from jobs.worker import Worker
from orders.adapter_runtime import AdapterRuntime, AdapterServices
from orders.adapter_setup import AdapterSetup
from orders.follow_up import FollowUp
from orders.held_orders import HeldOrders
from orders.intake import IntakeCounters, OrderIntake
from orders.queries import OrderQueries
from orders.reconciliation import ReconcileCounters, Reconciliation
from orders.result_submission import Results
from orders.result_uploads import Uploads
from orders.retention import OrderRetention
from orders.write_back import WriteBacks
from storage.database import Database
from storage.sandbox_snapshot import DatabaseSandboxStore
from tenants.administration import TenantAdministration
from tenants.catalog_administration import CatalogAdministration
from tenants.catalog_push import CatalogPush
from tenants.catalogs import Catalogs
from tenants.keys import ApiKeys
from tenants.onboarding_links import OnboardingLinks
from tenants.provisioning import TenantProvisioning
from tenants.vault import Vault

ExtraJobKinds = Callable[[Database], Iterable[JobKind[Any]]]


def default_process_name() -> str:
    """Host and process id: what tells replicas and workers apart in metrics (``assessgate_process_info``)."""
    return f"{socket.gethostname()}:{os.getpid()}"


def new_kombo_http() -> AiohttpExchange:
    """Kombo's connection pool (aiohttp: ``adapters/http_exchange.py`` says why not httpx)."""
    return AiohttpExchange(tls=tls_context(), default_headers={"User-Agent": "assessgate"})


@dataclass(kw_only=True)
class Gateway:
    settings: Settings
    clock: Clock
    db: Database
    kombo: KomboApi
    adapters: Adapters
    runtime: AdapterRuntime
    adapter_check: AdapterCheck
    catalogs: Catalogs
    catalog_push: CatalogPush
    binding: IntegrationBinding
    intake: OrderIntake
    webhook_events: WebhookEvents
    reconciliation: Reconciliation
    results: Results
    uploads: Uploads
    registry: JobRegistry
    intake_metrics: IntakeMetrics
    #: The services routes and commands call (``api/`` builds no repository and runs no SQL of its own).
    administration: TenantAdministration
    api_keys: ApiKeys
    catalog_administration: CatalogAdministration
    adapter_setup: AdapterSetup
    provisioning: TenantProvisioning
    orders: OrderQueries
    jobs: JobOperations
    #: Onboarding links (``onboarding.links``: issued by operators) and the customer's page they open.
    onboarding: CustomerOnboarding
    #: Where the sandbox keeps its state in sandbox mode (``api/app.py`` mounts the sandbox).
    sandbox_store: DatabaseSandboxStore
    worker_metrics: WorkerMetrics = field(default_factory=WorkerMetrics)
    process_name: str = field(default_factory=default_process_name)
    #: What this gateway opened and closes (a database or Kombo client handed in is the caller's to close).
    owns_db: bool = True
    kombo_http: AiohttpExchange | None = None
    adapter_http: HttpxClient | None = None

    def worker(self, *, concurrency: int, name: str | None = None) -> Worker:
        return Worker(
            self.db,
            self.registry,
            concurrency=concurrency,
            tenant_concurrency=self.settings.worker_tenant_concurrency,
            batch_size=self.settings.worker_batch_size,
            batch_linger_s=self.settings.worker_batch_linger_ms / 1000,
            lease_ms=self.settings.worker_lease_s * 1000,
            clock=self.clock,
            name=name,
            metrics=self.worker_metrics,
        )

    async def start(self) -> None:
        """Open what the gateway owns (the database; Kombo's pool opens at its first call, again after a stop)."""
        if self.owns_db:
            await self.db.start()

    async def close(self) -> None:
        if self.kombo_http is not None:
            await self.kombo_http.aclose()
        if self.adapter_http is not None:
            await self.adapter_http.aclose()
        if self.owns_db:
            await self.db.close()


@dataclass(kw_only=True)
class _OrderLifecycle:
    """The order lifecycle's parts, wired: what :func:`build_gateway` hands on to the gateway and the registry."""

    runtime: AdapterRuntime
    adapter_http: HttpxClient
    intake: OrderIntake
    intake_metrics: IntakeMetrics
    reconciliation: Reconciliation
    uploads: Uploads
    write_backs: WriteBacks
    follow_up: FollowUp
    queries: OrderQueries


def _order_lifecycle(
    settings: Settings, db: Database, kombo: KomboApi, adapters: Adapters, clock: Clock
) -> _OrderLifecycle:
    adapter_http = HttpxClient(settings.outbound_policy())
    mailer = mailer_for(settings.mail, development=settings.env == "development", data_dir=settings.data_dir)
    runtime = AdapterRuntime(db, settings, adapters, AdapterServices(mailer=mailer, http=adapter_http), clock)
    intake_counters, reconcile_counters = IntakeCounters(), ReconcileCounters()
    intake = OrderIntake(db, settings, runtime, intake_counters, clock)
    uploads = Uploads(
        db,
        secret_key=settings.secret_keys[0] if settings.secret_keys else "",
        base_url=settings.base_url,
        url_ttl_s=settings.attachment_url_ttl_s,
        clock_ms=clock,
        retention_days=settings.attachment_retention_days,
    )
    return _OrderLifecycle(
        runtime=runtime,
        adapter_http=adapter_http,
        intake=intake,
        intake_metrics=IntakeMetrics(intake_counters, reconcile_counters),
        reconciliation=Reconciliation(
            db,
            intake=intake,
            kombo=kombo,
            counters=reconcile_counters,
            lookback_days=settings.reconcile_lookback_days,
            clock_ms=clock,
        ),
        uploads=uploads,
        write_backs=WriteBacks(db, kombo=kombo, uploads=uploads, attachments=settings.attachments, clock_ms=clock),
        follow_up=FollowUp(db, runtime=runtime, kombo=kombo, base_url=settings.base_url, clock_ms=clock),
        queries=OrderQueries(db, clock),
    )


def _registry(
    settings: Settings,
    db: Database,
    *,
    clock: Clock,
    orders: _OrderLifecycle,
    catalog_push: CatalogPush,
    extra: Iterable[JobKind[Any]],
) -> JobRegistry:
    """Every job kind this deployment runs, each declared beside its handler and listed here once."""
    reconcile_kinds, reconcile_periodic = orders.reconciliation.kinds(every_ms=settings.reconcile_interval_s * 1000)
    adapter_kinds, adapter_periodic = orders.runtime.kinds()
    retention_kind, retention_periodic = OrderRetention(
        db, retention_days=settings.order_pii_retention_days, clock_ms=clock
    ).kinds()
    purge_kind, purge_periodic = DonePurge(db, retention_days=settings.job_retention_days, clock_ms=clock).kinds()
    events_kind, events_periodic = WebhookEventRetention(
        db, retention_days=settings.webhook_event_retention_days, clock_ms=clock
    ).kinds()
    uploads_kind, uploads_periodic = orders.uploads.kinds()
    return JobRegistry(
        [
            purge_kind,
            catalog_push.kind(),
            orders.write_backs.kind(),
            *orders.follow_up.kinds(),
            HeldOrders(db, intake=orders.intake).kind(),
            *reconcile_kinds,
            *adapter_kinds,
            retention_kind,
            events_kind,
            uploads_kind,
            *extra,
        ],
        [
            purge_periodic,
            *reconcile_periodic,
            *adapter_periodic,
            retention_periodic,
            events_periodic,
            uploads_periodic,
        ],
    )


def _onboarding(settings: Settings, db: Database, binding: IntegrationBinding, clock: Clock) -> CustomerOnboarding:
    links = OnboardingLinks(
        db,
        secret_keys=settings.secret_keys,
        base_url=settings.base_url,
        ttl_days=settings.onboarding_link_ttl_days,
        clock_ms=clock,
    )
    return CustomerOnboarding(links, binding)


def build_gateway(
    settings: Settings,
    *,
    db: Database | None = None,
    kombo: KomboApi | None = None,
    adapters: Adapters | None = None,
    clock: Clock = wall_clock_ms,
    extra_job_kinds: ExtraJobKinds | None = None,
) -> Gateway:
    """Wire a gateway; ``db``, ``kombo`` and ``adapters`` may be handed in (tests, embedding applications)."""
    owns_db = db is None
    db = db or Database(settings.database)
    kombo_http = None
    if kombo is None:
        kombo_http = new_kombo_http()
        kombo = KomboClient(kombo_http, base_url=settings.kombo.api_url, api_key=settings.kombo.api_key)
    if adapters is None:
        adapters = load_adapters(load_plugins_file(settings.plugins_file), settings.adapters)
    orders = _order_lifecycle(settings, db, kombo, adapters, clock)
    catalogs = Catalogs(db, max_deletion_share=settings.catalog_max_deletion_share, clock_ms=clock)
    catalog_push = CatalogPush(db, kombo=kombo, catalogs=catalogs, clock_ms=clock)
    administration = TenantAdministration(db, secret_keys=settings.secret_keys, open_orders=orders.queries.open_count)
    extra = extra_job_kinds(db) if extra_job_kinds else ()
    binding = IntegrationBinding(db, kombo, clock)
    return Gateway(
        settings=settings,
        clock=clock,
        db=db,
        kombo=kombo,
        adapters=adapters,
        runtime=orders.runtime,
        adapter_check=AdapterCheck(orders.runtime, clock_ms=clock),
        catalogs=catalogs,
        catalog_push=catalog_push,
        binding=binding,
        intake=orders.intake,
        webhook_events=WebhookEvents(db, orders.intake_metrics, clock, orders=orders.intake),
        reconciliation=orders.reconciliation,
        results=Results(db, settings.results, clock),
        uploads=orders.uploads,
        registry=_registry(settings, db, clock=clock, orders=orders, catalog_push=catalog_push, extra=extra),
        intake_metrics=orders.intake_metrics,
        administration=administration,
        api_keys=ApiKeys(db),
        catalog_administration=CatalogAdministration(db, catalogs),
        adapter_setup=AdapterSetup(adapters, orders.runtime, administration),
        provisioning=TenantProvisioning(db, secret_keys=settings.secret_keys, catalogs=catalogs),
        orders=orders.queries,
        jobs=JobOperations(db, clock),
        onboarding=_onboarding(settings, db, binding, clock),
        sandbox_store=DatabaseSandboxStore(db),
        owns_db=owns_db,
        kombo_http=kombo_http,
        adapter_http=orders.adapter_http,
    )


def worker_process_settings(settings: Settings) -> Settings:
    """A worker process's settings: its connections keep one generic plan a statement (``generic_plans``: planned once
    a connection, again only when invalidated). PostgreSQL chose to plan the claim, a worker's busiest statement,
    afresh at every execution: 0.56 ms of planning on top of 0.81 ms of execution a claim, against 0.51 ms of
    execution with its generic plan (pg_stat_statements over the write-back benchmark). A worker's other statements
    are keyed reads and writes, and the purges' and pages' range and LIMIT statements on indexed columns, whose
    generic plans are no worse (spot-checked). The API's connections keep PostgreSQL's default: a list's best plan
    may follow its parameters."""
    return msgspec.structs.replace(settings, database=msgspec.structs.replace(settings.database, generic_plans=True))


@asynccontextmanager
async def open_gateway(settings: Settings, **overrides: Any) -> AsyncIterator[Gateway]:
    """A started gateway for a command or a test, closed at the end (``overrides``: see :func:`build_gateway`)."""
    gateway = build_gateway(settings, **overrides)
    await gateway.start()
    try:
        yield gateway
    finally:
        await gateway.close()


@asynccontextmanager
async def open_job_operations(settings: Settings) -> AsyncIterator[JobOperations]:
    """The operators' outbox operations over the database alone (``assessgate jobs``: whatever the adapters' state)."""
    async with open_database(settings) as db:
        yield JobOperations(db, wall_clock_ms)


@asynccontextmanager
async def open_vault(settings: Settings) -> AsyncIterator[Vault]:
    """The tenant secrets' vault over the database alone (``assessgate keys rotate``)."""
    async with open_database(settings) as db:
        yield Vault(db, settings.secret_keys)


@asynccontextmanager
async def open_database(settings: Settings) -> AsyncIterator[Database]:
    """Only the database, started and closed: for commands that must work whatever the adapters' state
    (``migrate`` before anything else exists, ``jobs``, ``keys rotate``)."""
    db = Database(settings.database)
    await db.start()
    try:
        yield db
    finally:
        await db.close()
